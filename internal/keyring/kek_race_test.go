package keyring

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestLoadOrCreateKEKRace: processes starting together on a shared
// directory all end up with the one key that was written, whole.
func TestLoadOrCreateKEKRace(t *testing.T) {
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "kek")
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		ids := make([]string, n)
		for i := range n {
			wg.Go(func() {
				k, err := LoadOrCreateKEK(path)
				if err == nil {
					ids[i] = k.ID()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		final, err := LoadKEK(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d, racer %d: %v", round, i, errs[i])
			}
			if ids[i] != final.ID() {
				t.Fatalf("round %d: racer %d uses key %s, not the one on disk (%s)", round, i, ids[i], final.ID())
			}
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".kek-*")); len(left) > 0 {
			t.Fatalf("temporary files left: %v", left)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Fatalf("kek mode %v", fi.Mode().Perm())
		}
	}
}
