//go:build unix

package seal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convoseal/convoseal/seal"
)

// benchBackends runs f once per RSA decryption backend available here:
// crypto/rsa ("go") and, when it loads, the system's libcrypto.
func benchBackends(b *testing.B, f func(b *testing.B)) {
	for _, backend := range []string{seal.BackendGo, seal.BackendLibcrypto} {
		b.Run(backend, func(b *testing.B) {
			if backend == seal.BackendLibcrypto && !seal.LibcryptoAvailableForTest() {
				b.Skipf("libcrypto unavailable: %s", seal.RSABackend())
			}
			defer seal.SetPureGoForTest(backend == seal.BackendGo)()
			f(b)
		})
	}
}

// BenchmarkOpenBackend is BenchmarkOpen at 1 KiB with each RSA decryption
// backend, for RSA-2048, 3072 and 4096: one private-key operation and
// AES-256-GCM per artifact.
func BenchmarkOpenBackend(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		for _, bits := range []int{2048, 3072, 4096} {
			b.Run(fmt.Sprintf("RSA-%d/1KiB", bits), func(b *testing.B) {
				id := benchIdentity(b, bits)
				body, env, err := seal.Seal(id.Recipient(), benchPlaintext(1<<10))
				if err != nil {
					b.Fatal(err)
				}
				if got, want := id.Backend(), b.Name(); !strings.Contains(want, "/"+got+"/") {
					b.Fatalf("identity uses %s in %s", got, want)
				}
				loop(b, func() {
					if _, err := seal.Open(id, body, env); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	})
}

// BenchmarkOpenBackendParallel opens RSA-2048 1 KiB artifacts from
// GOMAXPROCS goroutines sharing one identity: how each backend scales over
// the cores (and whether a lock or the context pool limits it).
func BenchmarkOpenBackendParallel(b *testing.B) {
	benchBackends(b, func(b *testing.B) {
		id := benchIdentity(b, 2048)
		body, env, err := seal.Seal(id.Recipient(), benchPlaintext(1<<10))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		start := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := seal.Open(id, body, env); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	})
}

// BenchmarkParseMetadata is the envelope side of opening a download: the
// metadata a download carries (all seven x-amz-meta-* headers) parsed into
// an Envelope, base64 decoding included.
func BenchmarkParseMetadata(b *testing.B) {
	_, env, err := seal.Seal(benchIdentity(b, 2048).Recipient(), benchPlaintext(1<<10))
	if err != nil {
		b.Fatal(err)
	}
	env.CredentialSID = "CR00000000000000000000000000000000"
	meta := map[string]string{}
	for k, v := range env.Metadata() {
		meta[seal.HeaderPrefix+k] = v
	}
	loop(b, func() {
		if _, err := seal.ParseMetadata(meta); err != nil {
			b.Fatal(err)
		}
	})
}
