// Package keyring decides which key seals an artifact and holds the server's
// key-encryption key (KEK): a transcript with an encryption credential is
// sealed for the customer's RSA public key, one without is sealed with the KEK.
package keyring

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/seal"
)

// PublicKeys looks up an account's registered public keys.
type PublicKeys interface {
	GetPublicKey(ctx context.Context, accountSID, sid string) (*convoseal.PublicKey, error)
}

// Keyring resolves recipients and opens server-sealed artifacts.
type Keyring struct {
	kek      *seal.KEK
	previous []seal.Identity // older KEKs, still able to open
	keys     PublicKeys

	mu    sync.Mutex
	cache map[credentialKey]*seal.RSARecipient // parsed keys; keys are immutable
}

// credentialKey names a public key in the cache: a credential SID is looked
// up only under the account that registered it.
type credentialKey struct{ accountSID, credentialSID string }

// New returns a keyring sealing with kek and opening with kek or any of previous.
func New(kek *seal.KEK, previous []*seal.KEK, keys PublicKeys) *Keyring {
	k := &Keyring{kek: kek, keys: keys, cache: map[credentialKey]*seal.RSARecipient{}}
	for _, p := range previous {
		k.previous = append(k.previous, p)
	}
	return k
}

// Recipient returns who artifacts of a transcript are sealed for: the
// customer's key named by credentialSID, or the server KEK when it is empty.
// The returned envelope fields should be copied into each artifact's envelope.
func (k *Keyring) Recipient(ctx context.Context, accountSID, credentialSID string) (seal.Recipient, error) {
	if credentialSID == "" {
		return k.kek, nil
	}
	ck := credentialKey{accountSID, credentialSID}
	k.mu.Lock()
	r, ok := k.cache[ck]
	k.mu.Unlock()
	if ok {
		return r, nil
	}
	pk, err := k.keys.GetPublicKey(ctx, accountSID, credentialSID)
	if err != nil {
		return nil, fmt.Errorf("encryption credential %s: %w", credentialSID, err)
	}
	pub, err := seal.ParsePublicKey([]byte(pk.PEM))
	if err != nil {
		return nil, fmt.Errorf("encryption credential %s: %w", credentialSID, err)
	}
	r, err = seal.NewRSARecipient(pub)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.cache[ck] = r
	k.mu.Unlock()
	return r, nil
}

// ServerIdentity opens artifacts sealed with the current or a previous KEK.
func (k *Keyring) ServerIdentity() seal.Identity {
	return append(seal.Identities{k.kek}, k.previous...)
}

// KEK returns the current key-encryption key.
func (k *Keyring) KEK() *seal.KEK { return k.kek }

// LoadOrCreateKEK reads a base64 KEK from path, creating it (mode 0600) with a
// fresh key if it does not exist. A key file readable by group or others is
// refused.
func LoadOrCreateKEK(path string) (*seal.KEK, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Written whole to a temporary file, then linked into place: of
		// processes starting together, one key wins and every process
		// (including the losers) reads that complete key.
		key := seal.GenerateKEK()
		f, err := os.CreateTemp(filepath.Dir(path), ".kek-*.tmp") // mode 0600
		if err != nil {
			return nil, fmt.Errorf("creating key-encryption key: %w", err)
		}
		defer os.Remove(f.Name())
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("writing key-encryption key: %w", err)
		}
		if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("creating key-encryption key: %w", err)
		}
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("reading key-encryption key: %w", err)
		}
		return parseKEKFile(path, data)
	}
	if err != nil {
		return nil, fmt.Errorf("reading key-encryption key: %w", err)
	}
	return parseKEKFile(path, data)
}

// LoadKEK reads an existing KEK file.
func LoadKEK(path string) (*seal.KEK, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key-encryption key: %w", err)
	}
	return parseKEKFile(path, data)
}

func parseKEKFile(path string, data []byte) (*seal.KEK, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key-encryption key %s is readable by others (mode %04o); chmod 600 it", path, st.Mode().Perm())
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("key-encryption key %s is not base64", path)
	}
	return seal.NewKEK(key)
}

// sealedValue is a small secret sealed with the KEK, stored as base64 JSON.
type sealedValue struct {
	Body []byte            `json:"b"`
	Meta map[string]string `json:"m"`
}

// SealSecret seals a small server-side secret (an account's auth token, a
// media URL with credentials) with kek, bound to b, for OpenSecret.
func SealSecret(kek *seal.KEK, b Binding, secret string) (string, error) {
	body, env, err := seal.SealBound(kek, []byte(secret), b.AAD())
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(sealedValue{Body: body, Meta: env.Metadata()})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// OpenSecret opens a value made by SealSecret for b with the current or a
// previous KEK. A value sealed by an earlier version (not bound) also opens.
func (k *Keyring) OpenSecret(b Binding, sealed string) (string, error) {
	if sealed == "" {
		return "", errors.New("no sealed secret stored")
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("sealed secret: %w", err)
	}
	var v sealedValue
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("sealed secret: %w", err)
	}
	env, err := seal.ParseMetadata(v.Meta)
	if err != nil {
		return "", err
	}
	pt, err := k.Open(b, v.Body, env)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}
