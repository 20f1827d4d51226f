// Package interop drives implementations of the sealing format that share no
// code with convoseal — the documented Python decryption script (Python's
// cryptography package) and the openssl command — so that tests can check
// convoseal's artifacts against them in both directions.
package interop

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var (
	//go:embed seed_decrypt.py
	seedDecryptPy []byte
	//go:embed seed_encrypt.py
	seedEncryptPy []byte
	//go:embed aesgcm_open.py
	aesgcmOpenPy []byte
)

// RequireTools fails the test when python3 with the cryptography package or
// openssl is missing: they are part of every supported machine, so their
// absence is a broken setup, not a reason to skip.
func RequireTools(t testing.TB) {
	t.Helper()
	if out, err := exec.Command("python3", "-c", "import cryptography; print(cryptography.__version__)").CombinedOutput(); err != nil {
		t.Fatalf("python3 with the cryptography package is required: %v\n%s", err, out)
	}
	if out, err := exec.Command("openssl", "version").CombinedOutput(); err != nil {
		t.Fatalf("openssl is required: %v\n%s", err, out)
	}
}

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

func script(t testing.TB, name string, src []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, src, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// KeyFiles are the files the documented openssl commands produce.
type KeyFiles struct {
	Private      string // openssl genrsa -out private_key.pem BITS
	Public       string // openssl rsa -in private_key.pem -pubout -out public_key.pem
	PrivatePKCS8 string // openssl pkcs8 -in private_key.pem -topk8 -nocrypt -out private_key_pkcs8.pem
}

// GenerateKeys runs the documented key-generation commands in a new temporary
// directory.
func GenerateKeys(t testing.TB, bits int) KeyFiles {
	t.Helper()
	dir := t.TempDir()
	k := KeyFiles{
		Private:      filepath.Join(dir, "private_key.pem"),
		Public:       filepath.Join(dir, "public_key.pem"),
		PrivatePKCS8: filepath.Join(dir, "private_key_pkcs8.pem"),
	}
	Run(t, nil, "openssl", "genrsa", "-out", k.Private, strconv.Itoa(bits))
	Run(t, nil, "openssl", "rsa", "-in", k.Private, "-pubout", "-out", k.Public)
	Run(t, nil, "openssl", "pkcs8", "-in", k.Private, "-topk8", "-nocrypt", "-out", k.PrivatePKCS8)
	return k
}

// SeedDecrypt opens body with the documented Python script and returns the
// plaintext it wrote.
func SeedDecrypt(t testing.TB, privateKeyFile, wrappedKeyB64, ivB64 string, body []byte) []byte {
	t.Helper()
	ct := filepath.Join(t.TempDir(), "artifact.bin")
	if err := os.WriteFile(ct, body, 0o600); err != nil {
		t.Fatal(err)
	}
	Run(t, []string{
		"ENCRYPTED_KEY_B64=" + wrappedKeyB64,
		"IV_B64=" + ivB64,
		"CIPHERTEXT_FILE=" + ct,
		"PRIVATE_KEY_FILE=" + privateKeyFile,
	}, "python3", script(t, "seed_decrypt.py", seedDecryptPy))
	pt, err := os.ReadFile(ct + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

// OpenSSLOpen unwraps the CEK with openssl pkeyutl (RSA-OAEP, SHA-256,
// MGF1-SHA-256) and opens body with Python's AESGCM.
func OpenSSLOpen(t testing.TB, privateKeyFile string, wrappedKey, iv, body []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	wk, cek := filepath.Join(dir, "wrapped.bin"), filepath.Join(dir, "cek.bin")
	bodyFile, out := filepath.Join(dir, "body.bin"), filepath.Join(dir, "plain.out")
	if err := os.WriteFile(wk, wrappedKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	Run(t, nil, "openssl", "pkeyutl", "-decrypt", "-inkey", privateKeyFile, "-in", wk, "-out", cek,
		"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256")
	Run(t, nil, "python3", script(t, "aesgcm_open.py", aesgcmOpenPy), cek, base64.StdEncoding.EncodeToString(iv), bodyFile, out)
	pt, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

// PythonSeal seals plaintext for the public key with Python's cryptography
// only, and returns the body and the base64 x-amz-key and x-amz-iv values.
func PythonSeal(t testing.TB, publicKeyFile string, plaintext []byte) (body []byte, wrappedKeyB64, ivB64 string) {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "plain.in"), filepath.Join(dir, "sealed.bin")
	if err := os.WriteFile(in, plaintext, 0o600); err != nil {
		t.Fatal(err)
	}
	lines := Run(t, nil, "python3", script(t, "seed_encrypt.py", seedEncryptPy), publicKeyFile, in, out)
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "x-amz-key":
			wrappedKeyB64 = v
		case "x-amz-iv":
			ivB64 = v
		}
	}
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if wrappedKeyB64 == "" || ivB64 == "" {
		t.Fatalf("seed_encrypt.py printed no key or IV: %q", lines)
	}
	return body, wrappedKeyB64, ivB64
}
