package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/seal"
)

// fakeKeys holds public keys by account and credential SID.
type fakeKeys map[[2]string]*rsa.PublicKey

func (f fakeKeys) GetPublicKey(_ context.Context, accountSID, sid string) (*convoseal.PublicKey, error) {
	pub, ok := f[[2]string{accountSID, sid}]
	if !ok {
		return nil, convoseal.ErrNotFound
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return &convoseal.PublicKey{SID: sid, AccountSID: accountSID, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}, nil
}

func newKEK(t *testing.T) *seal.KEK {
	t.Helper()
	k, err := seal.NewKEK(seal.GenerateKEK())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRecipientCacheByAccount: a credential SID resolved for one account is
// never served from the cache to another: the other account gets its own
// key under the same SID, or not found when it has none.
func TestRecipientCacheByAccount(t *testing.T) {
	const cred = "CR00000000000000000000000000000001"
	const acctA, acctB, acctC = "AC0000000000000000000000000000000a", "AC0000000000000000000000000000000b", "AC0000000000000000000000000000000c"
	keyA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyB, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k := New(newKEK(t), nil, fakeKeys{{acctA, cred}: &keyA.PublicKey, {acctB, cred}: &keyB.PublicKey})
	ctx := context.Background()
	fp := func(acct string) (string, error) {
		r, err := k.Recipient(ctx, acct, cred)
		if err != nil {
			return "", err
		}
		return r.(*seal.RSARecipient).Fingerprint(), nil
	}
	if got, err := fp(acctA); err != nil || got != seal.Fingerprint(&keyA.PublicKey) {
		t.Fatalf("account A: %s, %v", got, err)
	}
	if got, err := fp(acctB); err != nil || got != seal.Fingerprint(&keyB.PublicKey) {
		t.Fatalf("account B got %s (A's key is %s), %v", got, seal.Fingerprint(&keyA.PublicKey), err)
	}
	if got, err := fp(acctC); !errors.Is(err, convoseal.ErrNotFound) {
		t.Fatalf("account C, which has no such key, got %q, %v", got, err)
	}
}

// TestSecretBinding: a sealed secret opens only for its own binding; one
// sealed by an earlier version (unbound) still opens.
func TestSecretBinding(t *testing.T) {
	kek := newKEK(t)
	k := New(kek, nil, fakeKeys{})
	a := Binding{Kind: BindAuthToken, AccountSID: "ACa"}
	sealed, err := SealSecret(kek, a, "token-a")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.OpenSecret(a, sealed); err != nil || got != "token-a" {
		t.Fatalf("own binding: %q, %v", got, err)
	}
	for _, other := range []Binding{{Kind: BindAuthToken, AccountSID: "ACb"}, {Kind: BindMediaURL, AccountSID: "ACa"}} {
		if got, err := k.OpenSecret(other, sealed); !errors.Is(err, seal.ErrAuthentication) {
			t.Fatalf("binding %+v opened %q (%v)", other, got, err)
		}
	}
	// Distinct bindings encode distinctly, even when the fields' bytes run together.
	if bytes.Equal(Binding{Kind: "ab", AccountSID: "c"}.AAD(), Binding{Kind: "a", AccountSID: "bc"}.AAD()) {
		t.Fatal("bindings collide")
	}
	// The previous version's format: unbound.
	body, env, err := seal.Seal(kek, []byte("old-token"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := k.Open(a, body, env)
	if err != nil || string(old) != "old-token" {
		t.Fatalf("previous format: %q, %v", old, err)
	}
}
