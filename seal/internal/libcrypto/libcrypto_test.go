//go:build linux && (amd64 || arm64) && !convoseal_nolibcrypto

package libcrypto

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
)

// need skips where libcrypto is not meant to be (a stub build, or
// CONVOSEAL_LIBCRYPTO pointing elsewhere) and fails where it should load.
func need(t *testing.T) {
	t.Helper()
	err := Load()
	if err == nil {
		return
	}
	if !Built || os.Getenv(EnvLibrary) != "" {
		t.Skip(err)
	}
	t.Fatalf("libcrypto should load on this machine: %v", err)
}

// TestDecryptOAEPMatchesGo: messages of every length OAEP-SHA256 allows
// for a 2048-bit key, with and without a label, decrypt through libcrypto
// to what crypto/rsa encrypted; a flipped bit, another label, a truncated or
// over-long ciphertext fail with ErrDecrypt.
func TestDecryptOAEPMatchesGo(t *testing.T) {
	need(t)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewPrivateKey(x509.MarshalPKCS1PrivateKey(priv), 2048)
	if err != nil {
		t.Fatal(err)
	}
	if k.Size() != 256 {
		t.Fatalf("Size = %d, want 256", k.Size())
	}
	maxMsg := 256 - 2*sha256.Size - 2
	for _, n := range []int{0, 1, 31, 32, 33, 100, maxMsg} {
		for _, label := range [][]byte{nil, []byte("a label")} {
			msg := make([]byte, n)
			rand.Read(msg)
			ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &priv.PublicKey, msg, label)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.DecryptOAEP(ct, label)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes, label %q: got %x, %v; want %x", n, label, got, err, msg)
			}
			bad := bytes.Clone(ct)
			bad[n%len(bad)] ^= 0x10
			for what, c := range map[string][]byte{"bit flipped": bad, "truncated": ct[:len(ct)-1], "over-long": append(bytes.Clone(ct), 0), "empty": nil} {
				if got, err := k.DecryptOAEP(c, label); !errors.Is(err, ErrDecrypt) {
					t.Fatalf("%d bytes, %s: got %x, %v; want ErrDecrypt", n, what, got, err)
				}
			}
			if got, err := k.DecryptOAEP(ct, []byte("another label")); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("%d bytes, another label: got %x, %v; want ErrDecrypt", n, got, err)
			}
		}
	}
}

// TestNewPrivateKey: the DER is zeroed whatever the outcome; garbage and a
// key of other size than claimed are refused.
func TestNewPrivateKey(t *testing.T) {
	need(t)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der := x509.MarshalPKCS1PrivateKey(priv)
	if _, err := NewPrivateKey(der, 2048); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(der, make([]byte, len(der))) {
		t.Fatal("NewPrivateKey left the DER in place")
	}
	der = x509.MarshalPKCS1PrivateKey(priv)
	if _, err := NewPrivateKey(der, 3072); err == nil {
		t.Fatal("a 2048-bit key was accepted as 3072 bits")
	}
	if !bytes.Equal(der, make([]byte, len(der))) {
		t.Fatal("NewPrivateKey left the DER in place after refusing it")
	}
	garbage := []byte("\x30\x82\x01\x00 not a key")
	if _, err := NewPrivateKey(garbage, 2048); err == nil {
		t.Fatal("garbage accepted as a key")
	}
	if _, err := NewPrivateKey(nil, 2048); err == nil {
		t.Fatal("empty DER accepted")
	}
}

// TestPrivateKeyReleased: keys that become unreachable are cleaned up (the
// cleanup frees the contexts and the EVP_PKEY) without disturbing live ones.
func TestPrivateKeyReleased(t *testing.T) {
	need(t)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &priv.PublicKey, []byte("cek"), nil)
	if err != nil {
		t.Fatal(err)
	}
	live, err := NewPrivateKey(x509.MarshalPKCS1PrivateKey(priv), 2048)
	if err != nil {
		t.Fatal(err)
	}
	before := keysClosed.Load()
	for range 8 {
		k, err := NewPrivateKey(x509.MarshalPKCS1PrivateKey(priv), 2048)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.DecryptOAEP(ct, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Cleanups run on their own goroutine after a GC; give them a while.
	for i := 0; i < 200 && keysClosed.Load()-before < 8; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := keysClosed.Load() - before; n < 8 {
		t.Fatalf("%d of 8 unreachable keys were freed", n)
	}
	if got, err := live.DecryptOAEP(ct, nil); err != nil || string(got) != "cek" {
		t.Fatalf("the live key after others were freed: %q, %v", got, err)
	}
}
