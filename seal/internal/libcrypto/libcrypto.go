//go:build linux && (amd64 || arm64) && !convoseal_nolibcrypto

package libcrypto

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ebitengine/purego"
)

// defaultLibrary is the soname of OpenSSL 3's libcrypto (Debian's libssl3).
const defaultLibrary = "libcrypto.so.3"

// Constants from OpenSSL 3's headers.
const (
	evpPKEYRSA          = 6          // EVP_PKEY_RSA (NID_rsaEncryption)
	rsaPKCS1OAEPPadding = 4          // RSA_PKCS1_OAEP_PADDING
	openSSLVersion      = 0          // OPENSSL_VERSION, for OpenSSL_version
	minVersionNumber    = 0x30000000 // OpenSSL 3.0.0
)

// lib holds the libcrypto functions, bound once per process.
type lib struct {
	versionNum    func() uint64
	version       func(t int32) string
	d2iPrivateKey func(typ int32, a unsafe.Pointer, pp unsafe.Pointer, length int64) uintptr
	pkeyFree      func(pkey uintptr)
	pkeyBits      func(pkey uintptr) int32
	ctxNew        func(pkey, engine uintptr) uintptr
	ctxFree       func(ctx uintptr)
	decryptInit   func(ctx uintptr) int32
	setPadding    func(ctx uintptr, pad int32) int32
	setOAEPMD     func(ctx, md uintptr) int32
	setMGF1MD     func(ctx, md uintptr) int32
	set0Label     func(ctx uintptr, label unsafe.Pointer, n int32) int32
	sha256        func() uintptr
	decrypt       func(ctx uintptr, out *byte, outlen *uintptr, in *byte, inlen uintptr) int32
	errClear      func()
	malloc        func(n uintptr, file uintptr, line int32) unsafe.Pointer
	free          func(p unsafe.Pointer, file uintptr, line int32)
	cleanse       func(p unsafe.Pointer, n uintptr)

	name string // what was loaded, for Version
	md   uintptr
}

var loadOnce = sync.OnceValues(load)

// Load opens libcrypto (once per process; later calls return the first
// result). The library is $CONVOSEAL_LIBCRYPTO when set, else libcrypto.so.3.
// Every error wraps [ErrUnavailable].
func Load() error {
	_, err := loadOnce()
	return err
}

// Version describes the loaded library, e.g. "OpenSSL 3.0.19 27 Jan 2026
// (libcrypto.so.3)"; empty when it is not loaded.
func Version() string {
	l, err := loadOnce()
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s (%s)", l.version(openSSLVersion), l.name)
}

func load() (_ *lib, err error) {
	name := os.Getenv(EnvLibrary)
	if name == "" {
		name = defaultLibrary
	}
	h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("%w: loading %s: %v", ErrUnavailable, name, err)
	}
	// purego.RegisterLibFunc panics on a missing symbol (an OpenSSL older than
	// 3.0 lacks several of these); turn that into an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s lacks a function: %v", ErrUnavailable, name, r)
		}
	}()
	l := &lib{name: name}
	purego.RegisterLibFunc(&l.versionNum, h, "OpenSSL_version_num")
	if v := l.versionNum(); v < minVersionNumber {
		return nil, fmt.Errorf("%w: %s is OpenSSL %#x, older than 3.0", ErrUnavailable, name, v)
	}
	purego.RegisterLibFunc(&l.version, h, "OpenSSL_version")
	purego.RegisterLibFunc(&l.d2iPrivateKey, h, "d2i_PrivateKey")
	purego.RegisterLibFunc(&l.pkeyFree, h, "EVP_PKEY_free")
	purego.RegisterLibFunc(&l.pkeyBits, h, "EVP_PKEY_get_bits")
	purego.RegisterLibFunc(&l.ctxNew, h, "EVP_PKEY_CTX_new")
	purego.RegisterLibFunc(&l.ctxFree, h, "EVP_PKEY_CTX_free")
	purego.RegisterLibFunc(&l.decryptInit, h, "EVP_PKEY_decrypt_init")
	purego.RegisterLibFunc(&l.setPadding, h, "EVP_PKEY_CTX_set_rsa_padding")
	purego.RegisterLibFunc(&l.setOAEPMD, h, "EVP_PKEY_CTX_set_rsa_oaep_md")
	purego.RegisterLibFunc(&l.setMGF1MD, h, "EVP_PKEY_CTX_set_rsa_mgf1_md")
	purego.RegisterLibFunc(&l.set0Label, h, "EVP_PKEY_CTX_set0_rsa_oaep_label")
	purego.RegisterLibFunc(&l.sha256, h, "EVP_sha256")
	purego.RegisterLibFunc(&l.decrypt, h, "EVP_PKEY_decrypt")
	purego.RegisterLibFunc(&l.errClear, h, "ERR_clear_error")
	purego.RegisterLibFunc(&l.malloc, h, "CRYPTO_malloc")
	purego.RegisterLibFunc(&l.free, h, "CRYPTO_free")
	purego.RegisterLibFunc(&l.cleanse, h, "OPENSSL_cleanse")
	if l.md = l.sha256(); l.md == 0 {
		return nil, fmt.Errorf("%w: %s has no SHA-256", ErrUnavailable, name)
	}
	return l, nil
}

// PrivateKey is an RSA private key held by libcrypto. It is safe for
// concurrent use. Its memory is released when it is garbage collected.
type PrivateKey struct {
	st *keyState
}

// keyState is what the cleanup of a PrivateKey frees; it must not point back
// to the PrivateKey.
type keyState struct {
	l    *lib
	pkey uintptr
	size int // modulus size in bytes

	mu      sync.Mutex
	idle    []uintptr // initialised decryption contexts, ready for reuse
	maxIdle int
}

// NewPrivateKey loads an RSA private key from its PKCS #1 DER encoding and
// checks that it has bits bits. It zeroes der in every case.
func NewPrivateKey(der []byte, bits int) (*PrivateKey, error) {
	defer clear(der)
	l, err := loadOnce()
	if err != nil {
		return nil, err
	}
	if len(der) == 0 {
		return nil, fmt.Errorf("libcrypto: empty private key")
	}
	// d2i_PrivateKey reads through a pointer to a pointer, which it advances;
	// both live in libcrypto's memory, so no Go pointer is handed to C and the
	// copy can be cleansed. Layout: [8-byte pointer][DER].
	const ptrSize = unsafe.Sizeof(uintptr(0))
	n := ptrSize + uintptr(len(der))
	buf := l.malloc(n, 0, 0)
	if buf == nil {
		return nil, fmt.Errorf("libcrypto: out of memory")
	}
	cbuf := unsafe.Slice((*byte)(buf), n)
	copy(cbuf[ptrSize:], der)
	*(*uintptr)(buf) = uintptr(buf) + ptrSize
	pkey := l.d2iPrivateKey(evpPKEYRSA, nil, buf, int64(len(der)))
	l.cleanse(buf, n)
	l.free(buf, 0, 0)
	if pkey == 0 {
		l.errClear()
		return nil, fmt.Errorf("libcrypto: the private key was not accepted")
	}
	if got := int(l.pkeyBits(pkey)); got != bits {
		l.pkeyFree(pkey)
		return nil, fmt.Errorf("libcrypto: loaded a %d-bit key, want %d bits", got, bits)
	}
	st := &keyState{l: l, pkey: pkey, size: (bits + 7) / 8, maxIdle: max(4, 2*runtime.GOMAXPROCS(0))}
	k := &PrivateKey{st: st}
	runtime.AddCleanup(k, (*keyState).close, st)
	return k, nil
}

// Size is the modulus size in bytes.
func (k *PrivateKey) Size() int { return k.st.size }

// DecryptOAEP is RSAES-OAEP decryption with SHA-256 and MGF1-SHA-256 under
// label. Every failure returns [ErrDecrypt].
func (k *PrivateKey) DecryptOAEP(ct, label []byte) ([]byte, error) {
	defer runtime.KeepAlive(k) // the cleanup must not free st during the call
	st := k.st
	if len(ct) == 0 || len(ct) > st.size {
		return nil, ErrDecrypt
	}
	// OpenSSL keeps its error queue per thread: stay on one so that a
	// failure's entries are cleared where they were made.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var ctx uintptr
	if len(label) == 0 {
		ctx = st.get()
	} else {
		ctx = st.newCtx(label)
	}
	if ctx == 0 {
		st.l.errClear()
		return nil, ErrDecrypt
	}
	out := make([]byte, st.size)
	outLen := uintptr(len(out))
	if st.l.decrypt(ctx, &out[0], &outLen, &ct[0], uintptr(len(ct))) != 1 || outLen > uintptr(len(out)) {
		st.l.errClear()
		st.l.ctxFree(ctx) // not reused after a failure
		clear(out)
		return nil, ErrDecrypt
	}
	if len(label) == 0 {
		st.put(ctx)
	} else {
		st.l.ctxFree(ctx)
	}
	pt := make([]byte, outLen)
	copy(pt, out)
	clear(out)
	return pt, nil
}

// get returns an idle decryption context or a new one (0 on failure).
func (st *keyState) get() uintptr {
	st.mu.Lock()
	if n := len(st.idle); n > 0 {
		ctx := st.idle[n-1]
		st.idle = st.idle[:n-1]
		st.mu.Unlock()
		return ctx
	}
	st.mu.Unlock()
	return st.newCtx(nil)
}

// put keeps ctx for reuse, or frees it when enough are idle.
func (st *keyState) put(ctx uintptr) {
	st.mu.Lock()
	if len(st.idle) < st.maxIdle {
		st.idle = append(st.idle, ctx)
		st.mu.Unlock()
		return
	}
	st.mu.Unlock()
	st.l.ctxFree(ctx)
}

// newCtx makes a context set up for OAEP decryption with SHA-256 and
// MGF1-SHA-256 and the given label (0 on failure).
func (st *keyState) newCtx(label []byte) uintptr {
	l := st.l
	ctx := l.ctxNew(st.pkey, 0)
	if ctx == 0 {
		return 0
	}
	ok := l.decryptInit(ctx) == 1 &&
		l.setPadding(ctx, rsaPKCS1OAEPPadding) == 1 &&
		l.setOAEPMD(ctx, l.md) == 1 &&
		l.setMGF1MD(ctx, l.md) == 1
	if ok && len(label) > 0 {
		// set0 takes ownership of memory from OPENSSL_malloc on success.
		p := l.malloc(uintptr(len(label)), 0, 0)
		if p == nil {
			ok = false
		} else {
			copy(unsafe.Slice((*byte)(p), len(label)), label)
			if l.set0Label(ctx, p, int32(len(label))) != 1 {
				l.free(p, 0, 0)
				ok = false
			}
		}
	}
	if !ok {
		l.ctxFree(ctx)
		return 0
	}
	return ctx
}

// keysClosed counts the keys close has freed (for tests).
var keysClosed atomic.Int64

// close frees the contexts and the key; it runs once the PrivateKey is
// unreachable, so nothing else uses them.
func (st *keyState) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	defer keysClosed.Add(1)
	for _, ctx := range st.idle {
		st.l.ctxFree(ctx)
	}
	st.idle = nil
	if st.pkey != 0 {
		st.l.pkeyFree(st.pkey)
		st.pkey = 0
	}
}

// Built reports whether this build can use libcrypto at all.
const Built = true
