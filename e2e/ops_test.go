package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestAccountsCLI: the operator's verbs work against a running service; a
// rotated token replaces the old one at once.
func TestAccountsCLI(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	sid, token := s.NewAccount(t)
	if _, err := s.Twilio(sid, token).IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("x")); err != nil {
		t.Fatalf("new account's credentials: %v", err)
	}
	out, err := s.CLI("accounts", "list").Output()
	if err != nil || !strings.Contains(string(out), sid) || !strings.Contains(string(out), s.AccountSID) {
		t.Fatalf("accounts list: %v\n%s", err, out)
	}
	out, err = s.CLI("accounts", "rotate-token", sid).Output()
	if err != nil {
		t.Fatal(err)
	}
	newToken := strings.TrimPrefix(strings.TrimSpace(string(out)), "CONVOSEAL_AUTH_TOKEN=")
	if len(newToken) != 32 || newToken == token {
		t.Fatalf("rotate-token printed %q", out)
	}
	var te *client.TwilioRestError
	if _, err := s.Twilio(sid, token).IntelligenceV2.FetchService("GA00000000000000000000000000000000"); !errors.As(err, &te) || te.Status != 401 {
		t.Fatalf("old token after rotation: %v", err)
	}
	if _, err := s.Twilio(sid, newToken).IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("y")); err != nil {
		t.Fatalf("new token: %v", err)
	}
	if err := s.CLI("accounts", "rotate-token", "ACnope").Run(); err == nil {
		t.Fatal("rotate-token accepted a malformed SID")
	}
}

// TestFirstStartCredentials: with no account configured, the first start
// makes one, prints it once and writes it 0600; the token stored in the
// database is not the token.
func TestFirstStartCredentials(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	port := freePort(t)
	cmd := exec.Command(binary, "serve", "--data", data, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Env = withoutAccountEnv(os.Environ())
	logf, _ := os.Create(filepath.Join(dir, "log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitReady(t, port)

	creds := filepath.Join(data, "credentials")
	st, err := os.Stat(creds)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", err, st)
	}
	b, _ := os.ReadFile(creds)
	var sid, token string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CONVOSEAL_ACCOUNT_SID="); ok {
			sid = v
		}
		if v, ok := strings.CutPrefix(l, "CONVOSEAL_AUTH_TOKEN="); ok {
			token = v
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	if !strings.Contains(string(log), token) || strings.Count(string(log), token) != 1 {
		t.Fatalf("the token is printed exactly once at first start")
	}
	for _, f := range []string{"kek", "url-signing.key", "credentials", "convoseal.db"} {
		if st, err := os.Stat(filepath.Join(data, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v", f, st.Mode().Perm(), err)
		}
	}
	db, _ := os.ReadFile(filepath.Join(data, "convoseal.db"))
	wal, _ := os.ReadFile(filepath.Join(data, "convoseal.db-wal"))
	if strings.Contains(string(db)+string(wal), token) {
		t.Fatal("the auth token is stored in the database in the clear")
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/v2/Services", port), nil)
	req.SetBasicAuth(sid, token)
	resp, err := httpClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("generated credentials: %v %v", err, resp)
	}
	resp.Body.Close()
}

func withoutAccountEnv(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "CONVOSEAL_") {
			out = append(out, e)
		}
	}
	return out
}

func waitReady(t *testing.T, port int) {
	t.Helper()
	for range 200 {
		if resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("not ready")
}

// TestEnvironmentFlagsAndExpiry: flags are read from CONVOSEAL_* variables;
// a location stops working at its expiry with a 403 that says so.
func TestEnvironmentFlagsAndExpiry(t *testing.T) {
	s := StartServer(t, ServerOptions{Env: []string{"CONVOSEAL_URL_EXPIRY=2s"}})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("short").SetEncryptionCredentialSid(cred))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": conversation[:1]}))))
	if err != nil {
		t.Fatal(err)
	}
	WaitTranscript(t, c, *tr.Sid, 30*time.Second)
	enc, err := c.IntelligenceV2.FetchEncryptedSentences(*tr.Sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertSentences(t, SeedDecrypt(t, kf.Private, *enc.Location), *tr.Sid, conversation[:1])
	time.Sleep(3 * time.Second)
	resp, err := httpClient.Get(*enc.Location)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 512)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body[:n]), "expired") {
		t.Fatalf("expired location: %d %s", resp.StatusCode, body[:n])
	}
	// The CLI says what an expired link means.
	out, err := exec.Command(binary, "decrypt", "--private-key", kf.Private, *enc.Location).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 || !strings.Contains(string(out), "expired") || strings.Contains(string(out), "Signature=") {
		t.Fatalf("convoseal decrypt of an expired location: %v\n%s", err, out)
	}
	// A fresh fetch of the resource gives a fresh, working location.
	enc2, err := c.IntelligenceV2.FetchEncryptedSentences(*tr.Sid, nil)
	if err != nil || *enc2.Location == *enc.Location {
		t.Fatalf("fresh location: %v", err)
	}
	assertSentences(t, SeedDecrypt(t, kf.Private, *enc2.Location), *tr.Sid, conversation[:1])
}

// TestKEKRotation: after the operator replaces the key-encryption key and
// names the old one with --previous-kek-files, artifacts sealed before stay
// readable and new ones are sealed with the new key.
func TestKEKRotation(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("kek"))
	if err != nil {
		t.Fatal(err)
	}
	submit := func() string {
		tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
			SetChannel(Channel(DataURL(map[string]any{"sentences": conversation[:1]}))))
		if err != nil {
			t.Fatal(err)
		}
		WaitTranscript(t, c, *tr.Sid, 30*time.Second)
		return *tr.Sid
	}
	before := submit()
	s.Stop()
	old := filepath.Join(filepath.Dir(s.Data), "kek.old")
	if err := os.Rename(s.KEKFile(), old); err != nil {
		t.Fatal(err)
	}
	s.AddArgs("--previous-kek-files", old)
	s.Restart()
	after := submit()
	for _, sid := range []string{before, after} {
		got, err := c.IntelligenceV2.ListSentence(sid, nil)
		if err != nil || len(got) != 1 || *got[0].Transcript != conversation[0].Transcript {
			t.Fatalf("%s after rotation: %v", sid, err)
		}
	}
	oldKey, _ := os.ReadFile(old)
	newKey, _ := os.ReadFile(s.KEKFile())
	if len(newKey) == 0 || string(oldKey) == string(newKey) {
		t.Fatal("no new key-encryption key was made")
	}
}
