//go:build !(linux && (amd64 || arm64)) || convoseal_nolibcrypto

package libcrypto

import "fmt"

// Load always fails in this build.
func Load() error {
	return fmt.Errorf("%w: not built into this binary (platform, or the convoseal_nolibcrypto build tag)", ErrUnavailable)
}

// Version is empty: nothing is loaded.
func Version() string { return "" }

// PrivateKey is never made in this build.
type PrivateKey struct{}

// NewPrivateKey zeroes der and fails.
func NewPrivateKey(der []byte, bits int) (*PrivateKey, error) {
	clear(der)
	return nil, Load()
}

// Size is 0.
func (k *PrivateKey) Size() int { return 0 }

// DecryptOAEP always fails.
func (k *PrivateKey) DecryptOAEP(ct, label []byte) ([]byte, error) { return nil, ErrDecrypt }

// Built reports whether this build can use libcrypto at all.
const Built = false
