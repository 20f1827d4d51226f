//go:build !(linux && (amd64 || arm64)) || convoseal_nolibcrypto

package libcrypto

import (
	"bytes"
	"errors"
	"testing"
)

// TestStub: without libcrypto, Load fails with ErrUnavailable and
// NewPrivateKey still zeroes the DER it is given.
func TestStub(t *testing.T) {
	if err := Load(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Load = %v, want ErrUnavailable", err)
	}
	der := []byte("secret key bytes")
	if _, err := NewPrivateKey(der, 2048); err == nil {
		t.Fatal("NewPrivateKey succeeded without libcrypto")
	}
	if !bytes.Equal(der, make([]byte, len(der))) {
		t.Fatal("NewPrivateKey left the DER in place")
	}
}
