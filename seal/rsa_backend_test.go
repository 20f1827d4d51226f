package seal

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/convoseal/convoseal/seal/internal/libcrypto"
)

// requireLibcrypto skips when this process is told not to use libcrypto
// (CONVOSEAL_CRYPTO=go, or a build without it) and fails when libcrypto
// should be there but does not load: every supported Linux machine has
// OpenSSL 3.
func requireLibcrypto(t testing.TB) {
	t.Helper()
	if envBackend().libcrypto {
		return
	}
	if os.Getenv(EnvCrypto) != "" || os.Getenv("CONVOSEAL_LIBCRYPTO") != "" || !libcrypto.Built {
		t.Skipf("libcrypto not in use here: %s", RSABackend())
	}
	t.Fatalf("libcrypto should load on this machine: %s", RSABackend())
}

// unwrapBoth unwraps w with id's libcrypto key and with crypto/rsa.
func unwrapBoth(t testing.TB, id *RSAIdentity, w WrappedKey) (lc, gocek []byte, lcErr, goErr error) {
	t.Helper()
	if id.Backend() != BackendLibcrypto {
		t.Fatalf("identity %s does not use libcrypto: %s", id.Fingerprint(), RSABackend())
	}
	lc, lcErr = id.Unwrap(w)
	forcePureGo.Store(true)
	defer forcePureGo.Store(false)
	if id.Backend() != BackendGo {
		t.Fatal("forcing pure Go did not switch the identity to crypto/rsa")
	}
	gocek, goErr = id.Unwrap(w)
	return lc, gocek, lcErr, goErr
}

// checkSameFailure asserts that both backends refused with
// ErrIncorrectIdentity and the same message.
func checkSameFailure(t testing.TB, what string, lc, gocek []byte, lcErr, goErr error) {
	t.Helper()
	if !errors.Is(lcErr, ErrIncorrectIdentity) || !errors.Is(goErr, ErrIncorrectIdentity) {
		t.Fatalf("%s: libcrypto = %x, %v; Go = %x, %v; want ErrIncorrectIdentity from both", what, lc, lcErr, gocek, goErr)
	}
	if lcErr.Error() != goErr.Error() {
		t.Fatalf("%s: the backends fail differently:\nlibcrypto: %v\nGo:        %v", what, lcErr, goErr)
	}
}

// TestLibcryptoMatchesGo: for random keys of 2048, 3072 and 4096 bits and
// random CEKs sealed by Go, the libcrypto and crypto/rsa unwraps agree —
// the same CEK for a genuine wrapped key, and ErrIncorrectIdentity with the
// same message for another key's, a tampered, a truncated, an over-long
// wrapped key and a valid OAEP ciphertext of a non-32-byte value.
func TestLibcryptoMatchesGo(t *testing.T) {
	requireLibcrypto(t)
	sizes := []struct{ bits, keys, ceks int }{{2048, 4, 24}, {3072, 2, 12}, {4096, 2, 8}}
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, s := range sizes {
		t.Run(fmt.Sprintf("RSA-%d", s.bits), func(t *testing.T) {
			ids := make([]*RSAIdentity, s.keys)
			for i := range ids {
				priv, err := rsa.GenerateKey(rand.Reader, s.bits)
				if err != nil {
					t.Fatal(err)
				}
				if ids[i], err = NewRSAIdentity(priv); err != nil {
					t.Fatal(err)
				}
			}
			for ki, id := range ids {
				other := ids[(ki+1)%len(ids)]
				for c := range s.ceks {
					cek := make([]byte, CEKSize)
					rand.Read(cek)
					w, err := id.Recipient().Wrap(cek)
					if err != nil {
						t.Fatal(err)
					}
					lc, gocek, lcErr, goErr := unwrapBoth(t, id, w)
					if lcErr != nil || goErr != nil || !bytes.Equal(lc, cek) || !bytes.Equal(gocek, cek) {
						t.Fatalf("key %d CEK %d: libcrypto = %x, %v; Go = %x, %v; want %x", ki, c, lc, lcErr, gocek, goErr, cek)
					}

					// Another key: with and without the fingerprint in the envelope.
					lc, gocek, lcErr, goErr = unwrapBoth(t, other, w)
					checkSameFailure(t, "another key", lc, gocek, lcErr, goErr)
					bare := WrappedKey{Key: w.Key}
					lc, gocek, lcErr, goErr = unwrapBoth(t, other, bare)
					checkSameFailure(t, "another key, no fingerprint", lc, gocek, lcErr, goErr)

					// One bit flipped anywhere in the wrapped key.
					bad := bytes.Clone(w.Key)
					bit := randIntn(len(bad) * 8)
					bad[bit/8] ^= 1 << (bit % 8)
					lc, gocek, lcErr, goErr = unwrapBoth(t, id, WrappedKey{Key: bad})
					checkSameFailure(t, fmt.Sprintf("bit %d flipped", bit), lc, gocek, lcErr, goErr)

					// Truncated (at the end: without a leading zero byte the
					// number is the same) and over-long.
					lc, gocek, lcErr, goErr = unwrapBoth(t, id, WrappedKey{Key: w.Key[:len(w.Key)-1]})
					checkSameFailure(t, "truncated", lc, gocek, lcErr, goErr)
					lc, gocek, lcErr, goErr = unwrapBoth(t, id, WrappedKey{Key: append(bytes.Clone(w.Key), 0)})
					checkSameFailure(t, "over-long", lc, gocek, lcErr, goErr)
				}
				// Valid OAEP, wrong length of content key.
				for _, n := range []int{0, 1, 16, 31, 33, 48} {
					msg := make([]byte, n)
					rand.Read(msg)
					ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &id.priv.PublicKey, msg, nil)
					if err != nil {
						t.Fatal(err)
					}
					lc, gocek, lcErr, goErr := unwrapBoth(t, id, WrappedKey{Algorithm: WrapAlgRSAOAEP, Key: ct})
					checkSameFailure(t, fmt.Sprintf("%d-byte content key", n), lc, gocek, lcErr, goErr)
				}
			}
		})
	}
}

func randIntn(n int) int {
	var b [4]byte
	rand.Read(b[:])
	return int(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24) % n
}

// TestLibcryptoConcurrent: one identity shared by many goroutines, each
// opening its own artifacts (and another key's, which must fail), gets every
// plaintext right.
func TestLibcryptoConcurrent(t *testing.T) {
	requireLibcrypto(t)
	id := newTestIdentity(t)
	other := newTestIdentity(t)
	const goroutines, each = 16, 12
	type art struct {
		pt, body []byte
		env      Envelope
	}
	arts := make([][]art, goroutines)
	for g := range arts {
		for i := range each {
			pt := []byte(fmt.Sprintf("goroutine %d artifact %d", g, i))
			r := id.Recipient()
			if i%4 == 3 {
				r = other.Recipient()
			}
			body, env, err := Seal(r, pt)
			if err != nil {
				t.Fatal(err)
			}
			arts[g] = append(arts[g], art{pt, body, env})
		}
	}
	if id.Backend() != BackendLibcrypto {
		t.Fatalf("identity does not use libcrypto: %s", RSABackend())
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i, a := range arts[g] {
				got, err := Open(id, a.body, a.env)
				switch {
				case i%4 == 3 && !errors.Is(err, ErrIncorrectIdentity):
					errs <- fmt.Errorf("goroutine %d artifact %d (another key's): %x, %v; want ErrIncorrectIdentity", g, i, got, err)
				case i%4 != 3 && (err != nil || !bytes.Equal(got, a.pt)):
					errs <- fmt.Errorf("goroutine %d artifact %d: %q, %v; want %q", g, i, got, err, a.pt)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRSABackendSelection runs this test binary again under each setting of
// CONVOSEAL_CRYPTO and CONVOSEAL_LIBCRYPTO and checks what RSABackend
// reports and that a sealed artifact still opens (the child does that in
// TestRSABackendChild).
func TestRSABackendSelection(t *testing.T) {
	if os.Getenv("CONVOSEAL_TEST_BACKEND_CHILD") != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("runs the test binary four times")
	}
	cases := []struct {
		env  []string
		want string
	}{
		{[]string{EnvCrypto + "=go"}, "go: CONVOSEAL_CRYPTO=go"},
		{[]string{EnvCrypto + "=nonsense"}, `go: CONVOSEAL_CRYPTO="nonsense" is not auto or go`},
		{[]string{EnvCrypto + "=auto", "CONVOSEAL_LIBCRYPTO=/nonexistent/libcrypto.so.3"}, "go: libcrypto is not available: loading /nonexistent/libcrypto.so.3"},
		// libc has none of libcrypto's functions.
		{[]string{EnvCrypto + "=auto", "CONVOSEAL_LIBCRYPTO=libc.so.6"}, "go: libcrypto is not available: libc.so.6 lacks a function"},
	}
	if libcrypto.Built {
		cases = append(cases, struct {
			env  []string
			want string
		}{[]string{EnvCrypto + "=auto"}, "libcrypto: OpenSSL 3."})
	} else {
		for i := range cases[2:] {
			cases[2+i].want = "go: libcrypto is not available: not built into this binary"
		}
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRSABackendChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "CONVOSEAL_TEST_BACKEND_CHILD=1", "CONVOSEAL_LIBCRYPTO=", EnvCrypto+"=")
		cmd.Env = append(cmd.Env, c.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: child failed: %v\n%s", c.env, err, out)
		}
		if !strings.Contains(string(out), "backend: "+c.want) {
			t.Errorf("%v: child reported\n%s\nwant a line starting with %q", c.env, out, "backend: "+c.want)
		}
	}
}

// TestRSABackendChild is TestRSABackendSelection's child: it logs
// RSABackend and checks a round trip and a wrong-key refusal.
func TestRSABackendChild(t *testing.T) {
	if os.Getenv("CONVOSEAL_TEST_BACKEND_CHILD") == "" {
		t.Skip("only run by TestRSABackendSelection")
	}
	t.Logf("backend: %s", RSABackend())
	id := newTestIdentity(t)
	wantBackend := BackendGo
	if strings.HasPrefix(RSABackend(), BackendLibcrypto+":") {
		wantBackend = BackendLibcrypto
	}
	if got := id.Backend(); got != wantBackend {
		t.Fatalf("identity backend %s, process backend %s", got, RSABackend())
	}
	body, env, err := Seal(id.Recipient(), []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Open(id, body, env); err != nil || string(got) != "hello" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other := newTestIdentity(t)
	if _, err := Open(other, body, env); !errors.Is(err, ErrIncorrectIdentity) {
		t.Fatalf("Open with another key: %v, want ErrIncorrectIdentity", err)
	}
}

// FuzzUnwrapBackends feeds arbitrary wrapped keys to the fuzz seed RSA key's
// identity through libcrypto and through crypto/rsa: both must succeed with
// the same CEK or both fail with the same ErrIncorrectIdentity error.
//
//	go test ./seal -run '^$' -fuzz '^FuzzUnwrapBackends$' -fuzztime 60s -parallel 1
func FuzzUnwrapBackends(f *testing.F) {
	requireLibcrypto(f)
	data, err := os.ReadFile("testdata/keys/fuzzseed-rsa2048-pkcs8.pem")
	if err != nil {
		f.Fatal(err)
	}
	priv, err := ParsePrivateKey(data, nil)
	if err != nil {
		f.Fatal(err)
	}
	id, err := NewRSAIdentity(priv)
	if err != nil {
		f.Fatal(err)
	}
	w, err := id.Recipient().Wrap(bytes.Repeat([]byte{7}, CEKSize))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(w.Key)
	f.Add(w.Key[:len(w.Key)-1])
	f.Add(append(bytes.Clone(w.Key), 0))
	f.Add([]byte{})
	f.Add(make([]byte, 256))
	f.Add(bytes.Repeat([]byte{0xff}, 256))
	f.Add(priv.N.Bytes())
	f.Fuzz(func(t *testing.T, key []byte) {
		w := WrappedKey{Algorithm: WrapAlgRSAOAEP, Key: key}
		lc, gocek, lcErr, goErr := unwrapBoth(t, id, w)
		if lcErr == nil && goErr == nil {
			if !bytes.Equal(lc, gocek) {
				t.Fatalf("libcrypto = %x, Go = %x", lc, gocek)
			}
			return
		}
		checkSameFailure(t, "fuzzed wrapped key", lc, gocek, lcErr, goErr)
	})
}

// newTestIdentity is an identity for a fresh RSA-2048 key.
func newTestIdentity(t testing.TB) *RSAIdentity {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	id, err := NewRSAIdentity(priv)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
