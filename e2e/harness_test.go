// Package e2e drives the real convoseal binary over HTTP with the official
// twilio-go client, and checks what it stores and serves with implementations
// that share no code with it (the documented Python script, openssl).
package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/auth"
	"github.com/convoseal/convoseal/internal/interop"
	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	accounts "github.com/twilio/twilio-go/rest/accounts/v1"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

var binary string

// httpClient bounds every raw request, so a hung server fails a test
// instead of hanging it.
var httpClient = &http.Client{Timeout: 30 * time.Second}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "convoseal-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "convoseal")
	build := exec.Command("go", "build", "-o", binary, "../cmd/convoseal")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Server is a running convoseal process.
type Server struct {
	t          *testing.T
	Port       int
	URL        string // public URL: http://localhost:PORT
	Data       string // --data directory
	LogFile    string
	AccountSID string
	AuthToken  string
	Args       []string
	cmd        *exec.Cmd
	done       chan struct{}
	env        []string
}

// ServerOptions tune StartServer.
type ServerOptions struct {
	Data  string   // reuse a data directory (restart); default a new temp dir
	Port  int      // default a free port
	Extra []string // more flags
	Env   []string
	// Account is the file that keeps the bootstrap account's credentials
	// (default next to Data); processes of one installation share it.
	Account string
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartServer runs convoseal serve and waits until /readyz answers.
func StartServer(t *testing.T, o ServerOptions) *Server {
	t.Helper()
	s := &Server{t: t, Data: o.Data, Port: o.Port}
	if s.Data == "" {
		s.Data = filepath.Join(t.TempDir(), "data")
	}
	if s.Port == 0 {
		s.Port = freePort(t)
	}
	s.URL = fmt.Sprintf("http://localhost:%d", s.Port)
	s.LogFile = filepath.Join(filepath.Dir(s.Data), fmt.Sprintf("server-%d.log", time.Now().UnixNano()))
	accountFile := o.Account
	if accountFile == "" {
		accountFile = s.Data + ".account"
	}
	s.AccountSID, s.AuthToken = accountFor(accountFile)
	s.Args = append([]string{"serve", "--data", s.Data, "--addr", fmt.Sprintf("127.0.0.1:%d", s.Port), "--public-url", s.URL,
		"--allow-private-media", "--allow-private-webhooks", "--log-level", "debug"}, o.Extra...)
	s.env = o.Env
	s.start(s.env)
	t.Cleanup(func() { s.Stop() })
	return s
}

// accountFor makes (or recalls) the bootstrap account of a data directory.
func accountFor(f string) (string, string) {
	if b, err := os.ReadFile(f); err == nil {
		sid, tok, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		return sid, tok
	}
	sid := "AC" + auth.NewToken()
	tok := auth.NewToken()
	os.MkdirAll(filepath.Dir(f), 0o700)
	os.WriteFile(f, []byte(sid+" "+tok), 0o600)
	return sid, tok
}

func (s *Server) start(env []string) {
	s.t.Helper()
	if err := s.tryStart(env); err != nil {
		s.t.Fatal(err)
	}
}

// tryStart starts the process and waits for /readyz; safe to call from any
// goroutine.
func (s *Server) tryStart(env []string) error {
	logf, err := os.OpenFile(s.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(binary, s.Args...)
	cmd.Env = append(append(os.Environ(), "CONVOSEAL_ACCOUNT_SID="+s.AccountSID, "CONVOSEAL_AUTH_TOKEN="+s.AuthToken), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			log, _ := os.ReadFile(s.LogFile)
			return fmt.Errorf("convoseal exited during start:\n%s", log)
		default:
		}
		resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", s.Port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.LogFile)
	return fmt.Errorf("convoseal did not become ready in 20s:\n%s", log)
}

// Restart starts the process again on the same data directory and port.
func (s *Server) Restart() {
	s.t.Helper()
	s.start(s.env)
}

// Stop sends SIGTERM and waits for a graceful exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Kill sends SIGKILL: no chance to clean up.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// Exited reports whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// rewrite sends every request for *.twilio.com to the server, as an
// operator's reverse proxy or DNS would.
type rewrite struct {
	port int
	base http.RoundTripper
}

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Host, ".twilio.com") {
		r = r.Clone(r.Context())
		r.URL.Scheme = "http"
		r.URL.Host = fmt.Sprintf("localhost:%d", rw.port)
		r.Host = r.URL.Host
	}
	return rw.base.RoundTrip(r)
}

// Twilio returns the official client, unmodified, pointed at the server for
// the given credentials (the server's bootstrap account by default).
func (s *Server) Twilio(creds ...string) *twilio.RestClient {
	sid, tok := s.AccountSID, s.AuthToken
	if len(creds) == 2 {
		sid, tok = creds[0], creds[1]
	}
	c := &client.Client{
		Credentials: client.NewCredentials(sid, tok),
		HTTPClient:  &http.Client{Timeout: 30 * time.Second, Transport: rewrite{port: s.Port, base: http.DefaultTransport}},
	}
	c.SetAccountSid(sid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Username: sid, Password: tok, Client: c})
}

// NewAccount creates another account with the CLI against the same data
// directory and returns its credentials.
func (s *Server) NewAccount(t *testing.T) (sid, token string) {
	out, err := exec.Command(binary, "accounts", "create", "--data", s.Data, "--friendly-name", "tenant").Output()
	if err != nil {
		t.Fatalf("accounts create: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "CONVOSEAL_ACCOUNT_SID":
			sid = v
		case "CONVOSEAL_AUTH_TOKEN":
			token = v
		}
	}
	return sid, token
}

// Do sends a raw request with the given credentials (nil for the server's).
func (s *Server) Do(t *testing.T, method, path string, form url.Values, creds ...string) (int, map[string]any) {
	t.Helper()
	var body *bytes.Reader
	if form != nil && method != http.MethodGet {
		body = bytes.NewReader([]byte(form.Encode()))
	} else {
		body = bytes.NewReader(nil)
		if form != nil {
			path += "?" + form.Encode()
		}
	}
	req, _ := http.NewRequest(method, s.URL+path, body)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	sid, tok := s.AccountSID, s.AuthToken
	if len(creds) == 2 {
		sid, tok = creds[0], creds[1]
	}
	req.SetBasicAuth(sid, tok)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// DataURL makes an inline transcript document.
func DataURL(doc any) string {
	b, _ := json.Marshal(doc)
	return "data:application/json;base64," + base64.StdEncoding.EncodeToString(b)
}

// Channel is a Channel parameter naming the media.
func Channel(mediaURL string) map[string]any {
	return map[string]any{"media_properties": map[string]any{"media_url": mediaURL}}
}

// WaitTranscript polls until the transcript is completed or failed.
func WaitTranscript(t *testing.T, c *twilio.RestClient, sid string, within time.Duration) *intelligence.IntelligenceV2Transcript {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		tr, err := c.IntelligenceV2.FetchTranscript(sid)
		if err != nil {
			t.Fatalf("fetch transcript %s: %v", sid, err)
		}
		if s := *tr.Status; s == "completed" || s == "failed" {
			return tr
		}
		if time.Now().After(deadline) {
			t.Fatalf("transcript %s still %s after %s", sid, *tr.Status, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Download fetches a location and returns its body and the two documented
// headers, as the customer does.
func Download(t *testing.T, location string) (body []byte, keyB64, ivB64 string) {
	t.Helper()
	resp, err := httpClient.Get(location)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET location: %d %s", resp.StatusCode, buf.String())
	}
	return buf.Bytes(), resp.Header.Get("x-amz-meta-x-amz-key"), resp.Header.Get("x-amz-meta-x-amz-iv")
}

// SeedDecrypt decrypts a location with the documented Python script.
func SeedDecrypt(t *testing.T, privateKeyFile, location string) []byte {
	t.Helper()
	body, key, iv := Download(t, location)
	if key == "" || iv == "" {
		t.Fatalf("location lacks x-amz-meta-x-amz-key / x-amz-meta-x-amz-iv headers")
	}
	return interop.SeedDecrypt(t, privateKeyFile, key, iv, body)
}

// RegisterKey makes a key pair with the documented openssl commands and
// registers the public key.
func RegisterKey(t *testing.T, c *twilio.RestClient) (interop.KeyFiles, string) {
	t.Helper()
	kf := interop.GenerateKeys(t, 2048)
	pemBytes, err := os.ReadFile(kf.Public)
	if err != nil {
		t.Fatal(err)
	}
	params := &accounts.CreateCredentialPublicKeyParams{}
	params.SetPublicKey(string(pemBytes)).SetFriendlyName("e2e key")
	k, err := c.AccountsV1.CreateCredentialPublicKey(params)
	if err != nil {
		t.Fatalf("create public key: %v", err)
	}
	return kf, *k.Sid
}

func execOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
