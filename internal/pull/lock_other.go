//go:build !unix

package pull

import (
	"fmt"
	"os"
)

// Lock opens path (created 0600); on this platform it does not stop a second
// pull from using the same directory.
func Lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
