// Command pullseed fills a running convoseal with encrypted transcripts for
// scripts/bench-pull.sh: it registers a public key, creates a Service sealed
// for it with three pre-built operators attached (Sentiment Analysis,
// Escalation Request, PII Extraction), creates N transcripts of inline
// three-sentence documents concurrently, waits until all are completed, and
// prints SERVICE_SID=GA…. It talks plain HTTP with Basic auth, to loopback.
//
//	go run ./scripts/pullseed --url http://127.0.0.1:8080 --public-key public_key.pem --transcripts 2000
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type api struct {
	base, sid, token string
	hc               *http.Client
}

func (a *api) do(method, path string, form url.Values, out any) (int, error) {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		path += "?" + form.Encode()
	}
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(a.sid, a.token)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %.300s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

func main() {
	var (
		base        = flag.String("url", "http://127.0.0.1:8080", "convoseal base URL (loopback)")
		sid         = flag.String("account", os.Getenv("TWILIO_ACCOUNT_SID"), "Account SID")
		token       = flag.String("token", os.Getenv("TWILIO_AUTH_TOKEN"), "Auth Token")
		pubKey      = flag.String("public-key", "public_key.pem", "PEM public key to register and seal for")
		n           = flag.Int("transcripts", 2000, "transcripts to create")
		concurrency = flag.Int("concurrency", 16, "concurrent creates")
	)
	flag.Parse()
	if err := run(&api{base: strings.TrimRight(*base, "/"), sid: *sid, token: *token,
		hc: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}, *pubKey, *n, *concurrency); err != nil {
		fmt.Fprintln(os.Stderr, "pullseed:", err)
		os.Exit(1)
	}
}

func run(a *api, pubKey string, n, concurrency int) error {
	pem, err := os.ReadFile(pubKey)
	if err != nil {
		return err
	}
	var key struct{ SID string }
	if _, err := a.do(http.MethodPost, "/v1/Credentials/PublicKeys", url.Values{"PublicKey": {string(pem)}, "FriendlyName": {"bench-pull"}}, &key); err != nil {
		return err
	}
	var svc struct{ SID string }
	if _, err := a.do(http.MethodPost, "/v2/Services", url.Values{"UniqueName": {fmt.Sprintf("bench-pull-%d", time.Now().UnixNano())}, "EncryptionCredentialSid": {key.SID}}, &svc); err != nil {
		return err
	}
	var ops struct {
		Operators []struct {
			SID          string `json:"sid"`
			FriendlyName string `json:"friendly_name"`
		} `json:"operators"`
	}
	if _, err := a.do(http.MethodGet, "/v2/Operators/PreBuilt", url.Values{"PageSize": {"100"}}, &ops); err != nil {
		return err
	}
	want := map[string]bool{"Sentiment Analysis": true, "Escalation Request": true, "PII Extraction": true}
	for _, o := range ops.Operators {
		if want[o.FriendlyName] {
			if _, err := a.do(http.MethodPost, "/v2/Services/"+svc.SID+"/Operators/"+o.SID, url.Values{}, nil); err != nil {
				return err
			}
			delete(want, o.FriendlyName)
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("pre-built operators missing: %v", want)
	}

	start := time.Now()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	words := strings.Fields("order refund invoice delivery account balance plan upgrade router signal bill visit appointment parcel")
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var sents []map[string]any
				for j := range 3 {
					sents = append(sents, map[string]any{"media_channel": 1 + j%2, "start_time": j, "end_time": float64(j) + 0.9, "confidence": 0.9,
						"transcript": fmt.Sprintf("Bench transcript %d sentence %d: the customer asked about the %s and the %s.", i, j, words[rand.IntN(len(words))], words[rand.IntN(len(words))])})
				}
				doc, _ := json.Marshal(map[string]any{"sentences": sents})
				ch, _ := json.Marshal(map[string]any{"media_properties": map[string]any{"media_url": "data:application/json;base64," + b64(doc)}})
				var err error
				for attempt := 0; attempt < 50; attempt++ {
					var code int
					code, err = a.do(http.MethodPost, "/v2/Transcripts", url.Values{"ServiceSid": {svc.SID}, "Channel": {string(ch)}}, nil)
					if code != 429 && code != 503 {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	for {
		done, err := count(a, svc.SID, "completed")
		if err != nil {
			return err
		}
		failed, err := count(a, svc.SID, "failed")
		if err != nil {
			return err
		}
		if failed > 0 {
			return fmt.Errorf("%d transcripts failed", failed)
		}
		if done >= n {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return fmt.Errorf("only %d of %d completed after 10 minutes", done, n)
		}
		time.Sleep(time.Second)
	}
	fmt.Fprintf(os.Stderr, "pullseed: %d transcripts created and completed in %s\n", n, time.Since(start).Round(time.Millisecond))
	fmt.Printf("SERVICE_SID=%s\n", svc.SID)
	return nil
}

// count counts the Service's transcripts with a status, page by page.
func count(a *api, service, status string) (int, error) {
	total := 0
	next := "/v2/Transcripts?" + url.Values{"ServiceSid": {service}, "Status": {status}, "PageSize": {"1000"}}.Encode()
	for next != "" {
		var page struct {
			Transcripts []json.RawMessage `json:"transcripts"`
			Meta        struct {
				NextPageURL *string `json:"next_page_url"`
			} `json:"meta"`
		}
		if _, err := a.do(http.MethodGet, next, nil, &page); err != nil {
			return 0, err
		}
		total += len(page.Transcripts)
		next = ""
		if page.Meta.NextPageURL != nil && len(page.Transcripts) > 0 {
			u, err := url.Parse(*page.Meta.NextPageURL)
			if err != nil {
				return 0, err
			}
			next = u.RequestURI()
		}
	}
	return total, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
