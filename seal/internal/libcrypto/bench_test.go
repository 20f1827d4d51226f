//go:build linux && (amd64 || arm64) && !convoseal_nolibcrypto

package libcrypto

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"runtime"
	"syscall"
	"testing"
	"time"
)

const rusageThread = 1 // RUSAGE_THREAD (Linux)

func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchKey(b *testing.B) (*PrivateKey, []byte) {
	b.Helper()
	if err := Load(); err != nil {
		b.Skip(err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	k, err := NewPrivateKey(x509.MarshalPKCS1PrivateKey(priv), 2048)
	if err != nil {
		b.Fatal(err)
	}
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &priv.PublicKey, make([]byte, 32), nil)
	if err != nil {
		b.Fatal(err)
	}
	return k, ct
}

// BenchmarkDecryptOAEP is one RSA-2048 OAEP decryption through libcrypto;
// LockedThread keeps the benchmark goroutine on one OS thread throughout.
func BenchmarkDecryptOAEP(b *testing.B) {
	for _, locked := range []bool{false, true} {
		name := "Free"
		if locked {
			name = "LockedThread"
		}
		b.Run(name, func(b *testing.B) {
			k, ct := benchKey(b)
			if locked {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			start, pstart := cpuTime(rusageThread), cpuTime(syscall.RUSAGE_SELF)
			for b.Loop() {
				if _, err := k.DecryptOAEP(ct, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(syscall.RUSAGE_SELF)-pstart)/float64(b.N), "cpu-ns/op")
			if locked { // the thread's own CPU time: what libcrypto and the call cost, without the runtime's other threads
				b.ReportMetric(float64(cpuTime(rusageThread)-start)/float64(b.N), "thread-cpu-ns/op")
			}
		})
	}
}

// BenchmarkCallOverhead is one call into libcrypto that does nothing much.
func BenchmarkCallOverhead(b *testing.B) {
	if err := Load(); err != nil {
		b.Skip(err)
	}
	l, _ := loadOnce()
	for b.Loop() {
		l.versionNum()
	}
}

// BenchmarkDecryptOAEPParallel is BenchmarkDecryptOAEP from GOMAXPROCS
// goroutines sharing one key: cpu-ns/op × GOMAXPROCS ≈ ns/op when the calls
// run in parallel.
func BenchmarkDecryptOAEPParallel(b *testing.B) {
	k, ct := benchKey(b)
	start := cpuTime(syscall.RUSAGE_SELF)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.DecryptOAEP(ct, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cpuTime(syscall.RUSAGE_SELF)-start)/float64(b.N), "cpu-ns/op")
}
