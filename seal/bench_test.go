//go:build unix

package seal_test

// Benchmarks for the sealing core. scripts/bench-seal.sh runs them next to
// `openssl speed` and writes the table in BENCHMARKS.md.
//
// The whole-envelope benchmarks (BenchmarkSeal, BenchmarkOpen,
// BenchmarkSealKEK, BenchmarkOpenKEK) are what callers pay per artifact. The
// part benchmarks (BenchmarkAESGCM*, BenchmarkRSAOAEP*) isolate the two
// primitives so that the time of a whole envelope can be attributed:
//
//	Seal ≈ RSAOAEPWrap + AESGCMKeySetup + AESGCMSeal   (+ CEK/IV, allocations)
//	Open ≈ RSAOAEPUnwrap + AESGCMKeySetup + AESGCMOpen (+ allocations)
//
// Every benchmark also reports cpu-ns/op (see loop), hence the unix build
// constraint (getrusage).

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/convoseal/convoseal/seal"
)

// benchSizes are the payload sizes: a short transcript sentence or operator
// result, a long transcript, and a large one.
var benchSizes = []struct {
	name string
	n    int
}{
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// benchKeys generates each RSA key once per test binary; key generation is
// outside every timed region.
var benchKeys = map[int]func() *rsa.PrivateKey{
	2048: sync.OnceValue(func() *rsa.PrivateKey { return mustGenerateKey(2048) }),
	3072: sync.OnceValue(func() *rsa.PrivateKey { return mustGenerateKey(3072) }),
	4096: sync.OnceValue(func() *rsa.PrivateKey { return mustGenerateKey(4096) }),
}

// cpuTime is the CPU time (user + system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs op under b.Loop and reports, besides the wall-clock ns/op of the
// testing package, the CPU time per operation of the whole process
// (cpu-ns/op, garbage collection included). On a machine shared with other
// work the wall clock also counts the time this process waited for a CPU; the
// CPU time does not, and it is what `openssl speed` divides by by default.
// Like ns/op it is only meaningful over a long loop (the default -benchtime):
// with -benchtime 1x it is mostly the runtime's background work.
func loop(b *testing.B, op func()) {
	b.Helper()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		op()
	}
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

func mustGenerateKey(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(fmt.Sprintf("generating a %d-bit RSA key: %v", bits, err))
	}
	return k
}

func benchIdentity(b *testing.B, bits int) *seal.RSAIdentity {
	b.Helper()
	id, err := seal.NewRSAIdentity(benchKeys[bits]())
	if err != nil {
		b.Fatal(err)
	}
	return id
}

func benchKEK(b *testing.B) *seal.KEK {
	b.Helper()
	k, err := seal.NewKEK(seal.GenerateKEK())
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func benchPlaintext(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	return p
}

// BenchmarkSeal is one whole envelope for an RSA-2048 recipient: fresh CEK
// and IV, AES-256-GCM over the payload, RSA-OAEP-SHA256 wrap of the CEK.
func BenchmarkSeal(b *testing.B) {
	r := benchIdentity(b, 2048).Recipient()
	for _, s := range benchSizes {
		b.Run("RSA-2048/"+s.name, func(b *testing.B) {
			pt := benchPlaintext(s.n)
			b.SetBytes(int64(s.n))
			loop(b, func() {
				if _, _, err := seal.Seal(r, pt); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkOpen is one whole envelope opened with an RSA private key: one
// RSA-OAEP decryption (a private-key operation) and AES-256-GCM over the
// payload. RSA-2048 at every size is the headline; 3072 and 4096 at 1 KiB show
// how the private operation scales with the customer's key size.
func BenchmarkOpen(b *testing.B) {
	type tc struct {
		bits int
		size string
		n    int
	}
	var cases []tc
	for _, s := range benchSizes {
		cases = append(cases, tc{2048, s.name, s.n})
	}
	cases = append(cases, tc{3072, "1KiB", 1 << 10}, tc{4096, "1KiB", 1 << 10})
	for _, c := range cases {
		b.Run(fmt.Sprintf("RSA-%d/%s", c.bits, c.size), func(b *testing.B) {
			id := benchIdentity(b, c.bits)
			pt := benchPlaintext(c.n)
			body, env, err := seal.Seal(id.Recipient(), pt)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(c.n))
			loop(b, func() {
				if _, err := seal.Open(id, body, env); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkSealKEK is the server-key path: the CEK is wrapped with the
// server's AES-256-GCM key-encryption key instead of RSA.
func BenchmarkSealKEK(b *testing.B) {
	k := benchKEK(b)
	pt := benchPlaintext(1 << 10)
	b.Run("1KiB", func(b *testing.B) {
		b.SetBytes(int64(len(pt)))
		loop(b, func() {
			if _, _, err := seal.Seal(k, pt); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkOpenKEK opens what BenchmarkSealKEK seals.
func BenchmarkOpenKEK(b *testing.B) {
	k := benchKEK(b)
	pt := benchPlaintext(1 << 10)
	body, env, err := seal.Seal(k, pt)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("1KiB", func(b *testing.B) {
		b.SetBytes(int64(len(pt)))
		loop(b, func() {
			if _, err := seal.Open(k, body, env); err != nil {
				b.Fatal(err)
			}
		})
	})
}

func benchGCM(b *testing.B) cipher.AEAD {
	b.Helper()
	key := make([]byte, seal.CEKSize)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return aead
}

// BenchmarkAESGCMSeal is AES-256-GCM encryption alone, with the key already
// expanded and the output buffer reused: the floor of Go's AES-GCM on this
// machine, comparable with `openssl speed -evp aes-256-gcm`.
func BenchmarkAESGCMSeal(b *testing.B) {
	aead := benchGCM(b)
	iv := make([]byte, seal.IVSize)
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			pt := benchPlaintext(s.n)
			dst := make([]byte, 0, s.n+seal.TagSize)
			b.SetBytes(int64(s.n))
			loop(b, func() {
				dst = aead.Seal(dst[:0], iv, pt, nil)
			})
		})
	}
}

// BenchmarkAESGCMOpen is AES-256-GCM decryption (with tag check) alone.
func BenchmarkAESGCMOpen(b *testing.B) {
	aead := benchGCM(b)
	iv := make([]byte, seal.IVSize)
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			ct := aead.Seal(nil, iv, benchPlaintext(s.n), nil)
			dst := make([]byte, 0, s.n)
			b.SetBytes(int64(s.n))
			loop(b, func() {
				var err error
				if dst, err = aead.Open(dst[:0], iv, ct, nil); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkAESGCMKeySetup is the per-artifact cost of a fresh CEK: AES key
// expansion and GCM set-up (aes.NewCipher + cipher.NewGCM), paid once by every
// Seal and every Open.
func BenchmarkAESGCMKeySetup(b *testing.B) {
	key := make([]byte, seal.CEKSize)
	rand.Read(key)
	loop(b, func() {
		block, err := aes.NewCipher(key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cipher.NewGCM(block); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRSAOAEPWrap is RSA-OAEP-SHA256 encryption of a 32-byte CEK under a
// 2048-bit public key (e = 65537): the RSA part of Seal.
func BenchmarkRSAOAEPWrap(b *testing.B) {
	pub := &benchKeys[2048]().PublicKey
	cek := make([]byte, seal.CEKSize)
	rand.Read(cek)
	loop(b, func() {
		if _, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, cek, nil); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRSAOAEPUnwrap is RSA-OAEP-SHA256 decryption with a 2048-bit private
// key (CRT): the RSA part of Open, one private-key operation.
func BenchmarkRSAOAEPUnwrap(b *testing.B) {
	priv := benchKeys[2048]()
	cek := make([]byte, seal.CEKSize)
	rand.Read(cek)
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &priv.PublicKey, cek, nil)
	if err != nil {
		b.Fatal(err)
	}
	loop(b, func() {
		if _, err := rsa.DecryptOAEP(sha256.New(), nil, priv, ct, nil); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkKEMDecap is not convoseal code: it measures, for scale, the
// private-key operation of the key-encapsulation mechanisms a future HPKE
// recipient could use (see the package documentation), to set against
// BenchmarkRSAOAEPUnwrap.
func BenchmarkKEMDecap(b *testing.B) {
	b.Run("X25519", func(b *testing.B) {
		priv, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		eph, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		loop(b, func() {
			if _, err := priv.ECDH(eph.PublicKey()); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("ML-KEM-768", func(b *testing.B) {
		dk, err := mlkem.GenerateKey768()
		if err != nil {
			b.Fatal(err)
		}
		_, ct := dk.EncapsulationKey().Encapsulate()
		loop(b, func() {
			if _, err := dk.Decapsulate(ct); err != nil {
				b.Fatal(err)
			}
		})
	})
}
