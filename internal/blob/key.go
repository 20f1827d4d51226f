package blob

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// SigningKeySize is the size of a URL signing key made by [LoadOrCreateKey].
const SigningKeySize = 32

// LoadOrCreateKey returns the URL signing key kept in the file at path. If
// there is no such file, it creates one (exclusively, mode 0600) holding
// [SigningKeySize] random bytes. An existing file must be a regular file of
// exactly SigningKeySize bytes that neither group nor others can read or
// write; otherwise LoadOrCreateKey refuses it with an error saying why.
//
// Replacing the key invalidates every outstanding Location URL.
func LoadOrCreateKey(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return createKey(f, path)
	case errors.Is(err, fs.ErrExist):
		return readKey(path)
	default:
		return nil, fmt.Errorf("blob: creating the URL signing key file: %w", err)
	}
}

func createKey(f *os.File, path string) ([]byte, error) {
	key := make([]byte, SigningKeySize)
	_, _ = rand.Read(key) // never fails
	_, err := f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("blob: writing the URL signing key file: %w", err)
	}
	return key, nil
}

func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("blob: reading the URL signing key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("blob: reading the URL signing key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("blob: the URL signing key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("blob: the URL signing key file %s has mode %#o, so other users can read or change it; "+
			"run chmod 600 on it (and, if it may have been read, delete it to make a new key)", path, perm)
	}
	key, err := io.ReadAll(io.LimitReader(f, SigningKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("blob: reading the URL signing key file: %w", err)
	}
	if len(key) != SigningKeySize {
		return nil, fmt.Errorf("blob: the URL signing key file %s is not %d bytes (a partly written or foreign file?); "+
			"delete it to make a new key", path, SigningKeySize)
	}
	return key, nil
}
