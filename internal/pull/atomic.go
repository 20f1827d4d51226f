package pull

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tempMarker is in the name of every temporary file a pull writes, so a
// later pull can remove those a killed one left behind.
const tempMarker = ".convoseal-tmp-"

// WriteFileAtomic writes data to path (mode 0600) so that path holds either
// its old content or all of data, also after a crash: a temporary file in the
// same directory is written, synced and renamed over path, and the directory
// is synced.
func WriteFileAtomic(path string, data []byte) error {
	if err := writeFileSynced(path, data); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeFileSynced is WriteFileAtomic without the directory sync.
func writeFileSynced(path string, data []byte) error {
	return writeFile(path, data, true)
}

// writeFileRenamed writes data to a temporary file and renames it over path,
// so that a killed process leaves either the old or the whole new content;
// without a sync, a machine crash may lose it until the next syncTree.
func writeFileRenamed(path string, data []byte) error {
	return writeFile(path, data, !batchedSync)
}

func writeFile(path string, data []byte, sync bool) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+tempMarker+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// syncDir makes a directory's entries (new names, renames) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// isTemp reports whether a file name is one of a pull's temporary files.
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// removeTemps deletes the temporary files a killed pull left in dir (not
// recursive) and reports how many it removed.
func removeTemps(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() && isTemp(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !os.IsNotExist(err) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
