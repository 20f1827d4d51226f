package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/convoseal/convoseal/seal"
)

// EnvPrivateKey is the conventional environment variable holding a private
// key's PEM text (see [Keyring.AddEnv]).
const EnvPrivateKey = "CONVOSEAL_PRIVATE_KEY"

// maxKeyInput bounds a key file or variable holding several keys.
const maxKeyInput = 16 * seal.MaxKeyFileSize

// AddFile reads a PEM file holding one or more private keys (each PKCS #1,
// PKCS #8 or passphrase-protected PKCS #8) and adds them. passphrase is
// called for each encrypted key. The file's contents are cleared from memory
// afterwards and never written anywhere.
func (k *Keyring) AddFile(path string, passphrase func() ([]byte, error)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("private key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyInput+1))
	defer clear(data)
	if err != nil {
		return fmt.Errorf("private key %s: %w", path, err)
	}
	if len(data) > maxKeyInput {
		return fmt.Errorf("private key %s: %w", path, seal.ErrKeyTooLarge)
	}
	if err := k.addPEMs(data, passphrase); err != nil {
		return fmt.Errorf("private key %s: %w", path, err)
	}
	return nil
}

// AddEnv adds the private key(s) whose PEM text is in the environment
// variable name (such as [EnvPrivateKey]). found is false, and nothing is
// added, when the variable is unset or empty.
func (k *Keyring) AddEnv(name string, passphrase func() ([]byte, error)) (found bool, err error) {
	v := os.Getenv(name)
	if v == "" {
		return false, nil
	}
	if len(v) > maxKeyInput {
		return true, fmt.Errorf("private key in $%s: %w", name, seal.ErrKeyTooLarge)
	}
	data := []byte(v)
	defer clear(data)
	if err := k.addPEMs(data, passphrase); err != nil {
		return true, fmt.Errorf("private key in $%s: %w", name, err)
	}
	return true, nil
}

// addPEMs adds every PEM private key block in data; a key already in the
// ring is skipped. Data with one block is parsed whole (so that stray text is
// reported by seal).
func (k *Keyring) addPEMs(data []byte, passphrase func() ([]byte, error)) error {
	blocks := splitPEM(data)
	if len(blocks) <= 1 {
		blocks = [][]byte{data}
	}
	for i, b := range blocks {
		if err := k.AddPEM(b, passphrase); err != nil && !errors.Is(err, ErrDuplicateKey) {
			if len(blocks) == 1 {
				return err
			}
			return fmt.Errorf("key %d of %d: %w", i+1, len(blocks), err)
		}
	}
	return nil
}

// splitPEM cuts data into its "-----BEGIN …-----" … "-----END …-----"
// blocks (the slices share data's memory).
func splitPEM(data []byte) [][]byte {
	var out [][]byte
	begin, end := []byte("-----BEGIN "), []byte("-----END ")
	for {
		i := bytes.Index(data, begin)
		if i < 0 {
			return out
		}
		j := bytes.Index(data[i:], end)
		if j < 0 {
			return append(out, data[i:])
		}
		j += i
		k := bytes.Index(data[j+len(end):], []byte("-----"))
		if k < 0 {
			return append(out, data[i:])
		}
		stop := j + len(end) + k + 5
		out = append(out, data[i:stop])
		data = data[stop:]
	}
}

// ErrNoKeys is returned by [LoadKeys] when no source gave a key.
var ErrNoKeys = errors.New("no private key given")

// KeySources names where [LoadKeys] finds private keys.
type KeySources struct {
	Files []string // PEM files, each with one or more keys
	Env   string   // an environment variable holding PEM text (e.g. [EnvPrivateKey]); unset is not an error
	// Passphrase is called for each encrypted key, with the name of its
	// source (a file path, or "$VAR"). Nil: encrypted keys fail with
	// seal.ErrPassphraseRequired.
	Passphrase func(source string) ([]byte, error)
}

// LoadKeys builds a keyring from every source. At least one key must be
// found, else the error is [ErrNoKeys]. The same key given twice is kept
// once.
func LoadKeys(s KeySources) (*Keyring, error) {
	k := NewKeyring()
	ask := func(src string) func() ([]byte, error) {
		if s.Passphrase == nil {
			return nil
		}
		return func() ([]byte, error) { return s.Passphrase(src) }
	}
	for _, f := range s.Files {
		if err := k.AddFile(f, ask(f)); err != nil {
			return nil, err
		}
	}
	if s.Env != "" {
		if _, err := k.AddEnv(s.Env, ask("$"+s.Env)); err != nil {
			return nil, err
		}
	}
	if k.Len() == 0 {
		return nil, ErrNoKeys
	}
	return k, nil
}
