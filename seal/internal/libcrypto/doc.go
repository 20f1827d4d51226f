// Package libcrypto is RSAES-OAEP decryption (SHA-256, MGF1-SHA-256) through
// the system's OpenSSL 3 libcrypto, loaded at run time with purego: the
// binary needs no cgo, and on a machine without the library [Load] reports
// an error and the caller keeps to Go's crypto/rsa.
//
// It exists for speed. On CPUs with AVX-512 IFMA OpenSSL 3 computes an
// RSA-2048 private operation several times faster than Go's constant-time
// arithmetic, and opening a sealed artifact is one such operation.
//
// Key material: a [PrivateKey] is built once from the key's PKCS #1 DER,
// copied into memory allocated by libcrypto and cleansed there as soon as
// OpenSSL has parsed it; the caller's DER is zeroed. OpenSSL frees (and
// clears) its copy when the [PrivateKey] is garbage collected. Nothing is
// logged or written anywhere.
//
// Build with the tag convoseal_nolibcrypto to leave purego (and the dynamic
// link to libdl that it brings to CGO_ENABLED=0 builds) out of the binary;
// [Load] then always fails. On platforms other than linux/amd64 and
// linux/arm64 the package is that stub too.
package libcrypto

import "errors"

// ErrUnavailable wraps every reason why [Load] cannot provide libcrypto.
var ErrUnavailable = errors.New("libcrypto is not available")

// ErrDecrypt is returned by [PrivateKey.DecryptOAEP] for every failed
// decryption, without saying why (the reason would be a padding oracle).
var ErrDecrypt = errors.New("RSA-OAEP decryption failed")

// EnvLibrary names the environment variable that overrides the library
// loaded (a file name searched by the dynamic loader, or a path).
const EnvLibrary = "CONVOSEAL_LIBCRYPTO"
