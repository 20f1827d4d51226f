package seal

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/convoseal/convoseal/seal/internal/libcrypto"
)

// RSARecipient wraps CEKs with RSAES-OAEP (SHA-256, MGF1-SHA-256, empty label)
// under a customer's public key.
type RSARecipient struct {
	pub *rsa.PublicKey
	fp  string
}

// NewRSARecipient checks pub against the same rules as [ParsePublicKey] and
// returns a recipient for it.
func NewRSARecipient(pub *rsa.PublicKey) (*RSARecipient, error) {
	if err := checkRSAPublic(pub); err != nil {
		return nil, err
	}
	return &RSARecipient{pub: pub, fp: Fingerprint(pub)}, nil
}

// Fingerprint returns the recipient key's fingerprint (see [Fingerprint]).
func (r *RSARecipient) Fingerprint() string { return r.fp }

// Wrap implements [Recipient].
func (r *RSARecipient) Wrap(cek []byte) (WrappedKey, error) {
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, r.pub, cek, nil)
	if err != nil {
		return WrappedKey{}, fmt.Errorf("RSA-OAEP: %w", err)
	}
	return WrappedKey{Algorithm: WrapAlgRSAOAEP, KeyID: r.fp, Key: ct}, nil
}

// RSAIdentity unwraps CEKs wrapped by the matching [RSARecipient]. It is safe
// for concurrent use. Unwrap decrypts through the system's libcrypto when it
// can (see [RSABackend]), loading the key there on first use.
type RSAIdentity struct {
	priv *rsa.PrivateKey
	fp   string
	fast func() *libcrypto.PrivateKey // nil when libcrypto refuses the key
}

// NewRSAIdentity returns an identity for priv.
func NewRSAIdentity(priv *rsa.PrivateKey) (*RSAIdentity, error) {
	if err := checkRSAPublic(&priv.PublicKey); err != nil {
		return nil, err
	}
	return &RSAIdentity{
		priv: priv,
		fp:   Fingerprint(&priv.PublicKey),
		fast: sync.OnceValue(func() *libcrypto.PrivateKey { return loadLibcryptoKey(priv) }),
	}, nil
}

// Fingerprint returns the fingerprint of the identity's public key.
func (i *RSAIdentity) Fingerprint() string { return i.fp }

// Recipient returns the recipient that seals for this identity.
func (i *RSAIdentity) Recipient() *RSARecipient {
	return &RSARecipient{pub: &i.priv.PublicKey, fp: i.fp}
}

// Unwrap implements [Identity].
func (i *RSAIdentity) Unwrap(w WrappedKey) ([]byte, error) {
	if w.Algorithm != "" && w.Algorithm != WrapAlgRSAOAEP {
		return nil, fmt.Errorf("%w: the content key is wrapped with %s, not with an RSA key", ErrIncorrectIdentity, w.Algorithm)
	}
	cek, err := i.decryptOAEPBackend(w.Key)
	if err == nil && len(cek) != CEKSize {
		clear(cek)
		err = fmt.Errorf("unwrapped key is %d bytes, want %d", len(cek), CEKSize)
	}
	if err != nil {
		if w.KeyID != "" && w.KeyID != i.fp {
			return nil, fmt.Errorf("%w: the artifact was sealed for key %s, but this private key is %s", ErrIncorrectIdentity, w.KeyID, i.fp)
		}
		if len(w.Key) != i.priv.Size() {
			return nil, fmt.Errorf("%w: the wrapped key is %d bytes, but this %d-bit key expects %d", ErrIncorrectIdentity, len(w.Key), i.priv.N.BitLen(), i.priv.Size())
		}
		return nil, fmt.Errorf("%w (private key %s), or the wrapped key was altered", ErrIncorrectIdentity, i.fp)
	}
	return cek, nil
}

// decryptOAEP is RSAES-OAEP decryption with SHA-256 and MGF1-SHA-256.
func decryptOAEP(priv *rsa.PrivateKey, ct, label []byte) ([]byte, error) {
	return rsa.DecryptOAEP(sha256.New(), nil, priv, ct, label)
}
