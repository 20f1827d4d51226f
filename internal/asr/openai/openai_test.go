package openai

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
)

// audio is 5 s of a quiet ramp at 16 kHz.
func audio() asr.Audio {
	a := asr.Audio{SampleRate: 16000, Samples: make([]int16, 5*16000)}
	for i := range a.Samples {
		a.Samples[i] = int16(i%200 - 100)
	}
	return a
}

func newClient(t *testing.T, url string, cfg Config) *Client {
	t.Helper()
	cfg.URL = url
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 0 }
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkForm asserts the request is the multipart form the API expects, with
// a WAV of a.
func checkForm(t *testing.T, r *http.Request, a asr.Audio) {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		t.Fatalf("parse form: %v", err)
	}
	f := r.MultipartForm
	for k, want := range map[string]string{"model": "whisper-1", "response_format": "verbose_json", "language": "en"} {
		if got := f.Value[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if g := strings.Join(f.Value["timestamp_granularities[]"], ","); g != "word,segment" {
		t.Errorf("timestamp_granularities[] = %q", g)
	}
	fh := f.File["file"]
	if len(fh) != 1 {
		t.Fatalf("file parts: %d", len(fh))
	}
	fr, _ := fh[0].Open()
	wav, _ := io.ReadAll(fr)
	if len(wav) != 44+2*len(a.Samples) || string(wav[0:4]) != "RIFF" || string(wav[8:16]) != "WAVEfmt " || string(wav[36:40]) != "data" {
		t.Fatalf("file is not a canonical WAV (%d bytes)", len(wav))
	}
	if ch, rate, bits := binary.LittleEndian.Uint16(wav[22:]), binary.LittleEndian.Uint32(wav[24:]), binary.LittleEndian.Uint16(wav[34:]); ch != 1 || int(rate) != a.SampleRate || bits != 16 {
		t.Fatalf("WAV is %d channels, %d Hz, %d bits", ch, rate, bits)
	}
	for i, s := range a.Samples {
		if got := int16(binary.LittleEndian.Uint16(wav[44+2*i:])); got != s {
			t.Fatalf("sample %d = %d, want %d", i, got, s)
		}
	}
}

type wantWord struct {
	word       string
	start, end float64
	conf       float64
}

func TestGoldenFixtures(t *testing.T) {
	seg0 := []wantWord{{"Hello", 0, 0.42, 0.8}, {"thanks", 0.6, 0.9, 0.8}, {"for", 0.9, 1.04, 0.8}, {"calling", 1.04, 1.4, 0.8}, {"Acme", 1.4, 1.9, 0.8}, {"support", 1.9, 2.6, 0.8}}
	seg1 := []wantWord{{"How", 2.9, 3.1, 0.9}, {"can", 3.1, 3.3, 0.9}, {"I", 3.3, 3.4, 0.9}, {"help", 3.4, 3.7, 0.9}, {"you", 3.7, 3.9, 0.9}, {"today", 3.9, 4.8, 0.9}}
	for _, tc := range []struct {
		file string
		want [][]wantWord
	}{
		// OpenAI gives no word probability: every word falls back to its
		// segment's exp(avg_logprob).
		{"openai.json", [][]wantWord{seg0, seg1}},
		{"speaches.json", [][]wantWord{
			{{"Hello,", 0, 0.42, 0.91}, {"thanks", 0.6, 0.9, 0.97}, {"for", 0.9, 1.04, 0.99}, {"calling", 1.04, 1.4, 0.98}, {"Acme", 1.4, 1.9, 0.52}, {"support.", 1.9, 2.6, 0.95}},
			{{"How", 2.9, 3.1, 0.99}, {"can", 3.1, 3.3, 0.99}, {"I", 3.3, 3.4, 0.99}, {"help", 3.4, 3.7, 0.99}, {"you", 3.7, 3.9, 0.98}, {"today?", 3.9, 4.8, 0.96}},
		}},
		// Sub-word tokens merge into words; the second segment's tokens have
		// no probability and take the segment's.
		{"whispercpp.json", [][]wantWord{
			{{"Hello,", 0, 0.42, 0.8}, {"thanks", 0.6, 0.9, 0.97}, {"for", 0.9, 1.04, 0.99}, {"calling", 1.04, 1.4, 0.98}, {"Acme", 1.4, 1.9, 0.5}, {"support.", 1.9, 2.6, 0.97}},
			{{"How", 2.9, 3.1, 0.9}, {"can", 3.1, 3.3, 0.9}, {"I", 3.3, 3.4, 0.9}, {"help", 3.4, 3.7, 0.9}, {"you", 3.7, 3.9, 0.9}, {"today?", 3.9, 4.8, 0.9}},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			a := audio()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				checkForm(t, r, a)
				w.Header().Set("Content-Type", "application/json")
				w.Write(body)
			}))
			defer srv.Close()
			res, err := newClient(t, srv.URL+"/v1/", Config{}).Recognize(context.Background(), a, "en-US")
			if err != nil {
				t.Fatal(err)
			}
			if res.Language != "en-US" || res.Duration != 5 {
				t.Errorf("language %q duration %v", res.Language, res.Duration)
			}
			if len(res.Segments) != len(tc.want) {
				t.Fatalf("%d segments, want %d", len(res.Segments), len(tc.want))
			}
			for i, seg := range res.Segments {
				checkWords(t, i, seg.Words, tc.want[i])
				if wantConf := []float64{0.8, 0.9}[i]; math.Abs(seg.Confidence-wantConf) > 1e-6 {
					t.Errorf("segment %d confidence %v, want %v", i, seg.Confidence, wantConf)
				}
			}
			if res.Segments[1].Text != "How can I help you today?" || res.Segments[0].Start != 0 || res.Segments[1].End != 4.8 {
				t.Errorf("segment 1 %q %v–%v", res.Segments[1].Text, res.Segments[1].Start, res.Segments[1].End)
			}
		})
	}
}

func checkWords(t *testing.T, seg int, got []asr.Word, want []wantWord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("segment %d: %d words %v, want %d", seg, len(got), got, len(want))
	}
	for j, w := range want {
		g := got[j]
		if g.Word != w.word || math.Abs(g.Start-w.start) > 1e-6 || math.Abs(g.End-w.end) > 1e-6 || math.Abs(g.Confidence-w.conf) > 1e-6 {
			t.Errorf("segment %d word %d = %+v, want %+v", seg, j, g, w)
		}
	}
}

// Top-level words go to the segment holding them by time, even when the
// server lists them out of order; a segment without words gets its text
// spread over its time.
func TestWordAssignmentByTime(t *testing.T) {
	body := `{"segments":[{"start":0,"end":1,"text":"a b","avg_logprob":0},{"start":1.5,"end":2.5,"text":"c"},{"start":3,"end":4,"text":"dd ee"}],
	  "words":[{"word":"c","start":1.6,"end":2.4,"probability":0.5},{"word":"a","start":0,"end":0.4},{"word":"b","start":0.5,"end":1.2},{"word":"z","start":2.55,"end":2.8}]}`
	res, err := parse([]byte(body), 4)
	if err != nil {
		t.Fatal(err)
	}
	checkWords(t, 0, res.Segments[0].Words, []wantWord{{"a", 0, 0.4, 1}, {"b", 0.5, 1.2, 1}})
	checkWords(t, 1, res.Segments[1].Words, []wantWord{{"c", 1.6, 2.4, 0.5}, {"z", 2.55, 2.8, -1}})
	checkWords(t, 2, res.Segments[2].Words, []wantWord{{"dd", 3, 3.5, -1}, {"ee", 3.5, 4, -1}})
	if res.Segments[0].End != 1.2 {
		t.Errorf("segment 0 ends %v, want it stretched to its last word (1.2)", res.Segments[0].End)
	}
}

func TestRetryAfter(t *testing.T) {
	body, _ := os.ReadFile("testdata/openai.json")
	var n atomic.Int32
	var first time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if since := time.Since(first); since < 900*time.Millisecond {
			t.Errorf("retried after %v, before Retry-After", since)
		}
		w.Write(body)
	}))
	defer srv.Close()
	res, err := newClient(t, srv.URL+"/v1", Config{}).Recognize(context.Background(), audio(), "en")
	if err != nil || len(res.Segments) != 2 || n.Load() != 2 {
		t.Fatalf("res %v, err %v after %d requests", res, err, n.Load())
	}
}

func TestRetriesExhausted(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer srv.Close()
	_, err := newClient(t, srv.URL+"/v1", Config{Attempts: 3}).Recognize(context.Background(), audio(), "en")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 500 || se.Attempts != 3 || n.Load() != 3 {
		t.Fatalf("err %v after %d requests, want HTTP 500 after 3", err, n.Load())
	}
	// A 4xx is not retried.
	n.Store(0)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, `{"error":{"message":"bad file","type":"invalid_request_error"}}`, http.StatusBadRequest)
	})
	_, err = newClient(t, srv.URL+"/v1", Config{Attempts: 3}).Recognize(context.Background(), audio(), "en")
	if !errors.As(err, &se) || se.Code != 400 || n.Load() != 1 || errors.Is(err, asr.ErrLanguage) {
		t.Fatalf("err %v after %d requests, want HTTP 400 at once", err, n.Load())
	}
}

func TestTimeout(t *testing.T) {
	var n atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	_, err := newClient(t, srv.URL+"/v1", Config{Timeout: 50 * time.Millisecond, Attempts: 2}).Recognize(context.Background(), audio(), "en")
	if !errors.Is(err, ErrTimeout) || n.Load() != 2 {
		t.Fatalf("err %v after %d requests, want a timeout after 2", err, n.Load())
	}
}

func TestOversizedResponse(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Write([]byte(`{"text":"` + strings.Repeat("x", 4096) + `"}`))
	}))
	defer srv.Close()
	_, err := newClient(t, srv.URL+"/v1", Config{MaxResponseBytes: 1024}).Recognize(context.Background(), audio(), "en")
	if !errors.Is(err, ErrInvalidResponse) || !strings.Contains(err.Error(), "larger than 1024 bytes") || n.Load() != 1 {
		t.Fatalf("err %v after %d requests", err, n.Load())
	}
}

func TestConcurrencyBound(t *testing.T) {
	body, _ := os.ReadFile("testdata/openai.json")
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	reached := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		now := inFlight.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		reached <- struct{}{}
		<-release
		inFlight.Add(-1)
		w.Write(body)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/v1", Config{MaxConcurrent: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := c.Recognize(context.Background(), audio(), "en")
			errs <- err
		})
	}
	<-reached
	<-reached
	// Two are in; the others must be waiting for a slot, not at the server.
	time.Sleep(100 * time.Millisecond)
	if got := inFlight.Load(); got != 2 {
		t.Errorf("%d requests in flight, want 2", got)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if peak.Load() != 2 {
		t.Fatalf("peak %d requests in flight, want 2", peak.Load())
	}
}

func TestBearerHeader(t *testing.T) {
	body, _ := os.ReadFile("testdata/openai.json")
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.Write(body)
	}))
	defer srv.Close()
	for _, key := range []string{"sk-test-123", ""} {
		if _, err := newClient(t, srv.URL+"/v1", Config{APIKey: key}).Recognize(context.Background(), audio(), "en"); err != nil {
			t.Fatal(err)
		}
	}
	if got[0] != "Bearer sk-test-123" || got[1] != "" {
		t.Fatalf("Authorization headers %q", got)
	}
}

// Errors never quote what the server answered (which may echo the
// transcript or the key) nor the key itself.
func TestErrorsFreeOfKeyAndContent(t *testing.T) {
	const key, secret = "sk-very-secret-key-42", "my card number is 4111"
	for _, tc := range []struct {
		status int
		body   string
		is     error
	}{
		{400, `{"error":{"message":"` + secret + ` ` + key + `","type":"invalid_request_error","code":"` + key + `"}}`, nil},
		{401, `{"error":{"message":"Incorrect API key provided: ` + key + `","code":"invalid_api_key"}}`, nil},
		{500, `{"error":"` + secret + `"}`, nil},
		{200, `{"text":"` + secret + `", "segments": "` + key + `"}`, ErrInvalidResponse},
		{200, secret + key, ErrInvalidResponse},
		{400, `{"error":{"message":"Language 'xx' is not supported: ` + secret + `","param":"language"}}`, asr.ErrLanguage},
		{400, `{"error":"unsupported language: ` + secret + `"}`, asr.ErrLanguage},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		}))
		_, err := newClient(t, srv.URL+"/v1", Config{APIKey: key, Attempts: 2}).Recognize(context.Background(), audio(), "en")
		srv.Close()
		if err == nil {
			t.Fatalf("%d %s: no error", tc.status, tc.body)
		}
		msg := err.Error()
		if strings.Contains(msg, key) || strings.Contains(msg, "sk-very") || strings.Contains(msg, "4111") || strings.Contains(msg, "card") {
			t.Errorf("error quotes the key or the content: %q", msg)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%d %.40s: err %v, want %v", tc.status, tc.body, err, tc.is)
		}
	}
}

func TestLanguageRefusedLocally(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	c := newClient(t, srv.URL, Config{Languages: []string{"en-US"}})
	if _, err := c.Recognize(context.Background(), audio(), "fr-FR"); !errors.Is(err, asr.ErrLanguage) || n.Load() != 0 {
		t.Fatalf("err %v after %d requests", err, n.Load())
	}
	if got := c.Languages(); len(got) != 1 || got[0] != "en-US" {
		t.Fatalf("Languages() = %v", got)
	}
}

func TestNoRedirectToOtherHost(t *testing.T) {
	var hit atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v1/audio/transcriptions", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	_, err := newClient(t, srv.URL+"/v1", Config{}).Recognize(context.Background(), audio(), "en")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusTemporaryRedirect || hit.Load() {
		t.Fatalf("err %v, other host hit: %v", err, hit.Load())
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []Config{{}, {URL: "ftp://x"}, {URL: "http://x/v1?k=1"}, {URL: "http://x", APIKey: "a\nb"}, {URL: "http://x", Timeout: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if strings.Contains(err.Error(), "a\nb") {
			t.Errorf("error quotes the key: %v", err)
		}
	}
}

// A server answering 429 (busy) is waited for without using up attempts,
// for up to MaxBusyWait.
func TestBusyServerWaits(t *testing.T) {
	body, _ := os.ReadFile("testdata/openai.json")
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1) <= 6 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	if _, err := newClient(t, srv.URL+"/v1", Config{Attempts: 2}).Recognize(context.Background(), audio(), "en"); err != nil || n.Load() != 7 {
		t.Fatalf("err %v after %d requests, want success after 7", err, n.Load())
	}
	n.Store(0)
	_, err := newClient(t, srv.URL+"/v1", Config{Attempts: 2, MaxBusyWait: time.Nanosecond}).Recognize(context.Background(), audio(), "en")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 429 || n.Load() != 2 {
		t.Fatalf("err %v after %d requests, want HTTP 429 after 2", err, n.Load())
	}
}
