package client

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/convoseal/convoseal/seal"
)

// ErrDuplicateKey is returned by [Keyring.Add] for a key already in the ring.
var ErrDuplicateKey = errors.New("this private key is already loaded")

// Keyring holds several private keys. It opens an artifact with the key whose
// fingerprint ([seal.Fingerprint], carried in the artifact's x-amz-matdesc
// metadata) matches, and otherwise tries each key in the order added. It is
// safe for concurrent use.
type Keyring struct {
	mu  sync.RWMutex
	ids []*seal.RSAIdentity
	by  map[string]*seal.RSAIdentity

	attempts atomic.Int64 // seal.Open calls, for tests
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring {
	return &Keyring{by: map[string]*seal.RSAIdentity{}}
}

// Add adds a private key. A key already in the ring is refused with
// [ErrDuplicateKey].
func (k *Keyring) Add(priv *rsa.PrivateKey) error {
	if priv == nil {
		return errors.New("no private key given")
	}
	id, err := seal.NewRSAIdentity(priv)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.by == nil {
		k.by = map[string]*seal.RSAIdentity{}
	}
	if _, dup := k.by[id.Fingerprint()]; dup {
		return fmt.Errorf("%w (%s)", ErrDuplicateKey, id.Fingerprint())
	}
	k.ids = append(k.ids, id)
	k.by[id.Fingerprint()] = id
	return nil
}

// AddPEM parses one PEM private key — PKCS #1 ("RSA PRIVATE KEY"), PKCS #8
// ("PRIVATE KEY") or passphrase-protected PKCS #8 ("ENCRYPTED PRIVATE KEY") —
// and adds it. passphrase is called only for an encrypted key; it may be nil
// when none is expected. The caller may clear pemBytes afterwards.
func (k *Keyring) AddPEM(pemBytes []byte, passphrase func() ([]byte, error)) error {
	priv, err := seal.ParsePrivateKey(pemBytes, passphrase)
	if err != nil {
		return err
	}
	return k.Add(priv)
}

// Len returns the number of keys.
func (k *Keyring) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.ids)
}

// Fingerprints returns the keys' fingerprints in the order added.
func (k *Keyring) Fingerprints() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make([]string, len(k.ids))
	for i, id := range k.ids {
		out[i] = id.Fingerprint()
	}
	return out
}

// Open decrypts an artifact (body and its envelope, as from
// [Downloader.Fetch]). When no key fits, the error wraps
// [seal.ErrIncorrectIdentity]; a key that fits but content that fails
// authentication gives [seal.ErrAuthentication].
func (k *Keyring) Open(body []byte, env seal.Envelope) ([]byte, error) {
	pt, _, err := k.OpenWith(body, env)
	return pt, err
}

// OpenWith is [Keyring.Open] that also returns the fingerprint of the key
// that opened the artifact.
func (k *Keyring) OpenWith(body []byte, env seal.Envelope) ([]byte, string, error) {
	if k == nil {
		return nil, "", fmt.Errorf("%w: no private key was given", seal.ErrIncorrectIdentity)
	}
	k.mu.RLock()
	ids := k.ids
	match := k.by[env.Fingerprint]
	k.mu.RUnlock()
	if len(ids) == 0 {
		return nil, "", fmt.Errorf("%w: no private key was given", seal.ErrIncorrectIdentity)
	}
	if match != nil {
		k.attempts.Add(1)
		pt, err := seal.Open(match, body, env)
		if err == nil || !errors.Is(err, seal.ErrIncorrectIdentity) {
			return pt, match.Fingerprint(), err
		}
	}
	// No fingerprint, an unknown one, or (unexpectedly) the matching key
	// failed: try every other key.
	for _, id := range ids {
		if id == match {
			continue
		}
		k.attempts.Add(1)
		pt, err := seal.Open(id, body, env)
		if err == nil || !errors.Is(err, seal.ErrIncorrectIdentity) {
			return pt, id.Fingerprint(), err
		}
	}
	fps := make([]string, len(ids))
	for i, id := range ids {
		fps[i] = id.Fingerprint()
	}
	sealedFor := ""
	if env.Fingerprint != "" {
		sealedFor = " for key " + env.Fingerprint
		if env.CredentialSID != "" {
			sealedFor += " (" + env.CredentialSID + ")"
		}
	}
	return nil, "", fmt.Errorf("%w: the artifact was sealed%s, and none of the %d private key(s) given opens it (%s)",
		seal.ErrIncorrectIdentity, sealedFor, len(ids), strings.Join(fps, ", "))
}
