package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeDefaultPublicURL: without --public-url, the URLs serve answers
// with are http://localhost:PORT (the port of --addr), a host name twilio-go
// leaves alone, not the dotted IP of --addr.
func TestServeDefaultPublicURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	const sid, token = "AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"
	cmd := exec.Command(binary, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", filepath.Join(t.TempDir(), "data"), "--asr", "off")
	cmd.Env = append(os.Environ(), "CONVOSEAL_METRICS_ADDR=", "CONVOSEAL_PUBLIC_URL=", "CONVOSEAL_ACCOUNT_SID="+sid, "CONVOSEAL_AUTH_TOKEN="+token)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	c := &http.Client{Timeout: 5 * time.Second}
	var body struct {
		Meta struct {
			URL string `json:"url"`
		} `json:"meta"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/v2/Services", port), nil)
		req.SetBasicAuth(sid, token)
		resp, err := c.Do(req)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := fmt.Sprintf("http://localhost:%d/", port)
	if !strings.HasPrefix(body.Meta.URL, want) {
		t.Fatalf("meta.url %q, want it under %s", body.Meta.URL, want)
	}
}
