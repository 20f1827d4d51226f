package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// PeakRSS is the process's resident-set high-water mark (VmHWM), in bytes.
func (p *Process) PeakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// postForm sends a raw urlencoded body to a process with the server's
// credentials.
func (s *Server) postForm(t *testing.T, port int, path, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func createService(t *testing.T, s *Server) string {
	t.Helper()
	svc, err := s.Twilio().IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName(fmt.Sprintf("bounds%d", rand.Uint32())))
	if err != nil {
		t.Fatal(err)
	}
	return *svc.Sid
}

// TestOversizedChannelRefusedCheaply: a 16 MiB Channel that is not a data:
// URL is refused with 400 by its size, without being decoded: the process's
// peak memory grows by little more than the body (it grew by ≈570 MiB when
// the Channel was decoded before the size check).
func TestOversizedChannelRefusedCheaply(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	svc := createService(t, s)
	p := s.APIs[0]
	channel := `{"media_properties":{"media_url":"https://example.com/a.json"},"participants":[1` + strings.Repeat(",1", 8<<20-128) + `]}`
	before := p.PeakRSS(t)
	resp, out := s.postForm(t, p.Port, "/v2/Transcripts", "ServiceSid="+svc+"&Channel="+channel)
	if resp.StatusCode != 400 || !strings.Contains(fmt.Sprint(out["message"]), "too large") {
		t.Fatalf("16 MiB non-data Channel: %d %v, want 400 too large", resp.StatusCode, out)
	}
	if grew := p.PeakRSS(t) - before; grew > 96<<20 {
		t.Fatalf("refusing a 16 MiB Channel raised the peak RSS by %d MiB (want < 96 MiB: no decoding)", grew>>20)
	}
}

// TestBodyBudget429: with --max-body-bytes-in-flight 1MiB, while one upload
// of 900 KB is being received, another of 600 KB waits briefly and then gets
// 429 with Retry-After and a Twilio error; once the first has gone, the
// budget is whole again.
func TestBodyBudget429(t *testing.T) {
	s := StartServer(t, ServerOptions{Extra: []string{"--max-body-bytes-in-flight", "1MiB"}})
	svc := createService(t, s)
	p := s.APIs[0] // both requests to one process: the budget is per process
	second := "ServiceSid=" + svc + "&Channel=" + strings.Repeat("x", 600_000)

	// The first upload: headers and a little of its body, then nothing.
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v2/Transcripts", p.Port), nil)
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	fmt.Fprintf(conn, "POST /v2/Transcripts HTTP/1.1\r\nHost: localhost\r\nAuthorization: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 900000\r\n\r\nServiceSid=%s&Channel=",
		req.Header.Get("Authorization"), svc)

	// Until the server has taken the first request's share (it does so when
	// its handler starts), the second may pass; then it must get 429.
	var resp *http.Response
	var out map[string]any
	for range 20 {
		if resp, out = s.postForm(t, p.Port, "/v2/Transcripts", second); resp.StatusCode == http.StatusTooManyRequests {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || out["code"] != float64(20429) {
		t.Fatalf("second upload while the first holds the budget: %d, Retry-After %q, %v; want 429 with Retry-After and code 20429",
			resp.StatusCode, resp.Header.Get("Retry-After"), out)
	}

	// The first upload ends (its body cut short): the budget comes back.
	conn.Close()
	resp, out = s.postForm(t, p.Port, "/v2/Transcripts", second)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("after the first upload ended: %d %v, want the 400 of a bad Channel", resp.StatusCode, out)
	}
}

// TestMetricsOwnListener: /metrics is served on --metrics-addr, not on the
// public port (404 there), and requests with made-up methods and paths add
// no series to it.
func TestMetricsOwnListener(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	for _, p := range s.Processes() {
		resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.Port))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET /metrics on the %s process's public port: %d, want 404", p.Role, resp.StatusCode)
		}
	}
	series := func() int {
		n := 0
		for _, p := range s.Processes() {
			resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.MetricsPort))
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "convoseal_http_request_duration_seconds_count{") {
					n++
				}
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("/metrics of the %s process at --metrics-addr: %d", p.Role, resp.StatusCode)
			}
		}
		return n
	}
	// Each round sends every kind of request (method × path × with or
	// without credentials) to every API process, with made-up method names
	// and path segments.
	junk := func(rounds int) {
		for range rounds {
			for i := range 32 {
				method := []string{"GET", "POST", "DELETE", fmt.Sprintf("X%d", rand.Uint32())}[i%4]
				path := []string{"/v2/Transcripts/", "/v1/", "/", "/blobs/"}[i/4%4] + fmt.Sprintf("j%d", rand.Uint32())
				for _, p := range s.APIs {
					req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", p.Port, path), nil)
					if i/16 == 1 {
						req.SetBasicAuth(s.AccountSID, s.AuthToken)
					}
					resp, err := httpClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
				}
			}
		}
	}
	junk(2)
	before := series()
	junk(8)
	if after := series(); after != before {
		t.Fatalf("/metrics request series grew from %d to %d with made-up methods and paths", before, after)
	}
}
