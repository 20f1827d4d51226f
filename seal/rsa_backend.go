package seal

import (
	"bytes"
	"crypto/fips140"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/convoseal/convoseal/seal/internal/libcrypto"
)

// EnvCrypto names the environment variable that chooses how [RSAIdentity]
// decrypts: "go" keeps to Go's crypto/rsa; "auto" (or "libcrypto", or
// unset) uses the system's OpenSSL 3 libcrypto when it can be loaded, and
// crypto/rsa otherwise. It is read once, on first use. CONVOSEAL_LIBCRYPTO
// names another library file to load (default libcrypto.so.3).
const EnvCrypto = "CONVOSEAL_CRYPTO"

// Names of the RSA decryption backends, the first word of [RSABackend].
const (
	BackendGo        = "go"
	BackendLibcrypto = "libcrypto"
)

type rsaBackend struct {
	libcrypto bool
	detail    string // library version, or why crypto/rsa is used
}

// envBackend is the process-wide choice, made once.
var envBackend = sync.OnceValue(func() rsaBackend {
	switch v := os.Getenv(EnvCrypto); v {
	case "go":
		return rsaBackend{detail: EnvCrypto + "=go"}
	case "", "auto", "libcrypto":
	default:
		return rsaBackend{detail: fmt.Sprintf("%s=%q is not auto or go", EnvCrypto, v)}
	}
	if fips140.Enabled() {
		return rsaBackend{detail: "FIPS 140-3 mode keeps to Go's module"}
	}
	if err := libcrypto.Load(); err != nil {
		return rsaBackend{detail: err.Error()}
	}
	return rsaBackend{libcrypto: true, detail: libcrypto.Version()}
})

// forcePureGo makes every identity use crypto/rsa (for tests).
var forcePureGo atomic.Bool

func useLibcrypto() bool { return !forcePureGo.Load() && envBackend().libcrypto }

// RSABackend describes how [RSAIdentity.Unwrap] decrypts in this process:
// "libcrypto: " and the OpenSSL version, or "go: " and why libcrypto is not
// used. Opening an artifact is one RSA private-key operation, which
// OpenSSL 3 computes about 2.4 times as fast as crypto/rsa for a 2048-bit
// key on CPUs with AVX-512 IFMA; both give the same results and errors.
func RSABackend() string {
	b := envBackend()
	if b.libcrypto && !forcePureGo.Load() {
		return BackendLibcrypto + ": " + b.detail
	}
	if forcePureGo.Load() {
		return BackendGo + ": forced by a test"
	}
	return BackendGo + ": " + b.detail
}

// Backend names the backend this identity's Unwrap uses: [BackendLibcrypto]
// or [BackendGo]. A key libcrypto refuses, or that fails the check made when
// it is loaded, stays with Go.
func (i *RSAIdentity) Backend() string {
	if i.fastKey() != nil {
		return BackendLibcrypto
	}
	return BackendGo
}

// fastKey returns the identity's libcrypto key, loading it on first use, or
// nil when Go's crypto/rsa is to be used.
func (i *RSAIdentity) fastKey() *libcrypto.PrivateKey {
	if !useLibcrypto() || i.fast == nil {
		return nil
	}
	return i.fast()
}

// loadLibcryptoKey hands priv to libcrypto and checks, with a fresh random
// CEK wrapped by Go, that libcrypto unwraps it to the same bytes. It returns
// nil (Go is used) on any failure.
func loadLibcryptoKey(priv *rsa.PrivateKey) *libcrypto.PrivateKey {
	der := x509.MarshalPKCS1PrivateKey(priv) // zeroed by NewPrivateKey
	k, err := libcrypto.NewPrivateKey(der, priv.N.BitLen())
	if err != nil {
		return nil
	}
	cek := make([]byte, CEKSize)
	rand.Read(cek)
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &priv.PublicKey, cek, nil)
	if err != nil {
		return nil
	}
	got, err := k.DecryptOAEP(ct, nil)
	if err != nil || !bytes.Equal(got, cek) {
		return nil
	}
	return k
}

// decryptOAEPBackend decrypts with the identity's libcrypto key when there
// is one, else with crypto/rsa.
func (i *RSAIdentity) decryptOAEPBackend(ct []byte) ([]byte, error) {
	if k := i.fastKey(); k != nil {
		return k.DecryptOAEP(ct, nil)
	}
	return decryptOAEP(i.priv, ct, nil)
}
