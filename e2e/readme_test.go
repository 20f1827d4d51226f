package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeMarker precedes, in README.md, each ```sh block that
// TestREADMEWalkthrough runs.
const readmeMarker = "<!-- readme-test -->"

// readmeBlocks returns the ```sh blocks of a Markdown document that directly
// follow a readmeMarker line, in order.
func readmeBlocks(doc []byte) []string {
	var blocks []string
	var cur *strings.Builder
	marked := false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur != nil && trimmed == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		case trimmed == readmeMarker:
			marked = true
		case marked && trimmed == "```sh":
			cur = &strings.Builder{}
			marked = false
		case trimmed != "":
			marked = false
		}
	}
	return blocks
}

// TestREADMEWalkthrough runs the README's marked shell blocks with bash, as a
// newcomer would paste them, against a real server: ./convoseal and
// convoseal on PATH are the built binary, convoseal-data/credentials holds
// the account, and http://localhost:8080 is this test's server.
func TestREADMEWalkthrough(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(doc)
	if len(blocks) == 0 {
		t.Fatalf("README.md has no ```sh block marked %s", readmeMarker)
	}
	for _, tool := range []string{"bash", "curl", "jq", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README walkthrough needs %s: %v", tool, err)
		}
	}
	// The server starts without pipeline workers, and gets them only once
	// the walkthrough has created its transcript and had time to go on: a
	// walkthrough that does not wait for "completed" fails every time.
	s := StartServer(t, ServerOptions{Extra: []string{"--workers", "0"}})
	dir := t.TempDir()
	if err := os.Symlink(binary, filepath.Join(dir, "convoseal")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "convoseal-data"), 0o700); err != nil {
		t.Fatal(err)
	}
	creds := "CONVOSEAL_ACCOUNT_SID=" + s.AccountSID + "\nCONVOSEAL_AUTH_TOKEN=" + s.AuthToken + "\n"
	if err := os.WriteFile(filepath.Join(dir, "convoseal-data", "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	script := "set -eo pipefail\n" + strings.ReplaceAll(strings.Join(blocks, "\n"), "http://localhost:8080", s.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err2 error
	select {
	case err2 = <-done:
	case <-transcriptCreated(t, s, done):
		time.Sleep(3 * time.Second)
		s.Stop()
		s.AddArgs("--workers", "2")
		s.Restart()
		err2 = <-done
	}
	if err2 != nil {
		t.Fatalf("README walkthrough: %v\nstdout:\n%s\nstderr:\n%s", err2, stdout.String(), stderr.String())
	}
	for _, want := range []string{"Hello, how can I help?", "I would like a refund."} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("README walkthrough output lacks %q:\n%s", want, stdout.String())
		}
	}
}

// transcriptCreated is closed once s holds a transcript; it gives up when
// done receives (leaving the value for the caller) or after two minutes.
func transcriptCreated(t *testing.T, s *Server, done chan error) <-chan struct{} {
	created := make(chan struct{})
	go func() {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			select {
			case err := <-done:
				done <- err
				return
			default:
			}
			req, _ := http.NewRequest("GET", s.URL+"/v2/Transcripts", nil)
			req.SetBasicAuth(s.AccountSID, s.AuthToken)
			resp, err := httpClient.Do(req)
			if err != nil {
				continue
			}
			var list struct {
				Transcripts []any `json:"transcripts"`
			}
			err = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			if err == nil && len(list.Transcripts) > 0 {
				close(created)
				return
			}
		}
	}()
	return created
}

// TestRepositoryHygiene: the repository has its licence, and key files a
// walkthrough leaves in the checkout are not picked up by git.
func TestRepositoryHygiene(t *testing.T) {
	lic, err := os.ReadFile("../LICENSE")
	if err != nil || !bytes.Contains(lic, []byte("Apache License")) || !bytes.Contains(lic, []byte("Version 2.0, January 2004")) {
		t.Fatalf("LICENSE is not the Apache License 2.0: %v", err)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not a git checkout")
	}
	for _, f := range []string{"private_key.pem", "public_key.pem", "keys/customer.pem"} {
		if err := exec.Command("git", "check-ignore", "-q", "../"+f).Run(); err != nil {
			t.Errorf("git does not ignore %s: %v", f, err)
		}
	}
}
