package seal_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"testing"

	"github.com/convoseal/convoseal/internal/interop"
	"github.com/convoseal/convoseal/seal"
)

const interopDoc = `{"sentences":[{"media_channel":1,"start_time":0.0,"end_time":1.9,"transcript":"Hello, thanks for calling. ünïcödé ✓","confidence":0.93}]}`

// TestInteropSealedByGo: what seal produces for keys made by the documented
// openssl commands is opened by the documented Python script, and by openssl
// pkeyutl plus Python's AESGCM.
func TestInteropSealedByGo(t *testing.T) {
	interop.RequireTools(t)
	for _, bits := range []int{2048, 3072, 4096} {
		kf := interop.GenerateKeys(t, bits)
		pemBytes, err := os.ReadFile(kf.Public)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := seal.ParsePublicKey(pemBytes)
		if err != nil {
			t.Fatalf("%d bits: documented public_key.pem refused: %v", bits, err)
		}
		r, err := seal.NewRSARecipient(pub)
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range [][]byte{[]byte(interopDoc), {}, bytes.Repeat([]byte{0xA5}, 100_000)} {
			body, env, err := seal.Seal(r, pt)
			if err != nil {
				t.Fatal(err)
			}
			meta := env.Metadata()
			for _, keyFile := range []string{kf.Private, kf.PrivatePKCS8} {
				got := interop.SeedDecrypt(t, keyFile, meta[seal.MetaKey], meta[seal.MetaIV], body)
				if !bytes.Equal(got, pt) {
					t.Fatalf("%d bits, %s: seed script returned %d bytes, want %d", bits, keyFile, len(got), len(pt))
				}
			}
			got := interop.OpenSSLOpen(t, kf.Private, env.WrappedKey, env.IV, body)
			if !bytes.Equal(got, pt) {
				t.Fatalf("%d bits: openssl pkeyutl + AESGCM returned %d bytes, want %d", bits, len(got), len(pt))
			}
		}
	}
}

// TestInteropSealedByPython: artifacts sealed by Python's cryptography
// following the documented procedure open with seal, using the private key
// files exactly as openssl wrote them.
func TestInteropSealedByPython(t *testing.T) {
	interop.RequireTools(t)
	kf := interop.GenerateKeys(t, 2048)
	body, keyB64, ivB64 := interop.PythonSeal(t, kf.Public, []byte(interopDoc))
	for _, keyFile := range []string{kf.Private, kf.PrivatePKCS8} {
		pemBytes, err := os.ReadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := seal.ParsePrivateKey(pemBytes, nil)
		if err != nil {
			t.Fatalf("%s: %v", keyFile, err)
		}
		id, err := seal.NewRSAIdentity(priv)
		if err != nil {
			t.Fatal(err)
		}
		env, err := seal.ParseMetadata(map[string]string{seal.MetaKey: keyB64, seal.MetaIV: ivB64})
		if err != nil {
			t.Fatal(err)
		}
		got, err := seal.Open(id, body, env)
		if err != nil {
			t.Fatalf("%s: %v", keyFile, err)
		}
		if string(got) != interopDoc {
			t.Fatalf("got %q", got)
		}
		// The same artifact with one bit flipped is refused.
		bad := bytes.Clone(body)
		bad[len(bad)/2] ^= 0x80
		if _, err := seal.Open(id, bad, env); err == nil {
			t.Fatal("tampered Python artifact opened")
		}
	}
	if _, err := base64.StdEncoding.DecodeString(keyB64); err != nil {
		t.Fatal(err)
	}
}
