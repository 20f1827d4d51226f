package seal_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/convoseal/convoseal/internal/interop"
	"github.com/convoseal/convoseal/seal"
)

// keyFixtures are made once per test run by openssl, never by the code under test.
type keyFixtures struct {
	dir string
}

var (
	fixturesOnce sync.Once
	fixtures     keyFixtures
	fixturesErr  error
)

const testPassphrase = "correct horse battery staple"

func openssl(t testing.TB, args ...string) []byte {
	t.Helper()
	return interop.Run(t, nil, "openssl", args...)
}

// keys returns the path of a fixture file, making all fixtures on first use.
func keys(t *testing.T) func(name string) []byte {
	t.Helper()
	interop.RequireTools(t)
	fixturesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "convoseal-keys-")
		if err != nil {
			fixturesErr = err
			return
		}
		fixtures.dir = dir
		p := func(n string) string { return filepath.Join(dir, n) }
		// The documented commands.
		openssl(t, "genrsa", "-out", p("private_key.pem"), "2048")
		openssl(t, "rsa", "-in", p("private_key.pem"), "-pubout", "-out", p("public_key.pem"))
		openssl(t, "pkcs8", "-in", p("private_key.pem"), "-topk8", "-nocrypt", "-out", p("private_key_pkcs8.pem"))
		// Other encodings of the same key.
		openssl(t, "rsa", "-in", p("private_key.pem"), "-traditional", "-out", p("private_pkcs1.pem"))
		openssl(t, "rsa", "-in", p("private_key.pem"), "-RSAPublicKey_out", "-out", p("public_pkcs1.pem"))
		openssl(t, "pkcs8", "-in", p("private_key.pem"), "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:"+testPassphrase, "-out", p("private_enc_pbkdf2.pem"))
		openssl(t, "pkcs8", "-in", p("private_key.pem"), "-topk8", "-scrypt", "-passout", "pass:"+testPassphrase, "-out", p("private_enc_scrypt.pem"))
		openssl(t, "rsa", "-in", p("private_key.pem"), "-traditional", "-aes256", "-passout", "pass:"+testPassphrase, "-out", p("private_legacy_enc.pem"))
		openssl(t, "req", "-x509", "-new", "-key", p("private_key.pem"), "-subj", "/CN=test", "-days", "1", "-out", p("cert.pem"))
		// Keys that must be refused.
		openssl(t, "genrsa", "-out", p("rsa1024.pem"), "1024")
		openssl(t, "rsa", "-in", p("rsa1024.pem"), "-pubout", "-out", p("rsa1024_pub.pem"))
		openssl(t, "genrsa", "-3", "-out", p("rsa_e3.pem"), "2048")
		openssl(t, "rsa", "-in", p("rsa_e3.pem"), "-pubout", "-out", p("rsa_e3_pub.pem"))
		openssl(t, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p("ec.pem"))
		openssl(t, "ec", "-in", p("ec.pem"), "-pubout", "-out", p("ec_pub.pem"))
		openssl(t, "pkcs8", "-in", p("ec.pem"), "-topk8", "-nocrypt", "-out", p("ec_pkcs8.pem"))
		openssl(t, "genpkey", "-algorithm", "ed25519", "-out", p("ed25519.pem"))
		openssl(t, "pkey", "-in", p("ed25519.pem"), "-pubout", "-out", p("ed25519_pub.pem"))
		openssl(t, "genpkey", "-algorithm", "x25519", "-out", p("x25519.pem"))
		openssl(t, "pkey", "-in", p("x25519.pem"), "-pubout", "-out", p("x25519_pub.pem"))
		openssl(t, "genpkey", "-algorithm", "ed448", "-out", p("ed448.pem"))
		openssl(t, "pkey", "-in", p("ed448.pem"), "-pubout", "-out", p("ed448_pub.pem"))
		openssl(t, "dsaparam", "-out", p("dsaparam.pem"), "1024")
		openssl(t, "gendsa", "-out", p("dsa.pem"), p("dsaparam.pem"))
		openssl(t, "dsa", "-in", p("dsa.pem"), "-pubout", "-out", p("dsa_pub.pem"))
	})
	if fixturesErr != nil {
		t.Fatal(fixturesErr)
	}
	return func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(fixtures.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtures.dir != "" {
		os.RemoveAll(fixtures.dir)
	}
	os.Exit(code)
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePublicKeyAccepts(t *testing.T) {
	k := keys(t)
	want, err := seal.ParsePublicKey(k("public_key.pem"))
	if err != nil {
		t.Fatalf("documented public_key.pem: %v", err)
	}
	for name, in := range map[string][]byte{
		"PKCS#1 RSA PUBLIC KEY": k("public_pkcs1.pem"),
		"CRLF line endings":     []byte(strings.ReplaceAll(string(k("public_key.pem")), "\n", "\r\n")),
		"surrounding blanks":    []byte("\n\n  " + string(k("public_key.pem")) + "\n\n"),
		// Twilio's API reference shows the key on one line.
		"one line":               []byte(strings.ReplaceAll(strings.TrimSpace(string(k("public_key.pem"))), "\n", "")),
		"spaces for line breaks": []byte(strings.ReplaceAll(strings.TrimSpace(string(k("public_key.pem"))), "\n", " ")),
	} {
		got, err := seal.ParsePublicKey(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.Equal(want) {
			t.Fatalf("%s: a different key", name)
		}
	}
}

// TestFingerprintMatchesOpenSSL pins the printed form: SHA-256 of the DER
// SubjectPublicKeyInfo, as openssl computes it.
func TestFingerprintMatchesOpenSSL(t *testing.T) {
	k := keys(t)
	pub, err := seal.ParsePublicKey(k("public_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	der := openssl(t, "pkey", "-pubin", "-in", filepath.Join(fixtures.dir, "public_key.pem"), "-outform", "DER")
	f := filepath.Join(t.TempDir(), "pub.der")
	os.WriteFile(f, der, 0o600)
	openssl(t, "dgst", "-sha256", "-binary", "-out", f+".sum", f)
	sum := strings.TrimSpace(string(openssl(t, "base64", "-A", "-in", f+".sum")))
	want := "SHA256:" + strings.TrimRight(sum, "=")
	if got := seal.Fingerprint(pub); got != want {
		t.Fatalf("fingerprint %s, openssl says %s", got, want)
	}
}

func TestParsePublicKeyRefusals(t *testing.T) {
	k := keys(t)
	pub := string(k("public_key.pem"))
	bigN := new(big.Int).Lsh(big.NewInt(1), 9000)
	bigN.Add(bigN, big.NewInt(1))
	bigDER, _ := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: bigN, E: 65537})

	cases := []struct {
		name    string
		in      []byte
		want    error
		mention string
	}{
		{"empty", nil, seal.ErrEmptyKey, ""},
		{"only white space", []byte(" \n\t\n"), seal.ErrEmptyKey, ""},
		{"garbage", []byte("hello, this is my key"), seal.ErrNotPEM, ""},
		{"OpenSSH public key", []byte("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user@host"), seal.ErrNotPEM, "ssh-keygen"},
		{"damaged base64", []byte(strings.Replace(pub, "M", "*", 3)), seal.ErrNotPEM, ""},
		{"missing END line", []byte(pub[:strings.Index(pub, "-----END")]), seal.ErrNotPEM, ""},
		{"one line, mismatched END", []byte(strings.ReplaceAll(strings.Replace(pub, "END PUBLIC KEY", "END RSA PUBLIC KEY", 1), "\n", "")), seal.ErrNotPEM, ""},
		{"one line, bad base64", []byte("-----BEGIN PUBLIC KEY-----MIIB$$-----END PUBLIC KEY-----"), seal.ErrNotPEM, ""},
		{"private key on one line", []byte(strings.ReplaceAll(string(k("private_key.pem")), "\n", "")), seal.ErrPrivateKeyGiven, ""},
		{"text before the key", []byte("my key:\n" + pub), seal.ErrNotPEM, ""},
		{"trailing junk", []byte(pub + "thanks!\n"), seal.ErrTrailingData, ""},
		{"two keys", []byte(pub + pub), seal.ErrTrailingData, "second PEM block"},
		{"too large", []byte(pub + strings.Repeat(" ", seal.MaxKeyFileSize)), seal.ErrKeyTooLarge, ""},
		{"PKCS#8 private key", k("private_key_pkcs8.pem"), seal.ErrPrivateKeyGiven, "PUBLIC key"},
		{"PKCS#1 private key", k("private_pkcs1.pem"), seal.ErrPrivateKeyGiven, ""},
		{"encrypted private key", k("private_enc_pbkdf2.pem"), seal.ErrPrivateKeyGiven, ""},
		{"EC private key", k("ec.pem"), seal.ErrPrivateKeyGiven, ""},
		{"private key after text", []byte("here:\n" + string(k("private_key.pem"))), seal.ErrPrivateKeyGiven, ""},
		{"public then private key", []byte(pub + string(k("private_key.pem"))), seal.ErrPrivateKeyGiven, ""},
		{"ECDSA public key", k("ec_pub.pem"), seal.ErrUnsupportedKeyType, "ECDSA P-256"},
		{"Ed25519 public key", k("ed25519_pub.pem"), seal.ErrUnsupportedKeyType, "Ed25519"},
		{"X25519 public key", k("x25519_pub.pem"), seal.ErrUnsupportedKeyType, "X25519"},
		{"DSA public key", k("dsa_pub.pem"), seal.ErrUnsupportedKeyType, "DSA"},
		{"Ed448 public key", k("ed448_pub.pem"), seal.ErrUnsupportedKeyType, ""},
		{"1024-bit RSA", k("rsa1024_pub.pem"), seal.ErrKeyTooSmall, "1024 bits"},
		{"exponent 3", k("rsa_e3_pub.pem"), seal.ErrUnusualExponent, "got 3"},
		{"9001-bit RSA", pemOf("PUBLIC KEY", bigDER), seal.ErrKeyTooBig, "9001 bits"},
		{"certificate", k("cert.pem"), seal.ErrWrongPEMType, "openssl x509"},
		{"other PEM type", pemOf("SOMETHING", []byte{1, 2, 3}), seal.ErrWrongPEMType, "SOMETHING"},
		{"PUBLIC KEY with junk DER", pemOf("PUBLIC KEY", []byte("not DER at all")), seal.ErrMalformedKey, ""},
		{"RSA PUBLIC KEY with junk DER", pemOf("RSA PUBLIC KEY", []byte{0x30, 0x03, 0x02, 0x01}), seal.ErrMalformedKey, ""},
		{"DER with trailing bytes", pemOf("PUBLIC KEY", append(mustDER(t, pub), 0)), seal.ErrMalformedKey, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, err := seal.ParsePublicKey(c.in)
			if key != nil || !errors.Is(err, c.want) {
				t.Fatalf("got (%v, %v), want error %v", key != nil, err, c.want)
			}
			if c.mention != "" && !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("error %q does not mention %q", err, c.mention)
			}
			assertNoKeyMaterial(t, err, c.in)
		})
	}
}

func mustDER(t *testing.T, p string) []byte {
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		t.Fatal("fixture is not PEM")
	}
	return b.Bytes
}

// assertNoKeyMaterial fails if err repeats any 16-character run of the
// input's base64 lines: a refused key is never echoed.
func assertNoKeyMaterial(t *testing.T, err error, in []byte) {
	t.Helper()
	msg := err.Error()
	for _, line := range strings.Split(string(in), "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 16 || strings.Trim(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != "" {
			continue // not a base64 line of the PEM body
		}
		for i := 0; i+16 <= len(line); i += 8 {
			if strings.Contains(msg, line[i:i+16]) {
				t.Fatalf("error message echoes key material: %q", msg)
			}
		}
	}
}

func TestParsePrivateKey(t *testing.T) {
	k := keys(t)
	want, err := seal.ParsePublicKey(k("public_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pass := func() ([]byte, error) { return []byte(testPassphrase), nil }
	for _, name := range []string{"private_key.pem", "private_key_pkcs8.pem", "private_pkcs1.pem", "private_enc_pbkdf2.pem", "private_enc_scrypt.pem"} {
		priv, err := seal.ParsePrivateKey(k(name), pass)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !priv.PublicKey.Equal(want) {
			t.Fatalf("%s: not the key of public_key.pem", name)
		}
	}
	// An unencrypted key never asks for a passphrase.
	if _, err := seal.ParsePrivateKey(k("private_key.pem"), func() ([]byte, error) { t.Fatal("asked for a passphrase"); return nil, nil }); err != nil {
		t.Fatal(err)
	}
}

func TestParsePrivateKeyRefusals(t *testing.T) {
	k := keys(t)
	right := func() ([]byte, error) { return []byte(testPassphrase), nil }
	wrong := func() ([]byte, error) { return []byte("not the passphrase"), nil }
	empty := func() ([]byte, error) { return nil, nil }
	failing := func() ([]byte, error) { return nil, errors.New("no terminal") }
	ecPKCS8 := k("ec_pkcs8.pem")
	cases := []struct {
		name string
		in   []byte
		pass func() ([]byte, error)
		want error
	}{
		{"empty", nil, nil, seal.ErrEmptyKey},
		{"garbage", []byte("-----BEGIN nonsense"), nil, seal.ErrNotPEM},
		{"public key instead", k("public_key.pem"), nil, seal.ErrPublicKeyGiven},
		{"PKCS#1 public key instead", k("public_pkcs1.pem"), nil, seal.ErrPublicKeyGiven},
		{"encrypted without passphrase", k("private_enc_pbkdf2.pem"), nil, seal.ErrPassphraseRequired},
		{"encrypted, empty passphrase", k("private_enc_pbkdf2.pem"), empty, seal.ErrPassphraseRequired},
		{"encrypted, passphrase unavailable", k("private_enc_pbkdf2.pem"), failing, seal.ErrPassphraseRequired},
		{"encrypted, wrong passphrase", k("private_enc_pbkdf2.pem"), wrong, seal.ErrBadPassphrase},
		{"scrypt, wrong passphrase", k("private_enc_scrypt.pem"), wrong, seal.ErrBadPassphrase},
		{"legacy PEM encryption", k("private_legacy_enc.pem"), right, seal.ErrLegacyEncryptedKey},
		{"EC private key", k("ec.pem"), nil, seal.ErrUnsupportedKeyType},
		{"EC key in PKCS#8", ecPKCS8, nil, seal.ErrUnsupportedKeyType},
		{"Ed25519 key", k("ed25519.pem"), nil, seal.ErrUnsupportedKeyType},
		{"Ed448 key", k("ed448.pem"), nil, seal.ErrUnsupportedKeyType},
		{"1024-bit RSA", k("rsa1024.pem"), nil, seal.ErrKeyTooSmall},
		{"exponent 3", k("rsa_e3.pem"), nil, seal.ErrUnusualExponent},
		{"junk DER", pemOf("PRIVATE KEY", []byte("junk")), nil, seal.ErrMalformedKey},
		{"two keys", append(k("private_key.pem"), k("private_key.pem")...), nil, seal.ErrTrailingData},
		{"certificate", k("cert.pem"), nil, seal.ErrWrongPEMType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, err := seal.ParsePrivateKey(c.in, c.pass)
			if key != nil || !errors.Is(err, c.want) {
				t.Fatalf("got (%v, %v), want %v", key != nil, err, c.want)
			}
			assertNoKeyMaterial(t, err, c.in)
		})
	}
}
