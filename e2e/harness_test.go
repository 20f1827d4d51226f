// Package e2e drives the real convoseal binary over HTTP with the official
// twilio-go client, and checks what it stores and serves with implementations
// that share no code with it (the documented Python script, openssl).
package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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
	// A serve a test starts without --metrics-addr serves no metrics (the
	// default port would clash between processes).
	os.Setenv("CONVOSEAL_METRICS_ADDR", "")
	build := exec.Command("go", "build", "-o", binary, "../cmd/convoseal")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Server is one convoseal installation under test, as its users see it: one
// URL and one bootstrap account. On the embedded defaults it is a single
// process (role all) over SQLite and a local blob directory. With
// CONVOSEAL_E2E_BACKEND=cluster, every StartServer makes a fresh PostgreSQL
// database and S3 bucket and runs two API and three worker processes on them,
// behind a round-robin front proxy at URL (as a load balancer would be), so
// the same tests prove both.
type Server struct {
	t          *testing.T
	Port       int    // the port at URL
	URL        string // public URL: http://localhost:PORT
	Data       string // --data directory (cluster: the installation's directory, holding its KEK)
	AccountSID string
	AuthToken  string
	// APIs are the processes that answer the API (embedded: the only
	// process); Workers the worker-role processes (cluster only).
	APIs, Workers []*Process
	cluster       *clusterBackend
	noAccount     bool
	next          atomic.Int64
}

// Process is one running convoseal serve.
type Process struct {
	t       *testing.T
	Role    string
	Port    int
	LogFile string
	Args    []string
	env     []string
	cmd     *exec.Cmd
	done    chan struct{}

	// MetricsPort is where the process serves /metrics (--metrics-addr).
	MetricsPort int
}

// ServerOptions tune StartServer.
type ServerOptions struct {
	Data  string   // reuse a data directory (restart); default a new temp dir
	Port  int      // default a free port
	Extra []string // more flags, given to every process
	Env   []string
	// Account is the file that keeps the bootstrap account's credentials
	// (default next to Data).
	Account string
	// NoAccount starts the processes without CONVOSEAL_ACCOUNT_SID and
	// CONVOSEAL_AUTH_TOKEN: the installation makes its first account.
	NoAccount bool
}

// e2eBackend is "embedded" (the default) or "cluster".
func e2eBackend() string {
	if b := os.Getenv("CONVOSEAL_E2E_BACKEND"); b != "" {
		return b
	}
	return "embedded"
}

// freePort returns a loopback port that is free now and that no other call
// in this test binary has returned. It is drawn below Linux's ephemeral range
// (32768–60999), so the source port of an outgoing connection cannot take it
// between this check and the server's bind, as a port from ":0" could.
func freePort(t *testing.T) int {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		portsGiven[port] = true
		return port
	}
	t.Fatal("no free loopback port in 20000–31999")
	return 0
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// StartServer runs a convoseal installation on the backend the environment
// selects and waits until every process is ready.
func StartServer(t *testing.T, o ServerOptions) *Server {
	t.Helper()
	switch b := e2eBackend(); b {
	case "embedded":
	case "cluster":
		return startCluster(t, o, 2, 3)
	default:
		t.Fatalf("CONVOSEAL_E2E_BACKEND=%q: want embedded or cluster", b)
	}
	s := newServer(t, o)
	p := s.newProcess("all", o.Port, append([]string{"--data", s.Data}, o.Extra...), o.Env)
	s.Port = p.Port
	s.URL = fmt.Sprintf("http://localhost:%d", s.Port)
	p.Args = append(p.Args, "--public-url", s.URL)
	s.APIs = []*Process{p}
	s.Restart()
	t.Cleanup(func() { s.Stop() })
	return s
}

// newServer prepares the installation's data directory and account.
func newServer(t *testing.T, o ServerOptions) *Server {
	s := &Server{t: t, Data: o.Data, noAccount: o.NoAccount}
	if s.Data == "" {
		s.Data = filepath.Join(t.TempDir(), "data")
	}
	accountFile := o.Account
	if accountFile == "" {
		accountFile = s.Data + ".account"
	}
	s.AccountSID, s.AuthToken = accountFor(accountFile)
	return s
}

// newProcess describes (without starting) a process of s; port 0 picks one.
func (s *Server) newProcess(role string, port int, args, env []string) *Process {
	if port == 0 {
		port = freePort(s.t)
	}
	p := &Process{t: s.t, Role: role, Port: port, MetricsPort: freePort(s.t), env: env,
		LogFile: filepath.Join(filepath.Dir(s.Data), fmt.Sprintf("server-%s-%d-%d.log", role, port, time.Now().UnixNano()))}
	p.Args = append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", p.MetricsPort),
		"--allow-private-media", "--allow-private-webhooks", "--log-level", "debug"}, args...)
	if !s.noAccount {
		env = append([]string{"CONVOSEAL_ACCOUNT_SID=" + s.AccountSID, "CONVOSEAL_AUTH_TOKEN=" + s.AuthToken}, env...)
	}
	p.env = env
	return p
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

// Processes are all of the installation's processes, API ones first.
func (s *Server) Processes() []*Process {
	return append(append([]*Process(nil), s.APIs...), s.Workers...)
}

// each runs f on every process at once and waits.
func (s *Server) each(f func(*Process)) {
	var wg sync.WaitGroup
	for _, p := range s.Processes() {
		wg.Go(func() { f(p) })
	}
	wg.Wait()
}

// Restart starts every process again, all at once (on a new installation
// they race to make the KEK and the account), and waits until all are ready.
func (s *Server) Restart() {
	s.t.Helper()
	ps := s.Processes()
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { errs[i] = p.Start() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.t.Fatal(err)
	}
}

// Stop sends every process SIGTERM and waits for them to exit.
func (s *Server) Stop() { s.each((*Process).Stop) }

// Kill sends every process SIGKILL: no chance to clean up.
func (s *Server) Kill() { s.each((*Process).Kill) }

// Exited reports whether every process has ended.
func (s *Server) Exited() bool {
	for _, p := range s.Processes() {
		if !p.Exited() {
			return false
		}
	}
	return true
}

// ExitCode is the first non-zero exit code among the ended processes, or 0.
func (s *Server) ExitCode() int {
	for _, p := range s.Processes() {
		if code := p.ExitCode(); code != 0 {
			return code
		}
	}
	return 0
}

// AddArgs gives every process more flags from its next start.
func (s *Server) AddArgs(args ...string) {
	for _, p := range s.Processes() {
		p.Args = append(p.Args, args...)
	}
}

// Log is what every process has logged so far, one file after the other.
func (s *Server) Log() []byte {
	var all []byte
	for _, p := range s.Processes() {
		b, _ := os.ReadFile(p.LogFile)
		all = append(all, b...)
	}
	return all
}

// KEKFile is the installation's key-encryption key.
func (s *Server) KEKFile() string { return filepath.Join(s.Data, "kek") }

// CLI is the convoseal command with args, pointed at this installation's
// database and KEK (through the environment, as an operator's shell would).
func (s *Server) CLI(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "CONVOSEAL_DATA="+s.Data, "CONVOSEAL_KEK_FILE="+s.KEKFile())
	if s.cluster != nil {
		cmd.Env = append(cmd.Env, "CONVOSEAL_DATABASE="+s.cluster.dbURL)
	}
	return cmd
}

// Metric is the sum over the processes of the value of one series (name
// and labels exactly as /metrics prints them); 0 where it is absent.
func (s *Server) Metric(t *testing.T, series string) float64 {
	t.Helper()
	return s.MetricSum(t, func(name string) bool { return name == series })
}

// MetricSum is the sum over the processes of the values of every series
// (name and labels as /metrics prints them) that match accepts.
func (s *Server) MetricSum(t *testing.T, match func(series string) bool) float64 {
	t.Helper()
	var sum float64
	for _, p := range s.Processes() {
		resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.MetricsPort))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("/metrics of the %s process: %d %v", p.Role, resp.StatusCode, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			i := strings.LastIndexByte(l, ' ')
			if i < 0 || strings.HasPrefix(l, "#") || !match(l[:i]) {
				continue
			}
			var f float64
			fmt.Sscan(l[i+1:], &f)
			sum += f
		}
	}
	return sum
}

// Start starts the process and waits for /readyz; safe to call from any
// goroutine.
func (p *Process) Start() error {
	logf, err := os.OpenFile(p.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(binary, p.Args...)
	cmd.Env = append(withoutAccountEnv(os.Environ()), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			log, _ := os.ReadFile(p.LogFile)
			return fmt.Errorf("convoseal (%s) exited during start:\n%s", p.Role, log)
		default:
		}
		resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", p.Port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(p.LogFile)
	return fmt.Errorf("convoseal (%s) did not become ready in 20s:\n%s", p.Role, log)
}

// Stop sends SIGTERM and waits for a graceful exit.
func (p *Process) Stop() {
	if p.cmd == nil || p.cmd.Process == nil || p.Exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill sends SIGKILL: no chance to clean up.
func (p *Process) Kill() {
	if p.cmd == nil || p.Exited() {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	if p.done == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitCode is the exit code of an ended process (0 while it runs).
func (p *Process) ExitCode() int {
	if !p.Exited() || p.cmd == nil || p.cmd.ProcessState == nil {
		return 0
	}
	return p.cmd.ProcessState.ExitCode()
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

// NewAccount creates another account with the CLI against the same
// installation and returns its credentials.
func (s *Server) NewAccount(t *testing.T) (sid, token string) {
	out, err := s.CLI("accounts", "create", "--friendly-name", "tenant").Output()
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
