package seal

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// KEKSize is the size of a server key-encryption key.
const KEKSize = 32

// kekAAD binds wrapped keys to this use of the KEK.
var kekAAD = []byte("convoseal/kek/v1")

// KEK is a server-held symmetric key-encryption key. It is both a [Recipient]
// and an [Identity]: it wraps CEKs with AES-256-GCM (random 96-bit nonce;
// wrapped key = nonce || ciphertext || tag) for artifacts at rest when the
// customer has registered no public key.
type KEK struct {
	aead cipher.AEAD
	id   string
}

// GenerateKEK returns a fresh random key-encryption key.
func GenerateKEK() []byte {
	k := make([]byte, KEKSize)
	rand.Read(k)
	return k
}

// NewKEK returns the KEK for a 32-byte key.
func NewKEK(key []byte) (*KEK, error) {
	if len(key) != KEKSize {
		return nil, fmt.Errorf("key-encryption key is %d bytes, want %d", len(key), KEKSize)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("convoseal/kek-id/v1"))
	id := "KEK:" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
	return &KEK{aead: aead, id: id}, nil
}

// ID names the key without revealing it; it is recorded as the envelope's
// fingerprint.
func (k *KEK) ID() string { return k.id }

// Wrap implements [Recipient].
func (k *KEK) Wrap(cek []byte) (WrappedKey, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(cek)+k.aead.Overhead())
	rand.Read(nonce)
	return WrappedKey{Algorithm: WrapAlgAESGCMKEK, KeyID: k.id, Key: k.aead.Seal(nonce, nonce, cek, kekAAD)}, nil
}

// Unwrap implements [Identity].
func (k *KEK) Unwrap(w WrappedKey) ([]byte, error) {
	if w.Algorithm != "" && w.Algorithm != WrapAlgAESGCMKEK {
		return nil, fmt.Errorf("%w: the content key is wrapped with %s, not with a key-encryption key", ErrIncorrectIdentity, w.Algorithm)
	}
	ns := k.aead.NonceSize()
	if len(w.Key) != ns+CEKSize+k.aead.Overhead() {
		return nil, fmt.Errorf("%w: wrapped key is %d bytes, not a KEK-wrapped key", ErrIncorrectIdentity, len(w.Key))
	}
	cek, err := k.aead.Open(nil, w.Key[:ns], w.Key[ns:], kekAAD)
	if err != nil {
		if w.KeyID != "" && w.KeyID != k.id {
			return nil, fmt.Errorf("%w: the artifact was sealed for key-encryption key %s, this one is %s", ErrIncorrectIdentity, w.KeyID, k.id)
		}
		return nil, fmt.Errorf("%w (key-encryption key %s), or the wrapped key was altered", ErrIncorrectIdentity, k.id)
	}
	return cek, nil
}

// Identities is an [Identity] that tries each of its members in turn, for
// example the current and previous KEKs during rotation.
type Identities []Identity

// Unwrap implements [Identity]. It returns the first member's error when none
// succeeds.
func (ids Identities) Unwrap(w WrappedKey) ([]byte, error) {
	var first error
	for _, id := range ids {
		cek, err := id.Unwrap(w)
		if err == nil {
			return cek, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = fmt.Errorf("%w: no identities given", ErrIncorrectIdentity)
	}
	return nil, first
}
