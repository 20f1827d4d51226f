package client

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/convoseal/convoseal/seal"
	"github.com/youmark/pkcs8"
)

func pemPKCS1(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func pemPKCS8(t *testing.T, k *rsa.PrivateKey, pass string) []byte {
	t.Helper()
	if pass == "" {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	der, err := pkcs8.MarshalPrivateKey(k, []byte(pass), nil)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

func TestKeySources(t *testing.T) {
	k := testKeys(t)
	fp := func(i int) string { return seal.Fingerprint(&k[i].PublicKey) }
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := write("one.pem", pemPKCS1(k[0]))
	// Two keys in one file, the second passphrase-protected PKCS #8.
	two := write("two.pem", append(pemPKCS8(t, k[1], ""), pemPKCS8(t, k[2], "correct horse")...))
	t.Setenv("TEST_PRIVATE_KEY", string(pemPKCS8(t, k[2], "correct horse")))

	var asked []string
	pass := func(src string) ([]byte, error) {
		asked = append(asked, src)
		return []byte("correct horse"), nil
	}
	kr, err := LoadKeys(KeySources{Files: []string{one, two, one}, Env: "TEST_PRIVATE_KEY", Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	if got := kr.Fingerprints(); !slices.Equal(got, []string{fp(0), fp(1), fp(2)}) {
		t.Fatalf("fingerprints %v: each key once, in order", got)
	}
	if !slices.Equal(asked, []string{two, "$TEST_PRIVATE_KEY"}) {
		t.Fatalf("passphrase asked for %v", asked)
	}

	// Errors: wrong passphrase, none available, public key, missing file, nothing at all.
	wrong := func(string) ([]byte, error) { return []byte("nope"), nil }
	if _, err := LoadKeys(KeySources{Files: []string{two}, Passphrase: wrong}); !errors.Is(err, seal.ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := LoadKeys(KeySources{Files: []string{two}}); !errors.Is(err, seal.ErrPassphraseRequired) {
		t.Fatalf("no passphrase: %v", err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k[0].PublicKey)
	pub := write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if _, err := LoadKeys(KeySources{Files: []string{pub}}); !errors.Is(err, seal.ErrPublicKeyGiven) {
		t.Fatalf("public key: %v", err)
	}
	if _, err := LoadKeys(KeySources{Files: []string{filepath.Join(dir, "absent.pem")}}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	t.Setenv("EMPTY_KEY", "")
	if _, err := LoadKeys(KeySources{Env: "EMPTY_KEY"}); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("nothing given: %v", err)
	}
	t.Setenv("BAD_KEY", "not a key")
	if _, err := LoadKeys(KeySources{Env: "BAD_KEY"}); !errors.Is(err, seal.ErrNotPEM) {
		t.Fatalf("junk in the variable: %v", err)
	}
	if err := NewKeyring().AddPEM(pemPKCS1(k[0]), nil); err != nil {
		t.Fatal(err)
	}
	kr2 := NewKeyring()
	kr2.Add(k[0])
	if err := kr2.Add(k[0]); !errors.Is(err, ErrDuplicateKey) || kr2.Len() != 1 {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestSplitPEM(t *testing.T) {
	in := "-----BEGIN A-----\nx\n-----END A-----\n\n-----BEGIN B-----\ny\n-----END B-----\n"
	got := splitPEM([]byte(in))
	if len(got) != 2 || string(got[0]) != "-----BEGIN A-----\nx\n-----END A-----" || string(got[1]) != "-----BEGIN B-----\ny\n-----END B-----" {
		t.Fatalf("%q", got)
	}
	if n := len(splitPEM([]byte("no pem"))); n != 0 {
		t.Fatalf("%d blocks in text without PEM", n)
	}
}
