package pull

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// batchedSync: on Linux, files are made durable together by syncTree
// (syncfs), not one fsync each.
const batchedSync = true

// syncTree makes everything written under dir durable with one syncfs(2) of
// the file system holding it, files and directory entries alike.
func syncTree(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
