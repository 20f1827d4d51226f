// Command loadgen measures a running convoseal end to end: transcripts per
// second from create to completed, and API latency percentiles, with customer
// encryption on or off. It talks plain HTTP with Basic auth to loopback only.
//
//	go run ./scripts/loadgen --url http://localhost:8080 --account AC… --token … --transcripts 500 --encrypt
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

type client struct {
	base, sid, token string
	http             *http.Client
}

func (c *client) do(method, path string, form url.Values) (int, map[string]any, time.Duration, error) {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		path += "?" + form.Encode()
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return 0, nil, 0, err
	}
	req.SetBasicAuth(c.sid, c.token)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	var out map[string]any
	err = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, time.Since(start), err
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(p * float64(len(d)-1))
	return d[i]
}

func main() {
	var (
		base        = flag.String("url", "http://localhost:8080", "convoseal base URL (loopback)")
		sid         = flag.String("account", os.Getenv("CONVOSEAL_ACCOUNT_SID"), "Account SID")
		token       = flag.String("token", os.Getenv("CONVOSEAL_AUTH_TOKEN"), "Auth Token")
		n           = flag.Int("transcripts", 300, "transcripts to create")
		concurrency = flag.Int("concurrency", 8, "concurrent API clients")
		sentences   = flag.Int("sentences", 40, "sentences per transcript")
		encrypt     = flag.Bool("encrypt", false, "register an RSA-2048 key and seal for it")
		label       = flag.String("label", "", "label for the result line")
		pace        = flag.Duration("pace", 0, "each client waits this long between creates (a light, steady load for latency)")
	)
	flag.Parse()
	if u, err := url.Parse(*base); err != nil || (u.Hostname() != "localhost" && !strings.HasPrefix(u.Hostname(), "127.")) {
		fmt.Fprintln(os.Stderr, "loadgen only targets loopback")
		os.Exit(2)
	}
	c := &client{base: strings.TrimRight(*base, "/"), sid: *sid, token: *token,
		http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2}}}

	svc := url.Values{"UniqueName": {fmt.Sprintf("bench-%d", time.Now().UnixNano())}}
	if *encrypt {
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		code, out, _, err := c.do(http.MethodPost, "/v1/Credentials/PublicKeys", url.Values{"PublicKey": {string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}})
		if err != nil || code != 201 {
			fmt.Fprintln(os.Stderr, "register key:", code, err, out)
			os.Exit(1)
		}
		svc.Set("EncryptionCredentialSid", out["sid"].(string))
	}
	code, out, _, err := c.do(http.MethodPost, "/v2/Services", svc)
	if err != nil || code != 201 {
		fmt.Fprintln(os.Stderr, "create service:", code, err, out)
		os.Exit(1)
	}
	serviceSID := out["sid"].(string)

	var doc struct {
		Sentences []map[string]any `json:"sentences"`
	}
	for i := range *sentences {
		doc.Sentences = append(doc.Sentences, map[string]any{"media_channel": 1 + i%2, "start_time": float64(i) * 3, "end_time": float64(i)*3 + 2.5,
			"transcript": fmt.Sprintf("This is sentence %d of a benchmark conversation about an order, a refund and a delivery date.", i), "confidence": 0.9})
	}
	raw, _ := json.Marshal(doc)
	ch, _ := json.Marshal(map[string]any{"media_properties": map[string]any{"media_url": "data:application/json;base64," + base64.StdEncoding.EncodeToString(raw)}})

	var (
		mu        sync.Mutex
		createLat []time.Duration
		fetchLat  []time.Duration
		sids      []string
		failures  int
	)
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				code, out, d, err := c.do(http.MethodPost, "/v2/Transcripts", url.Values{"ServiceSid": {serviceSID}, "Channel": {string(ch)}})
				mu.Lock()
				if err != nil || code != 202 {
					failures++
				} else {
					createLat = append(createLat, d)
					sids = append(sids, out["sid"].(string))
				}
				mu.Unlock()
				if *pace > 0 {
					time.Sleep(*pace)
				}
			}
		}()
	}
	for i := range *n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	created := time.Since(start)

	// Poll until every transcript is completed; the polls are the GET latency sample.
	pending := append([]string(nil), sids...)
	deadline := time.Now().Add(10 * time.Minute)
	for len(pending) > 0 && time.Now().Before(deadline) {
		var next []string
		for _, s := range pending {
			code, out, d, err := c.do(http.MethodGet, "/v2/Transcripts/"+s, nil)
			fetchLat = append(fetchLat, d)
			if err != nil || code != 200 {
				next = append(next, s)
				continue
			}
			switch out["status"] {
			case "completed":
			case "failed":
				failures++
			default:
				next = append(next, s)
			}
		}
		pending = next
		if len(pending) > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	total := time.Since(start)
	res := map[string]any{
		"label": *label, "encrypt": *encrypt, "transcripts": len(sids), "sentences_each": *sentences, "concurrency": *concurrency,
		"failures": failures, "unfinished": len(pending),
		"create_seconds": created.Seconds(), "total_seconds": total.Seconds(),
		"transcripts_per_second": float64(len(sids)-len(pending)) / total.Seconds(),
		"create_p50_ms":          ms(percentile(createLat, 0.50)), "create_p99_ms": ms(percentile(createLat, 0.99)),
		"fetch_p50_ms": ms(percentile(fetchLat, 0.50)), "fetch_p99_ms": ms(percentile(fetchLat, 0.99)), "fetch_samples": len(fetchLat),
		"create_mean_ms": ms(mean(createLat)), "loadgen_cpu_seconds": cpuSeconds(),
	}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(res)
	os.Stdout.Write(buf.Bytes())
	if failures > 0 || len(pending) > 0 {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mean(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(len(d))
}

// cpuSeconds is the load generator's own CPU time (user + system), so a
// benchmark can tell how much of the machine the client took.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
