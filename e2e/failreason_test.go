package e2e

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestFailureReasonsGeneric: a transcript whose media URL names an internal
// address, a port that refuses connections or one that never answers fails
// with a generic failure_reason: no resolved address, no port, no DNS or
// connection detail (a map of the server's network). The operator's log
// has the detail.
func TestFailureReasonsGeneric(t *testing.T) {
	const forbidden = "the media URL points at a forbidden address"
	const unreachable = "the media could not be downloaded"

	// A port that refuses connections, and one that accepts and never
	// answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := l.Addr().(*net.TCPAddr).Port
	l.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	silentPort := silent.Addr().(*net.TCPAddr).Port

	type tcase struct{ name, url, want, logDetail string }
	// With SSRF protection on (the default; the harness turns it off).
	strictCases := []tcase{
		{"private literal", "http://10.1.2.3:8443/x.json", forbidden, "10.1.2.3 is"},
		{"mapped private literal", "http://[::ffff:10.1.2.3]/x.json", forbidden, "10.1.2.3"},
		{"localhost", fmt.Sprintf("http://localhost:%d/x.json", silentPort), forbidden, "localhost"},
	}
	// This machine's host name, when it resolves to an internal address (it
	// usually does, through /etc/hosts): the reason must not say to what.
	// (A single-label name is refused before it is resolved; the media
	// package's tests cover names that resolve to internal addresses.)
	var hostAddr string
	if h, err := os.Hostname(); err == nil && h != "localhost" {
		if addrs, err := net.LookupHost(h); err == nil && len(addrs) > 0 {
			if a, err := netip.ParseAddr(addrs[0]); err == nil && !a.IsGlobalUnicast() || a.IsPrivate() {
				hostAddr = addrs[0]
				strictCases = append(strictCases, tcase{"host name " + h, fmt.Sprintf("http://%s:%d/x.json", h, silentPort), forbidden, `\"` + h + `\"`})
			}
		}
	}
	// With private media allowed, so the fetch reaches the ports.
	openCases := []tcase{
		{"refusing port", fmt.Sprintf("http://127.0.0.1:%d/x.json", refusing), unreachable, "refused"},
		{"silent port", fmt.Sprintf("http://127.0.0.1:%d/x.json", silentPort), unreachable, "no complete response"},
		{"unresolvable name", "http://no-such-host.invalid/x.json", unreachable, "no-such-host.invalid"},
	}

	run := func(t *testing.T, s *Server, cases []tcase) {
		c := s.Twilio()
		svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("reasons"))
		if err != nil {
			t.Fatal(err)
		}
		sids := make([]string, len(cases))
		for i, tc := range cases {
			tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).SetChannel(Channel(tc.url)))
			if err != nil {
				t.Fatalf("%s: create transcript: %v", tc.name, err)
			}
			sids[i] = *tr.Sid
		}
		for i, tc := range cases {
			// Network failures are retried twice (River's backoff: 1 s, 16 s).
			tr := WaitTranscript(t, c, sids[i], 90*time.Second)
			code, body := s.Do(t, "GET", "/v2/Transcripts/"+sids[i], nil)
			reason, _ := body["failure_reason"].(string)
			t.Logf("%s: %s, failure_reason %q", tc.name, *tr.Status, reason)
			if code != 200 || *tr.Status != "failed" {
				t.Errorf("%s: %d %s, want failed", tc.name, code, *tr.Status)
				continue
			}
			if !strings.HasPrefix(reason, tc.want) {
				t.Errorf("%s: failure_reason %q, want %q", tc.name, reason, tc.want)
			}
			leaks := []string{"10.1.2.3", "127.0.0.1", "::ffff", "resolve", "refused", "timed out", "timeout", "no complete response",
				"no such host", "dial", "connect", fmt.Sprint(refusing), fmt.Sprint(silentPort), "8443"}
			if hostAddr != "" {
				leaks = append(leaks, hostAddr)
			}
			for _, leak := range leaks {
				if strings.Contains(strings.ToLower(reason), strings.ToLower(leak)) {
					t.Errorf("%s: failure_reason %q reveals %q", tc.name, reason, leak)
				}
			}
			if !bytes.Contains(s.Log(), []byte(tc.logDetail)) {
				t.Errorf("%s: the server log lacks the detail %q", tc.name, tc.logDetail)
			}
		}
	}
	t.Run("ssrf protection on", func(t *testing.T) {
		t.Parallel()
		run(t, StartServer(t, ServerOptions{Extra: []string{"--allow-private-media=false"}}), strictCases)
	})
	t.Run("private media allowed", func(t *testing.T) {
		t.Parallel()
		run(t, StartServer(t, ServerOptions{Extra: []string{"--media-timeout", "1s"}}), openCases)
	})
}
