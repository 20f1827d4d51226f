package console

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/convoseal/convoseal/seal"
	"github.com/youmark/pkcs8"
)

// TestCryptoModuleAgainstGo runs crypto_test.mjs under node: the console's
// crypto.js must read the key files convoseal keygen and openssl write
// (PKCS #8, PKCS #1, PBES2-encrypted PKCS #8 with SHA-1 and SHA-256 PRFs),
// compute seal.Fingerprint's value, and open what seal.Seal sealed — and
// refuse a wrong passphrase, a wrong key and a modified body.
func TestCryptoModuleAgainstGo(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (scripts/test installs it)")
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(priv)
	other8, _ := x509.MarshalPKCS8PrivateKey(other)
	spki, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	encrypt := func(h crypto.Hash, iter int) string {
		der, err := pkcs8.MarshalPrivateKey(priv, []byte("correct horse"), &pkcs8.Opts{Cipher: pkcs8.AES256CBC,
			KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: iter, HMACHash: h}})
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}))
	}
	rcpt, err := seal.NewRSARecipient(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	plaintext := `{"transcript_sid":"GT1","sentences":[{"transcript":"héllo"}]}`
	body, env, err := seal.Seal(rcpt, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	meta := env.Metadata()
	vectors := map[string]string{
		"pkcs8":         string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		"pkcs1":         string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})),
		"encrypted":     encrypt(crypto.SHA256, 600_000),
		"encryptedSHA1": encrypt(crypto.SHA1, 2048),
		"passphrase":    "correct horse",
		"other":         string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: other8})),
		"public":        string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})),
		"publicPKCS1":   string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&priv.PublicKey)})),
		"fingerprint":   seal.Fingerprint(&priv.PublicKey),
		"body":          base64.StdEncoding.EncodeToString(body),
		"key":           meta[seal.MetaKey],
		"iv":            meta[seal.MetaIV],
		"plaintext":     plaintext,
	}
	b, _ := json.Marshal(vectors)
	path := filepath.Join(t.TempDir(), "vectors.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--experimental-detect-module", "--test", "crypto_test.mjs")
	cmd.Env = append(os.Environ(), "CONSOLE_VECTORS="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test crypto_test.mjs: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
