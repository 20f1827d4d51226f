package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/auth"
	"github.com/convoseal/convoseal/internal/interop"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/internal/store/storetest"
	"github.com/convoseal/convoseal/seal"
)

// binary is the convoseal command built once for these tests: they drive the
// real program, its flags, output and exit codes.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "convoseal-cli-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "convoseal")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func (r result) must(t *testing.T, code int, stderrHas ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			t.Fatalf("stderr %q does not contain %q", r.stderr, s)
		}
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestKeygen(t *testing.T) {
	interop.RequireTools(t)
	for _, bits := range []string{"2048", "3072", "4096"} {
		dir := t.TempDir()
		r := runCLI(t, nil, "keygen", "--bits", bits, "--dir", dir)
		r.must(t, 0)
		priv, pub := filepath.Join(dir, "private_key.pem"), filepath.Join(dir, "public_key.pem")
		if m := mode(t, priv); m != 0o600 {
			t.Fatalf("private key mode %o", m)
		}
		// openssl agrees on the size, and the printed fingerprint is the key's.
		text := string(interop.Run(t, nil, "openssl", "rsa", "-in", priv, "-noout", "-text"))
		if !strings.Contains(text, "Private-Key: ("+bits+" bit") {
			t.Fatalf("openssl sees: %.80s", text)
		}
		pemBytes, _ := os.ReadFile(pub)
		key, err := seal.ParsePublicKey(pemBytes)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.stdout, "Fingerprint: "+seal.Fingerprint(key)) || !strings.Contains(r.stdout, "Next:") {
			t.Fatalf("output lacks the fingerprint or the next step:\n%s", r.stdout)
		}
	}
}

func TestKeygenRefusals(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, nil, "keygen", "--dir", dir).must(t, 0)
	before, _ := os.ReadFile(filepath.Join(dir, "private_key.pem"))
	runCLI(t, nil, "keygen", "--dir", dir).must(t, 1, "already exists")
	after, _ := os.ReadFile(filepath.Join(dir, "private_key.pem"))
	if !bytes.Equal(before, after) {
		t.Fatal("keygen overwrote a private key")
	}
	runCLI(t, nil, "keygen", "--bits", "1024", "--dir", t.TempDir()).must(t, 2, "--bits must be")
	runCLI(t, nil, "keygen", "extra").must(t, 2)
	runCLI(t, []string{"CONVOSEAL_PASSPHRASE="}, "keygen", "--encrypt", "--dir", t.TempDir()).must(t, 3, "empty")
}

// TestKeygenEncrypted: a passphrase-protected key is standard PKCS#8 that
// openssl opens, and decrypt uses it.
func TestKeygenEncrypted(t *testing.T) {
	interop.RequireTools(t)
	dir := t.TempDir()
	pass := []string{"CONVOSEAL_PASSPHRASE=s3cret pass"}
	runCLI(t, pass, "keygen", "--encrypt", "--dir", dir).must(t, 0)
	priv := filepath.Join(dir, "private_key.pem")
	pemBytes, _ := os.ReadFile(priv)
	if !bytes.Contains(pemBytes, []byte("BEGIN ENCRYPTED PRIVATE KEY")) {
		t.Fatal("not an encrypted PKCS#8 key")
	}
	interop.Run(t, nil, "openssl", "pkey", "-in", priv, "-passin", "pass:s3cret pass", "-check", "-noout")

	body, key, iv := interop.PythonSeal(t, filepath.Join(dir, "public_key.pem"), []byte(`{"a":1}`))
	f := filepath.Join(t.TempDir(), "a.bin")
	os.WriteFile(f, body, 0o600)
	r := runCLI(t, pass, "decrypt", "--private-key", priv, "--iv", iv, "--encrypted-key", key, f)
	r.must(t, 0)
	if r.stdout != "{\n  \"a\": 1\n}\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	runCLI(t, []string{"CONVOSEAL_PASSPHRASE=wrong"}, "decrypt", "--private-key", priv, "--iv", iv, "--encrypted-key", key, f).must(t, 3, "wrong passphrase")
	r = runCLI(t, nil, "decrypt", "--private-key", priv, "--passphrase-env", "NO_SUCH_VAR_SET", "--iv", iv, "--encrypted-key", key, f)
	r.must(t, 3, "passphrase")
}

const doc = `{"sentences":[{"media_channel":1,"start_time":0,"end_time":1.9,"transcript":"Hello there"}]}`

// fixture is a key pair made by the documented openssl commands and an
// artifact sealed for it by Python's cryptography, not by convoseal.
type fixture struct {
	keys      interop.KeyFiles
	body      []byte
	keyB64    string
	ivB64     string
	file      string
	otherPriv string // a different private key
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	interop.RequireTools(t)
	f := fixture{keys: interop.GenerateKeys(t, 2048)}
	f.body, f.keyB64, f.ivB64 = interop.PythonSeal(t, f.keys.Public, []byte(doc))
	f.file = filepath.Join(t.TempDir(), "sentences.bin")
	os.WriteFile(f.file, f.body, 0o600)
	f.otherPriv = interop.GenerateKeys(t, 2048).Private
	return f
}

func TestDecryptFile(t *testing.T) {
	f := newFixture(t)
	var want bytes.Buffer
	json.Indent(&want, []byte(doc), "", "  ")
	want.WriteByte('\n')
	for _, key := range []string{f.keys.Private, f.keys.PrivatePKCS8} {
		r := runCLI(t, nil, "decrypt", "--private-key", key, "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file)
		r.must(t, 0)
		if r.stdout != want.String() {
			t.Fatalf("stdout %q, want pretty JSON %q", r.stdout, want.String())
		}
	}
	r := runCLI(t, nil, "decrypt", "--raw", "--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file)
	r.must(t, 0)
	if r.stdout != doc {
		t.Fatalf("--raw changed the plaintext: %q", r.stdout)
	}

	out := filepath.Join(t.TempDir(), "plain.json")
	runCLI(t, nil, "decrypt", "-o", out, "--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file).must(t, 0)
	if m := mode(t, out); m != 0o600 {
		t.Fatalf("output mode %o, want 0600", m)
	}
	if got, _ := os.ReadFile(out); string(got) != want.String() {
		t.Fatalf("output file %q", got)
	}
	runCLI(t, nil, "decrypt", "-o", out, "--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file).must(t, 1, "exists")
	runCLI(t, nil, "decrypt", "--force", "-o", out, "--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file).must(t, 0)
}

func TestDecryptFileRefusals(t *testing.T) {
	f := newFixture(t)
	tampered := filepath.Join(t.TempDir(), "tampered.bin")
	b := bytes.Clone(f.body)
	b[3] ^= 1
	os.WriteFile(tampered, b, 0o600)
	truncated := filepath.Join(t.TempDir(), "truncated.bin")
	os.WriteFile(truncated, f.body[:len(f.body)-4], 0o600)

	cases := []struct {
		name string
		args []string
		code int
		says []string
	}{
		{"wrong private key", []string{"--private-key", f.otherPriv, "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file}, exitWrongKey, []string{"not encrypted for this key"}},
		{"modified file", []string{"--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", f.keyB64, tampered}, exitIntegrity, []string{"modified or truncated"}},
		{"truncated file", []string{"--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", f.keyB64, truncated}, exitIntegrity, []string{"modified or truncated"}},
		{"IV not base64", []string{"--private-key", f.keys.Private, "--iv", "!!!", "--encrypted-key", f.keyB64, f.file}, exitEnvelope, []string{"--iv is not valid base64"}},
		{"IV wrong length", []string{"--private-key", f.keys.Private, "--iv", "AAAAAAAAAAA=", "--encrypted-key", f.keyB64, f.file}, exitEnvelope, []string{"IV is 8 bytes, want 12"}},
		{"encrypted key not base64", []string{"--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", "%%%", f.file}, exitEnvelope, []string{"--encrypted-key is not valid base64"}},
		{"public key given as private", []string{"--private-key", f.keys.Public, "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file}, exitKey, []string{"this is a public key"}},
		{"no such key file", []string{"--private-key", "/nonexistent/key.pem", "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file}, exitKey, nil},
		{"no such input", []string{"--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", f.keyB64, "/nonexistent.bin"}, exitFailure, nil},
		{"missing --private-key", []string{"--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file}, exitUsage, []string{"--private-key is required"}},
		{"file without IV and key", []string{"--private-key", f.keys.Private, f.file}, exitUsage, []string{"needs --iv and --encrypted-key"}},
		{"--iv without --encrypted-key", []string{"--private-key", f.keys.Private, "--iv", f.ivB64, f.file}, exitUsage, []string{"go together"}},
		{"--iv with two files", []string{"--private-key", f.keys.Private, "--iv", f.ivB64, "--encrypted-key", f.keyB64, f.file, f.file}, exitUsage, []string{"exactly one FILE"}},
		{"no input", []string{"--private-key", f.keys.Private}, exitUsage, nil},
		{"unknown flag", []string{"--bogus", f.file}, exitUsage, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"decrypt"}, c.args...)...)
			r.must(t, c.code, c.says...)
			if r.stdout != "" {
				t.Fatalf("wrote to stdout on failure: %q", r.stdout)
			}
		})
	}
}

// server serves sealed artifacts the way a location does: body plus
// x-amz-meta-* headers, 403 for an expired link.
func newArtifactServer(t *testing.T, f fixture, fingerprint string) *httptest.Server {
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, headers map[string]string, body []byte) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Write(body)
	}
	full := map[string]string{"x-amz-meta-x-amz-key": f.keyB64, "x-amz-meta-x-amz-iv": f.ivB64}
	mux.HandleFunc("/a/sentences", func(w http.ResponseWriter, r *http.Request) { serve(w, full, f.body) })
	mux.HandleFunc("/a/result-1", func(w http.ResponseWriter, r *http.Request) { serve(w, full, f.body) })
	mux.HandleFunc("/a/with-matdesc", func(w http.ResponseWriter, r *http.Request) {
		h := map[string]string{"x-amz-meta-x-amz-matdesc": `{"fingerprint":"` + fingerprint + `"}`}
		for k, v := range full {
			h[k] = v
		}
		serve(w, h, f.body)
	})
	mux.HandleFunc("/a/no-iv", func(w http.ResponseWriter, r *http.Request) {
		serve(w, map[string]string{"x-amz-meta-x-amz-key": f.keyB64}, f.body)
	})
	mux.HandleFunc("/a/expired", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", http.StatusForbidden)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestDecryptURLs(t *testing.T) {
	f := newFixture(t)
	pemBytes, _ := os.ReadFile(f.keys.Public)
	pub, _ := seal.ParsePublicKey(pemBytes)
	s := newArtifactServer(t, f, seal.Fingerprint(pub))

	r := runCLI(t, nil, "decrypt", "--raw", "--private-key", f.keys.Private, s.URL+"/a/sentences?X-Signature=abc", s.URL+"/a/result-1")
	r.must(t, 0)
	if r.stdout != doc+doc {
		t.Fatalf("stdout %q", r.stdout)
	}

	dir := t.TempDir()
	runCLI(t, nil, "decrypt", "-o", dir, "--private-key", f.keys.Private, s.URL+"/a/sentences?sig=1", s.URL+"/a/result-1").must(t, 0)
	for _, n := range []string{"sentences.json", "result-1.json"} {
		if m := mode(t, filepath.Join(dir, n)); m != 0o600 {
			t.Fatalf("%s mode %o", n, m)
		}
	}

	// The wrong key with matdesc naming the right one: both fingerprints.
	other, _ := os.ReadFile(f.otherPriv)
	otherKey, _ := seal.ParsePrivateKey(other, nil)
	r = runCLI(t, nil, "decrypt", "--private-key", f.otherPriv, s.URL+"/a/with-matdesc")
	r.must(t, exitWrongKey, "not encrypted for this key", seal.Fingerprint(pub), seal.Fingerprint(&otherKey.PublicKey))

	r = runCLI(t, nil, "decrypt", "--private-key", f.keys.Private, s.URL+"/a/expired?X-Amz-Signature=SECRETSIG")
	r.must(t, exitDownload, "HTTP 403", "expired")
	if strings.Contains(r.stderr, "SECRETSIG") {
		t.Fatalf("error echoes the URL's signature: %s", r.stderr)
	}
	runCLI(t, nil, "decrypt", "--private-key", f.keys.Private, s.URL+"/a/missing").must(t, exitDownload, "HTTP 404")
	runCLI(t, nil, "decrypt", "--private-key", f.keys.Private, s.URL+"/a/no-iv").must(t, exitEnvelope, "x-amz-meta-x-amz-iv is missing")

	// Several inputs: each is attempted, the first failure sets the exit code.
	r = runCLI(t, nil, "decrypt", "--raw", "--private-key", f.keys.Private, s.URL+"/a/expired", s.URL+"/a/sentences")
	r.must(t, exitDownload, "some inputs could not be decrypted")
	if r.stdout != doc {
		t.Fatalf("the good input was not decrypted: %q", r.stdout)
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	for _, cmd := range []string{"decrypt", "keygen"} {
		r := runCLI(t, nil, cmd, "--help")
		r.must(t, 0)
		if !strings.Contains(r.stdout, "Exit codes:") || !strings.Contains(r.stdout, "usage error") {
			t.Fatalf("%s --help lacks the exit codes:\n%s", cmd, r.stdout)
		}
		// keygen lists only the codes it can end with, not decrypt's.
		if hasDecrypts := strings.Contains(r.stdout, "not encrypted for this key"); hasDecrypts != (cmd == "decrypt") {
			t.Fatalf("%s --help lists decrypt's exit codes: %v\n%s", cmd, hasDecrypts, r.stdout)
		}
	}
}

// credentialsFrom parses the CONVOSEAL_ACCOUNT_SID=… and CONVOSEAL_AUTH_TOKEN=…
// lines that accounts create and rotate-token print.
func credentialsFrom(t *testing.T, out string) (sid, token string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "CONVOSEAL_ACCOUNT_SID="); ok {
			sid = v
		}
		if v, ok := strings.CutPrefix(line, "CONVOSEAL_AUTH_TOKEN="); ok {
			token = v
		}
	}
	if token == "" {
		t.Fatalf("no credentials in %q", out)
	}
	return sid, token
}

// newKEK makes a key-encryption key file as serve does.
func newKEK(t *testing.T, path string) *seal.KEK {
	t.Helper()
	kek, err := keyring.LoadOrCreateKEK(path)
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

// checkAccount asserts the database holds sid with token's hash and token
// sealed with kek.
func checkAccount(t *testing.T, db *store.DB, kek *seal.KEK, sid, token, name string) {
	t.Helper()
	a, err := db.GetAccount(context.Background(), sid)
	if err != nil {
		t.Fatalf("account %s: %v", sid, err)
	}
	if name != "" && a.FriendlyName != name {
		t.Fatalf("friendly name %q, want %q", a.FriendlyName, name)
	}
	if !bytes.Equal(a.AuthTokenHash, auth.Hash(token)) {
		t.Fatal("stored hash is not the printed token's")
	}
	if got, err := keyring.New(kek, nil, db).OpenAuthToken(sid, a.AuthTokenSealed); err != nil || got != token {
		t.Fatalf("sealed token opens to %q, %v", got, err)
	}
}

// TestAccountsSQLite: the admin verbs on the embedded database under --data.
func TestAccountsSQLite(t *testing.T) {
	data := t.TempDir()
	kek := newKEK(t, filepath.Join(data, "kek"))
	r := runCLI(t, nil, "accounts", "create", "--data", data, "--friendly-name", "ops")
	r.must(t, 0)
	sid, token := credentialsFrom(t, r.stdout)
	r = runCLI(t, []string{"CONVOSEAL_DATA=" + data}, "accounts", "rotate-token", sid)
	r.must(t, 0)
	_, token2 := credentialsFrom(t, r.stdout)
	if token2 == token {
		t.Fatal("rotate-token kept the token")
	}
	// list needs no key.
	os.Rename(filepath.Join(data, "kek"), filepath.Join(data, "kek.away"))
	r = runCLI(t, nil, "accounts", "list", "--data", data)
	r.must(t, 0)
	if !strings.Contains(r.stdout, sid+"\t") || !strings.Contains(r.stdout, "\tops\n") {
		t.Fatalf("list: %q", r.stdout)
	}
	runCLI(t, nil, "accounts", "create", "--data", data).must(t, exitFailure, "key-encryption key")

	db, err := store.OpenSQLite(context.Background(), filepath.Join(data, "convoseal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAccount(t, db, kek, sid, token2, "ops")

	runCLI(t, nil, "accounts", "list", "--data", filepath.Join(data, "missing")).must(t, exitFailure, "data directory", "--database")
}

// TestAccountsPostgres: accounts and services work on the PostgreSQL
// database named by --database or $CONVOSEAL_DATABASE, without a data
// directory, reading the key from --kek-file, $CONVOSEAL_KEK_FILE or
// <data>/kek.
func TestAccountsPostgres(t *testing.T) {
	url, ok := storetest.PostgresURL(t) // a fresh schema of its own
	if !ok {
		t.Skipf("$%s not set (eval \"$(scripts/postgres.sh start)\")", storetest.URLEnv)
	}
	keys := t.TempDir()
	kekFile := filepath.Join(keys, "kek")
	kek := newKEK(t, kekFile)
	noData := filepath.Join(t.TempDir(), "no-such-dir")

	r := runCLI(t, nil, "accounts", "create", "--database", url, "--kek-file", kekFile, "--data", noData, "--friendly-name", "ops")
	r.must(t, 0)
	sid, token := credentialsFrom(t, r.stdout)
	if _, err := os.Stat(noData); err == nil {
		t.Fatal("accounts create --database made the data directory")
	}
	// The key found as <data>/kek.
	r = runCLI(t, nil, "accounts", "create", "--database", url, "--data", keys)
	r.must(t, 0)
	sid2, token2 := credentialsFrom(t, r.stdout)
	// Everything from the environment.
	env := []string{"CONVOSEAL_DATABASE=" + url, "CONVOSEAL_KEK_FILE=" + kekFile, "CONVOSEAL_DATA=" + noData}
	r = runCLI(t, env, "accounts", "rotate-token", sid)
	r.must(t, 0)
	_, rotated := credentialsFrom(t, r.stdout)
	if rotated == token {
		t.Fatal("rotate-token kept the token")
	}
	r = runCLI(t, []string{"CONVOSEAL_DATABASE=" + url}, "accounts", "list", "--data", noData)
	r.must(t, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], sid+"\t") || !strings.HasSuffix(lines[0], "\tops") || !strings.HasPrefix(lines[1], sid2+"\t") {
		t.Fatalf("list: %q", r.stdout)
	}

	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAccount(t, db, kek, sid, rotated, "ops")
	checkAccount(t, db, kek, sid2, token2, "")

	svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: sid, UniqueName: "calls", LanguageCode: "en-US"}
	if err := db.CreateService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "services", "data-logging", svc.SID, "on")
	r.must(t, 0)
	if !strings.Contains(r.stdout, "data logging ON") {
		t.Fatalf("data-logging: %q", r.stdout)
	}
	if got, err := db.GetService(ctx, sid, svc.SID); err != nil || !got.DataLogging {
		t.Fatalf("service after data-logging on: %+v, %v", got, err)
	}
	runCLI(t, nil, "services", "data-logging", "--database", url, convoseal.NewSID(convoseal.PrefixService), "off").must(t, exitFailure, "not found")
}

// TestAccountsDatabaseNeedsKEK: with --database, create and rotate-token need
// the KEK: without --kek-file or <data>/kek it is a usage error, found before
// connecting (the URL here has no server).
func TestAccountsDatabaseNeedsKEK(t *testing.T) {
	const nowhere = "postgres://convoseal@127.0.0.1:1/none?connect_timeout=2"
	data := t.TempDir()
	runCLI(t, nil, "accounts", "create", "--database", nowhere, "--data", data).must(t, exitUsage, "--kek-file")
	runCLI(t, []string{"CONVOSEAL_DATABASE=" + nowhere, "CONVOSEAL_DATA=" + data}, "accounts", "rotate-token", convoseal.NewSID(convoseal.PrefixAccount)).
		must(t, exitUsage, "--kek-file")
	// Given a key, it gets as far as connecting.
	newKEK(t, filepath.Join(data, "kek"))
	runCLI(t, nil, "accounts", "create", "--database", nowhere, "--data", data).must(t, exitFailure, "connecting to PostgreSQL")
}

// TestMigrate: migrate applies every migration once; run again it changes
// nothing; serve's verbs then work on the database.
func TestMigrate(t *testing.T) {
	check := func(t *testing.T, args []string) {
		r := runCLI(t, nil, append([]string{"migrate"}, args...)...)
		r.must(t, 0)
		if !strings.Contains(r.stdout, "metadata (") || !strings.Contains(r.stdout, "applied 0001_init, 0002_") ||
			!strings.Contains(r.stdout, "job queue (River): applied 001_") {
			t.Fatalf("first migrate: %q", r.stdout)
		}
		first := r.stdout
		r = runCLI(t, nil, append([]string{"migrate"}, args...)...)
		r.must(t, 0)
		if strings.Contains(r.stdout, "applied") || strings.Count(r.stdout, "up to date; schema version") != 2 {
			t.Fatalf("second migrate: %q", r.stdout)
		}
		// The same versions both times.
		version := func(s string) []string {
			var v []string
			for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
				_, after, _ := strings.Cut(line, "schema version ")
				v = append(v, after)
			}
			return v
		}
		if a, b := version(first), version(r.stdout); strings.Join(a, ",") != strings.Join(b, ",") || len(a) != 2 || a[0] == "" {
			t.Fatalf("versions %v then %v", a, b)
		}
		r = runCLI(t, nil, append([]string{"accounts", "list"}, args...)...)
		r.must(t, 0)
		if r.stdout != "" {
			t.Fatalf("accounts on a fresh database: %q", r.stdout)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		check(t, []string{"--data", data})
		if m := mode(t, data); m != 0o700 {
			t.Fatalf("data directory mode %o", m)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		url, ok := storetest.PostgresURL(t)
		if !ok {
			t.Skipf("$%s not set", storetest.URLEnv)
		}
		check(t, []string{"--database", url})
	})
	runCLI(t, nil, "migrate", "extra").must(t, exitUsage)
	runCLI(t, nil, "migrate", "--database", "postgres://convoseal@127.0.0.1:1/none?connect_timeout=2").must(t, exitFailure, "connecting to PostgreSQL")
}

// TestBootstrapFirstAccountRace: processes starting together on one empty
// database, without $CONVOSEAL_ACCOUNT_SID, make exactly one first account;
// only its maker writes credentials and prints them. On SQLite they share a
// data directory, on PostgreSQL each has its own (as a cluster's do).
func TestBootstrapFirstAccountRace(t *testing.T) {
	t.Setenv("CONVOSEAL_ACCOUNT_SID", "")
	t.Setenv("CONVOSEAL_AUTH_TOKEN", "")
	const racers = 8
	ctx := context.Background()
	for _, dialect := range []string{store.DialectSQLite, store.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			shared := t.TempDir()
			open := func() (*store.DB, error) { return store.OpenSQLite(ctx, filepath.Join(shared, "convoseal.db")) }
			if dialect == store.DialectPostgres {
				url, ok := storetest.PostgresURL(t)
				if !ok {
					t.Skipf("$%s not set", storetest.URLEnv)
				}
				open = func() (*store.DB, error) { return store.OpenPostgres(ctx, url) }
			}
			kek := newKEK(t, filepath.Join(shared, "kek"))
			dbs, dirs := make([]*store.DB, racers), make([]string, racers)
			consoles, errs := make([]bytes.Buffer, racers), make([]error, racers)
			for i := range dbs {
				db, err := open()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs[i], dirs[i] = db, shared
				if dialect == store.DialectPostgres {
					dirs[i] = t.TempDir()
				}
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range dbs {
				wg.Go(func() {
					<-start
					errs[i] = bootstrapAccount(ctx, dbs[i], kek, dirs[i], &consoles[i])
				})
			}
			close(start)
			wg.Wait()
			var printed []int
			for i := range dbs {
				if errs[i] != nil {
					t.Fatalf("racer %d: %v", i, errs[i])
				}
				if consoles[i].Len() > 0 {
					printed = append(printed, i)
				}
			}
			if len(printed) != 1 {
				t.Fatalf("%d racers printed credentials, want 1", len(printed))
			}
			w := printed[0]
			credFile := filepath.Join(dirs[w], "credentials")
			if m := mode(t, credFile); m != 0o600 {
				t.Fatalf("credentials mode %o", m)
			}
			content, _ := os.ReadFile(credFile)
			sid, token := credentialsFrom(t, string(content))
			if !strings.Contains(consoles[w].String(), sid) || !strings.Contains(consoles[w].String(), token) {
				t.Fatalf("console %q does not show the file's credentials", consoles[w].String())
			}
			list, err := dbs[0].ListAccounts(ctx)
			if err != nil || len(list) != 1 || list[0].SID != sid {
				t.Fatalf("accounts %v, %v; want only %s", list, err, sid)
			}
			checkAccount(t, dbs[0], kek, sid, token, "first account")
			for i, dir := range dirs {
				if dialect == store.DialectPostgres && i != w {
					if _, err := os.Stat(filepath.Join(dir, "credentials")); err == nil {
						t.Fatalf("racer %d, which did not create the account, wrote credentials", i)
					}
				}
				tmps, _ := filepath.Glob(filepath.Join(dir, "credentials.*.tmp"))
				if len(tmps) > 0 {
					t.Fatalf("temporary files left: %v", tmps)
				}
			}
			// A later start does nothing, even with the credentials file gone.
			os.Remove(credFile)
			var again bytes.Buffer
			if err := bootstrapAccount(ctx, dbs[1], kek, dirs[1], &again); err != nil || again.Len() > 0 {
				t.Fatalf("second bootstrap: %v, %q", err, again.String())
			}
		})
	}
}

// TestBootstrapStaleCredentials: a credentials file left from another database
// stops serve before it makes an account whose token it could not store.
func TestBootstrapStaleCredentials(t *testing.T) {
	t.Setenv("CONVOSEAL_ACCOUNT_SID", "")
	t.Setenv("CONVOSEAL_AUTH_TOKEN", "")
	ctx := context.Background()
	data := t.TempDir()
	db, err := store.OpenSQLite(ctx, filepath.Join(data, "convoseal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kek := newKEK(t, filepath.Join(data, "kek"))
	os.WriteFile(filepath.Join(data, "credentials"), []byte("old\n"), 0o600)
	var console bytes.Buffer
	if err := bootstrapAccount(ctx, db, kek, data, &console); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("err = %v", err)
	}
	if n, _ := db.CountAccounts(ctx); n != 0 || console.Len() > 0 {
		t.Fatalf("%d accounts made, console %q", n, console.String())
	}
}
