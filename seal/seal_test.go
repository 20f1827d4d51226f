package seal_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/convoseal/convoseal/seal"
)

var (
	keysOnce sync.Once
	keyA     *rsa.PrivateKey
	keyB     *rsa.PrivateKey
)

func testKeys(t testing.TB) (a, b *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if keyA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keyB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

func identity(t testing.TB, k *rsa.PrivateKey) *seal.RSAIdentity {
	t.Helper()
	id, err := seal.NewRSAIdentity(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSealOpenRoundTrip(t *testing.T) {
	a, _ := testKeys(t)
	id := identity(t, a)
	for _, size := range []int{0, 1, 15, 16, 17, 1000, 1 << 20} {
		pt := make([]byte, size)
		rand.Read(pt)
		body, env, err := seal.Seal(id.Recipient(), pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(body) != size+seal.TagSize {
			t.Fatalf("size %d: body is %d bytes, want ciphertext+tag = %d", size, len(body), size+seal.TagSize)
		}
		if len(env.IV) != seal.IVSize || len(env.WrappedKey) != 256 {
			t.Fatalf("IV %d bytes, wrapped key %d bytes", len(env.IV), len(env.WrappedKey))
		}
		if env.WrapAlg != seal.WrapAlgRSAOAEP || env.CEKAlg != seal.CEKAlgAESGCM || env.TagLen != 128 || env.Fingerprint != id.Fingerprint() {
			t.Fatalf("envelope descriptors: %+v", env)
		}
		got, err := seal.Open(id, body, env)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("size %d: round trip changed the plaintext", size)
		}
	}
}

// TestSealIsFreshEachTime: every seal of the same plaintext has its own CEK,
// IV and wrapped key, so no two artifacts share key material.
func TestSealIsFreshEachTime(t *testing.T) {
	a, _ := testKeys(t)
	id := identity(t, a)
	pt := []byte(`{"sentences":[{"transcript":"same text every time"}]}`)
	ceks, ivs, wrapped, bodies := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	const n = 50
	for range n {
		body, env, err := seal.Seal(id.Recipient(), pt)
		if err != nil {
			t.Fatal(err)
		}
		cek, err := id.Unwrap(seal.WrappedKey{Algorithm: env.WrapAlg, Key: env.WrappedKey})
		if err != nil {
			t.Fatal(err)
		}
		if len(cek) != seal.CEKSize {
			t.Fatalf("CEK is %d bytes", len(cek))
		}
		ceks[string(cek)], ivs[string(env.IV)], wrapped[string(env.WrappedKey)], bodies[string(body)] = true, true, true, true
	}
	if len(ceks) != n || len(ivs) != n || len(wrapped) != n || len(bodies) != n {
		t.Fatalf("distinct over %d seals: CEKs %d, IVs %d, wrapped keys %d, bodies %d", n, len(ceks), len(ivs), len(wrapped), len(bodies))
	}
}

func TestOpenRefusals(t *testing.T) {
	a, b := testKeys(t)
	idA, idB := identity(t, a), identity(t, b)
	pt := []byte(`{"transcript":"hello"}`)
	body, env, err := seal.Seal(idA.Recipient(), pt)
	if err != nil {
		t.Fatal(err)
	}
	kek, _ := seal.NewKEK(seal.GenerateKEK())
	kekBody, kekEnv, _ := seal.Seal(kek, pt)

	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	withIV := func(iv []byte) seal.Envelope { e := env; e.IV = iv; return e }
	withKey := func(k []byte) seal.Envelope { e := env; e.WrappedKey = k; return e }
	noFP := env
	noFP.Fingerprint = ""

	cases := []struct {
		name    string
		id      seal.Identity
		body    []byte
		env     seal.Envelope
		want    error
		mention []string
	}{
		{"wrong private key names both fingerprints", idB, body, env, seal.ErrIncorrectIdentity, []string{idA.Fingerprint(), idB.Fingerprint()}},
		{"wrong private key without matdesc", idB, body, noFP, seal.ErrIncorrectIdentity, []string{idB.Fingerprint()}},
		{"modified ciphertext", idA, flip(body, 0), env, seal.ErrAuthentication, nil},
		{"modified tag", idA, flip(body, len(body)-1), env, seal.ErrAuthentication, nil},
		{"truncated body", idA, body[:len(body)-1], env, seal.ErrAuthentication, nil},
		{"body shorter than a tag", idA, body[:5], env, seal.ErrAuthentication, nil},
		{"empty body", idA, nil, env, seal.ErrAuthentication, nil},
		{"IV of another artifact", idA, body, withIV(make([]byte, 12)), seal.ErrAuthentication, nil},
		{"IV too short", idA, body, withIV(make([]byte, 8)), seal.ErrMalformedEnvelope, []string{"IV is 8 bytes"}},
		{"IV too long", idA, body, withIV(make([]byte, 16)), seal.ErrMalformedEnvelope, nil},
		{"modified wrapped key", idA, body, withKey(flip(env.WrappedKey, 10)), seal.ErrIncorrectIdentity, nil},
		{"truncated wrapped key", idA, body, withKey(env.WrappedKey[:100]), seal.ErrIncorrectIdentity, nil},
		{"empty wrapped key", idA, body, withKey(nil), seal.ErrMalformedEnvelope, nil},
		{"KEK-wrapped artifact opened with RSA key", idA, kekBody, kekEnv, seal.ErrIncorrectIdentity, []string{"A256GCMKW"}},
		{"RSA-wrapped artifact opened with KEK", kek, body, env, seal.ErrIncorrectIdentity, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := seal.Open(c.id, c.body, c.env)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if got != nil {
				t.Fatal("plaintext returned with an error")
			}
			for _, m := range c.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestKEK(t *testing.T) {
	k1, err := seal.NewKEK(seal.GenerateKEK())
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := seal.NewKEK(seal.GenerateKEK())
	if k1.ID() == k2.ID() || !strings.HasPrefix(k1.ID(), "KEK:") {
		t.Fatalf("KEK ids %q %q", k1.ID(), k2.ID())
	}
	pt := []byte("server-side sealed")
	body, env, err := seal.Seal(k1, pt)
	if err != nil {
		t.Fatal(err)
	}
	if env.WrapAlg != seal.WrapAlgAESGCMKEK || env.Fingerprint != k1.ID() {
		t.Fatalf("envelope %+v", env)
	}
	if got, err := seal.Open(k1, body, env); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open with own KEK: %q, %v", got, err)
	}
	if _, err := seal.Open(k2, body, env); !errors.Is(err, seal.ErrIncorrectIdentity) || !strings.Contains(err.Error(), k1.ID()) {
		t.Fatalf("open with other KEK: %v", err)
	}
	// During rotation a ring of old and new keys opens both.
	ring := seal.Identities{k2, k1}
	if got, err := seal.Open(ring, body, env); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open with ring: %v", err)
	}
	if _, err := seal.NewKEK(make([]byte, 16)); err == nil {
		t.Fatal("16-byte KEK accepted")
	}
}

func TestEnvelopeMetadata(t *testing.T) {
	a, _ := testKeys(t)
	id := identity(t, a)
	body, env, err := seal.Seal(id.Recipient(), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	env.CredentialSID = "CR0123456789abcdef0123456789abcdef"
	meta := env.Metadata()
	if meta["x-amz-key"] != base64.StdEncoding.EncodeToString(env.WrappedKey) || meta["x-amz-iv"] != base64.StdEncoding.EncodeToString(env.IV) {
		t.Fatalf("x-amz-key / x-amz-iv not standard base64: %v", meta)
	}
	for k, want := range map[string]string{
		"x-amz-cek-alg":  "AES/GCM/NoPadding",
		"x-amz-wrap-alg": "RSA-OAEP-SHA256",
		"x-amz-tag-len":  "128",
		"x-amz-matdesc":  `{"credential_sid":"CR0123456789abcdef0123456789abcdef","fingerprint":"` + id.Fingerprint() + `"}`,
	} {
		if meta[k] != want {
			t.Errorf("%s = %q, want %q", k, meta[k], want)
		}
	}
	back, err := seal.ParseMetadata(meta)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.WrappedKey, env.WrappedKey) || !bytes.Equal(back.IV, env.IV) || back.Fingerprint != env.Fingerprint ||
		back.CredentialSID != env.CredentialSID || back.WrapAlg != env.WrapAlg || back.CEKAlg != env.CEKAlg || back.TagLen != env.TagLen {
		t.Fatalf("metadata round trip: %+v vs %+v", back, env)
	}

	// Over HTTP, as a download carries it; header names are case-insensitive.
	h := http.Header{}
	env.SetHeaders(h)
	if h.Get("X-Amz-Meta-X-Amz-Key") == "" || h.Get("x-amz-meta-x-amz-iv") == "" {
		t.Fatalf("headers: %v", h)
	}
	fromHeaders, err := seal.ParseHeaders(h)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := seal.Open(id, body, fromHeaders); err != nil || string(got) != "x" {
		t.Fatalf("open from headers: %v", err)
	}

	// The documented minimum: only key and IV.
	minimal, err := seal.ParseMetadata(map[string]string{"X-Amz-Meta-X-Amz-Key": meta["x-amz-key"], "x-amz-meta-x-amz-iv": meta["x-amz-iv"]})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := seal.Open(id, body, minimal); err != nil || string(got) != "x" {
		t.Fatalf("open from key and IV only: %v", err)
	}
}

func TestParseMetadataRefusals(t *testing.T) {
	good := map[string]string{"x-amz-key": base64.StdEncoding.EncodeToString(make([]byte, 256)), "x-amz-iv": base64.StdEncoding.EncodeToString(make([]byte, 12))}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "<delete>" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name    string
		meta    map[string]string
		mention string
	}{
		{"missing key header", with("x-amz-key", "<delete>"), "x-amz-meta-x-amz-key is missing"},
		{"missing IV header", with("x-amz-iv", "<delete>"), "x-amz-meta-x-amz-iv is missing"},
		{"key not base64", with("x-amz-key", "not*base64!"), "x-amz-key is not valid base64"},
		{"IV not base64", with("x-amz-iv", "%%%"), "x-amz-iv is not valid base64"},
		{"empty IV", with("x-amz-iv", ""), "x-amz-iv is empty"},
		{"short IV", with("x-amz-iv", base64.StdEncoding.EncodeToString(make([]byte, 16))), "IV is 16 bytes, want 12"},
		{"oversized key", with("x-amz-key", base64.StdEncoding.EncodeToString(make([]byte, 2000))), "wrapped key is 2000 bytes"},
		{"absurdly long key header", with("x-amz-key", strings.Repeat("A", 10000)), "x-amz-key is too long"},
		{"unknown content algorithm", with("x-amz-cek-alg", "AES/CBC/PKCS5Padding"), "AES/CBC/PKCS5Padding"},
		{"unsupported tag length", with("x-amz-tag-len", "96"), "tag length 96"},
		{"tag length not a number", with("x-amz-tag-len", "x"), "not a number"},
		{"matdesc not JSON", with("x-amz-matdesc", "{"), "not JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := seal.ParseMetadata(c.meta)
			if !errors.Is(err, seal.ErrMalformedEnvelope) {
				t.Fatalf("err = %v, want ErrMalformedEnvelope", err)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("error %q does not mention %q", err, c.mention)
			}
		})
	}
	// The same field twice with different values is ambiguous.
	twice := with("x-amz-meta-x-amz-iv", base64.StdEncoding.EncodeToString([]byte("another iv..")))
	if _, err := seal.ParseMetadata(twice); !errors.Is(err, seal.ErrMalformedEnvelope) || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("conflicting duplicate IV: %v", err)
	}
	// Unpadded base64 is accepted, as many clients strip padding.
	m := with("x-amz-iv", strings.TrimRight(good["x-amz-iv"], "="))
	if _, err := seal.ParseMetadata(m); err != nil {
		t.Fatalf("unpadded IV: %v", err)
	}
}
