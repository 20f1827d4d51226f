package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Sizes fixed by the format.
const (
	CEKSize = 32 // AES-256 content-encryption key
	IVSize  = 12 // GCM nonce
	TagSize = 16 // GCM tag, appended to the ciphertext
)

// Algorithm names recorded in an [Envelope].
const (
	CEKAlgAESGCM     = "AES/GCM/NoPadding"
	WrapAlgRSAOAEP   = "RSA-OAEP-SHA256"
	WrapAlgAESGCMKEK = "A256GCMKW"

	// AADBound marks an envelope whose content was sealed by [SealBound]:
	// opening it needs the same additional data.
	AADBound = "bound-v1"
)

// Errors returned by [Open] and the identities. Test with errors.Is.
var (
	// ErrIncorrectIdentity means the wrapped key was not made for this identity:
	// the wrong private key or key-encryption key (or the wrapped key was altered).
	ErrIncorrectIdentity = errors.New("not encrypted for this key")
	// ErrAuthentication means the content failed GCM authentication: the body was
	// modified or truncated, or the IV does not belong to it.
	ErrAuthentication = errors.New("content failed authentication: the file was modified or truncated, or the IV does not belong to it")
	// ErrMalformedEnvelope means the envelope metadata is missing or invalid.
	ErrMalformedEnvelope = errors.New("malformed envelope metadata")
)

// WrappedKey is a CEK encrypted for one recipient.
type WrappedKey struct {
	Algorithm string // e.g. [WrapAlgRSAOAEP]
	KeyID     string // fingerprint of the recipient's key, if it has one
	Key       []byte // the wrapped CEK
}

// A Recipient wraps content-encryption keys so that only the matching
// [Identity] can unwrap them.
type Recipient interface {
	Wrap(cek []byte) (WrappedKey, error)
}

// An Identity unwraps content-encryption keys made for it. It returns an error
// wrapping [ErrIncorrectIdentity] when the key was made for someone else.
type Identity interface {
	Unwrap(w WrappedKey) ([]byte, error)
}

// Seal encrypts plaintext for r with a fresh CEK and IV and returns the body
// (ciphertext || tag) and the envelope needed to open it. It uses no
// additional data: this is the documented format of customer-key artifacts.
func Seal(r Recipient, plaintext []byte) (body []byte, env Envelope, err error) {
	return sealAAD(r, plaintext, nil)
}

// SealBound is [Seal] with aad as the content's GCM additional data, binding
// the body to a place (for example the identity of the object it is stored
// as). aad is not stored; the envelope records [AADBound], so that only
// [OpenBound] with the same aad opens it. Use it for what the server seals
// with its own key, never for customer-key artifacts (whose documented
// format has no additional data).
func SealBound(r Recipient, plaintext, aad []byte) (body []byte, env Envelope, err error) {
	if len(aad) == 0 {
		return nil, Envelope{}, errors.New("sealing bound content: the additional data is empty")
	}
	body, env, err = sealAAD(r, plaintext, aad)
	env.AAD = AADBound
	return body, env, err
}

func sealAAD(r Recipient, plaintext, aad []byte) (body []byte, env Envelope, err error) {
	var cek [CEKSize]byte
	iv := make([]byte, IVSize)
	rand.Read(cek[:]) // crypto/rand.Read never fails.
	rand.Read(iv)
	defer clear(cek[:])

	aead, err := newGCM(cek[:])
	if err != nil {
		return nil, Envelope{}, err
	}
	body = aead.Seal(make([]byte, 0, len(plaintext)+TagSize), iv, plaintext, aad)

	w, err := r.Wrap(cek[:])
	if err != nil {
		return nil, Envelope{}, fmt.Errorf("wrapping content key: %w", err)
	}
	env = Envelope{
		WrappedKey:  w.Key,
		IV:          iv,
		CEKAlg:      CEKAlgAESGCM,
		WrapAlg:     w.Algorithm,
		TagLen:      TagSize * 8,
		Fingerprint: w.KeyID,
	}
	return body, env, nil
}

// Open unwraps the CEK of env with id and decrypts body (ciphertext || tag).
// It refuses content sealed by [SealBound] (see [OpenBound]).
func Open(id Identity, body []byte, env Envelope) ([]byte, error) {
	if env.AAD != "" {
		return nil, fmt.Errorf("%w: the content is bound to its place (%s=%s); open it with its additional data", ErrMalformedEnvelope, MetaAAD, env.AAD)
	}
	return openAAD(id, body, env, nil)
}

// OpenBound opens what [SealBound] sealed with aad. Content sealed by [Seal]
// (an envelope without [AADBound], as earlier versions wrote) opens without
// additional data, aad unused: the caller must accept that such content is
// not bound to its place. Content sealed with other additional data fails
// with [ErrAuthentication].
func OpenBound(id Identity, body []byte, env Envelope, aad []byte) ([]byte, error) {
	if env.AAD == "" {
		return openAAD(id, body, env, nil)
	}
	if len(aad) == 0 {
		return nil, fmt.Errorf("%w: the content is bound to its place but no additional data was given", ErrAuthentication)
	}
	return openAAD(id, body, env, aad)
}

func openAAD(id Identity, body []byte, env Envelope, aad []byte) ([]byte, error) {
	if err := env.validate(); err != nil {
		return nil, err
	}
	if len(body) < TagSize {
		return nil, fmt.Errorf("%w (%d bytes is shorter than the %d-byte tag)", ErrAuthentication, len(body), TagSize)
	}
	cek, err := id.Unwrap(WrappedKey{Algorithm: env.WrapAlg, KeyID: env.Fingerprint, Key: env.WrappedKey})
	if err != nil {
		return nil, err
	}
	defer clear(cek)
	return openGCM(cek, env.IV, body, aad)
}

// openGCM decrypts ciphertext||tag with AES-GCM and a 96-bit nonce.
func openGCM(key, iv, body, aad []byte) ([]byte, error) {
	if len(key) != CEKSize {
		return nil, fmt.Errorf("%w: content key is %d bytes, want %d", ErrIncorrectIdentity, len(key), CEKSize)
	}
	if len(iv) != IVSize {
		return nil, fmt.Errorf("%w: IV is %d bytes, want %d", ErrMalformedEnvelope, len(iv), IVSize)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, iv, body, aad)
	if err != nil {
		return nil, ErrAuthentication
	}
	return pt, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("AES key: %w", err)
	}
	return cipher.NewGCM(block)
}
