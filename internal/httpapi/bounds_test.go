package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/metrics"
	"github.com/convoseal/convoseal/internal/store"
)

// allocated is the number of bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// bigParticipants is a Channel of about n bytes that is not a data: URL.
func bigParticipants(n int) string {
	var b strings.Builder
	b.WriteString(`{"media_properties":{"media_url":"https://example.com/a.json"},"participants":[1`)
	for b.Len() < n {
		b.WriteString(",1")
	}
	b.WriteString("]}")
	return b.String()
}

// A 16 MiB Channel that is not a data: URL is refused by its size, without
// decoding it: the check allocates a small constant, not a decoded tree
// (today's generic decoding allocated hundreds of MiB for it).
func TestParseChannelRefusesLargeNonDataWithoutDecoding(t *testing.T) {
	raw := bigParticipants(16 << 20)
	var err error
	n := allocated(func() {
		_, _, _, cerr := parseChannel(raw)
		if cerr != nil {
			err = cerr
		}
	})
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("parseChannel(16 MiB participants) = %v, want a too-large error", err)
	}
	if n > 1<<20 {
		t.Fatalf("refusing a 16 MiB Channel allocated %d MiB; want it refused before decoding (< 1 MiB)", n>>20)
	}
	// A large media_url that is not a data: URL is refused the same way.
	raw = `{"media_properties":{"media_url":"https://example.com/` + strings.Repeat("a", 16<<20) + `"}}`
	n = allocated(func() { _, _, _, err = parseChannel(raw) })
	if err == nil || n > 1<<20 {
		t.Fatalf("16 MiB https media_url: err %v, allocated %d bytes", err, n)
	}
}

// A large inline data: URL is accepted, and its URL is not copied out of
// the Channel.
func TestParseChannelLargeDataURL(t *testing.T) {
	payload := strings.Repeat("QUFB", 4<<20) // 16 MiB of base64
	raw := `{"participants":[{"user_id":"u1"}],"media_properties":{"source_sid":"RE1","media_url":"data:application/json;base64,` + payload + `"}}`
	var (
		stored   json.RawMessage
		mediaURL string
	)
	n := allocated(func() {
		var err error
		if stored, mediaURL, _, err = parseChannelErr(raw); err != nil {
			t.Fatal(err)
		}
	})
	if !strings.HasSuffix(mediaURL, payload) || !strings.HasPrefix(mediaURL, "data:application/json;base64,") {
		t.Fatalf("media URL not returned whole (%d bytes)", len(mediaURL))
	}
	if n > 1<<20 {
		t.Errorf("a 16 MiB data: URL Channel allocated %d MiB, want no copy of the URL", n>>20)
	}
	var ch map[string]any
	if err := json.Unmarshal(stored, &ch); err != nil || strings.Contains(string(stored), payload[:64]) {
		t.Fatalf("stored channel %s: %v", stored, err)
	}
}

func parseChannelErr(raw string) (json.RawMessage, string, string, error) {
	stored, u, src, cerr := parseChannel(raw)
	if cerr != nil {
		return nil, "", "", cerr
	}
	return stored, u, src, nil
}

func TestParseChannelCases(t *testing.T) {
	long := strings.Repeat("x", 70<<10)
	for _, c := range []struct {
		name, raw, url, errPart string
	}{
		{"https", `{"media_properties":{"media_url":"https://h/a.json"}}`, "https://h/a.json", ""},
		{"escaped key and value", `{"media_properties":{"media\u005furl":"https:\/\/h\/a"}}`, "https://h/a", ""},
		{"media_url first", ` { "participants" : [ ] , "media_properties" : { "source_sid" : "RE1" , "media_url" : "https://h/b" } } `, "https://h/b", ""},
		{"nested decoy", `{"x":{"media_properties":{"media_url":"data:,no"}},"media_properties":{"media_url":"https://h/c"}}`, "https://h/c", ""},
		{"data", `{"media_properties":{"media_url":"data:text/plain,hi"}}`, "data:text/plain,hi", ""},
		{"escaped quote in other value", `{"a":"\"media_url\":\"x\"","media_properties":{"media_url":"https://h/d"}}`, "https://h/d", ""},
		{"not an object", `[1,2]`, "", "JSON object"},
		{"trailing data", `{"media_properties":{"media_url":"https://h/a"}} {}`, "", "JSON object"},
		{"unterminated", `{"media_properties":{"media_url":"https://h/a`, "", "JSON object"},
		{"unterminated escape", `{"media_properties":{"media_url":"\`, "", "JSON object"},
		{"unbalanced", `}}{"media_properties":{"media_url":"https://h/a"}}`, "", "JSON object"},
		{"no media_url", `{"media_properties":{}}`, "", "media_url is required"},
		{"number media_url", `{"media_properties":{"media_url":5}}`, "", "media_url is required"},
		{"twice", `{"media_properties":{"media_url":"https://h/a","media_url":"https://h/b"}}`, "", "more than once"},
		{"props twice", `{"media_properties":{"media_url":"https://h/a"},"media_properties":{}}`, "", "more than once"},
		{"large elsewhere", `{"media_properties":{"media_url":"data:,x"},"participants":["` + long + `"]}`, "", "too large"},
		{"large key", `{"` + long + `":1,"media_properties":{"media_url":"data:,x"}}`, "", "too large"},
		{"large https", `{"media_properties":{"media_url":"https://h/` + long + `"}}`, "", "longer than"},
		{"control character in large data", `{"media_properties":{"media_url":"data:,` + long + "\x01" + `"}}`, "", "JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, u, _, err := parseChannelErr(c.raw)
			switch {
			case c.errPart == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.errPart != "" && (err == nil || !strings.Contains(err.Error(), c.errPart)):
				t.Fatalf("error %v, want one containing %q", err, c.errPart)
			case c.errPart == "" && u != c.url:
				t.Fatalf("media URL %q, want %q", u, c.url)
			}
		})
	}
}

// A form body is read once into a buffer of its length and decoded in
// place: parsing a 16 MiB Channel allocates about 16 MiB, not three or
// four times that (ParseForm's growing read, string copy and unescaping).
func TestReadFormOneCopy(t *testing.T) {
	channel := `{"media_properties":{"media_url":"data:application/json;base64,` + strings.Repeat("QUF+", 2<<20) + `"}}`
	body := "ServiceSid=GA1&Channel=" + url.QueryEscape(channel) + "&CustomerKey=a+b%21"
	var v url.Values
	n := allocated(func() {
		r := httptest.NewRequest("POST", "/v2/Transcripts?PageSize=5&CustomerKey=q", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var err error
		if v, err = readForm(r); err != nil {
			t.Fatal(err)
		}
	})
	if v.Get("Channel") != channel || v.Get("ServiceSid") != "GA1" || v.Get("PageSize") != "5" ||
		v.Get("CustomerKey") != "a b!" || len(v["CustomerKey"]) != 2 {
		t.Fatalf("form values differ from the body's")
	}
	if limit := uint64(len(body)) + 1<<20; n > limit {
		t.Errorf("parsing a %d MiB body allocated %d MiB, want at most %d MiB", len(body)>>20, n>>20, limit>>20)
	}
	for _, bad := range []string{"a=%zz", "a=%4", "a=1;b=2"} {
		if err := parseFormBody([]byte(bad), url.Values{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	for _, good := range []string{"a=1&&b=&=x&c", "a=%41%42+c&a=2", "x=" + strings.Repeat("%41", 5000)} {
		want, _ := url.ParseQuery(good)
		got := url.Values{}
		if err := parseFormBody([]byte(good), got); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: %v %v, want %v", good, got, err, want)
		}
	}
}

// holdHandler blocks each request until release is closed, after reading
// its body.
func holdHandler(entered chan<- struct{}, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := readForm(r); err != nil {
			writeError(w, errBodyBudget)
			return
		}
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusNoContent)
	})
}

func post(h http.Handler, body string, chunked bool) *httptest.ResponseRecorder {
	var rd io.Reader = strings.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // no length known
	}
	r := httptest.NewRequest("POST", "/v2/Transcripts", rd)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if chunked {
		r.ContentLength = -1
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// While the bodies in flight fill the budget, another request waits briefly
// and then gets 429 with Retry-After and a Twilio error; once they end, it
// is served. A body of undeclared length is held to the budget as it is read.
func TestBodyBudget(t *testing.T) {
	b := NewBodyBudget(1000, 50*time.Millisecond)
	entered, release := make(chan struct{}, 4), make(chan struct{})
	h := b.Limit(holdHandler(entered, release))

	var wg sync.WaitGroup
	first := make(chan *httptest.ResponseRecorder, 1)
	wg.Go(func() { first <- post(h, "a="+strings.Repeat("x", 798), false) })
	<-entered // 800 bytes in flight

	for _, chunked := range []bool{false, true} {
		w := post(h, "b="+strings.Repeat("y", 598), chunked)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Fatalf("chunked %v: status %d, Retry-After %q; want 429 with Retry-After", chunked, w.Code, w.Header().Get("Retry-After"))
		}
		var e twilioError
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != 20429 || e.Status != 429 {
			t.Fatalf("429 body %s", w.Body)
		}
	}
	// A small one fits beside it.
	wg.Go(func() {
		if w := post(h, "c=1", false); w.Code != http.StatusNoContent {
			t.Errorf("small request: %d", w.Code)
		}
	})
	<-entered
	close(release)
	wg.Wait()
	if w := <-first; w.Code != http.StatusNoContent {
		t.Fatalf("first request: %d", w.Code)
	}
	// All returned: the budget is whole again, also for a body larger than it.
	for _, chunked := range []bool{false, true} {
		if w := post(h, "d="+strings.Repeat("z", 1500), chunked); w.Code != http.StatusNoContent {
			t.Fatalf("chunked %v after release: %d %s", chunked, w.Code, w.Body)
		}
	}
	if !b.sem.TryAcquire(1000) {
		t.Fatal("budget not given back")
	}
	// A declared length over the body limit is refused before reading.
	r := httptest.NewRequest("POST", "/v2/Transcripts", strings.NewReader("x"))
	r.ContentLength = MaxBodyBytes + 1
	w := httptest.NewRecorder()
	b.Limit(http.NotFoundHandler()).ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized Content-Length: %d", w.Code)
	}
}

func testServer(t *testing.T) *Server {
	return &Server{Log: slog.New(slog.DiscardHandler), Metrics: metrics.New(), PublicURL: "http://localhost"}
}

// seriesCount counts the request-latency series /metrics exports.
func seriesCount(t *testing.T, m *metrics.Metrics) int {
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	return strings.Count(w.Body.String(), "convoseal_http_request_duration_seconds_count{")
}

// Requests with made-up methods and paths add no series: labels are the
// matched route pattern and a fixed method set. The API does not serve
// /metrics.
func TestMetricLabelsBounded(t *testing.T) {
	s := testServer(t)
	h := s.Handler()
	send := func(n int) {
		for range n {
			method := []string{"GET", "POST", "DELETE", fmt.Sprintf("M%d", rand.Uint32())}[rand.IntN(4)]
			path := []string{"/v2/Transcripts/", "/v1/x/", "/", "/v2/Services/GA00000000000000000000000000000000/Operators/"}[rand.IntN(4)] +
				fmt.Sprintf("r%d", rand.Uint32())
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
		}
	}
	send(200)
	before := seriesCount(t, s.Metrics)
	send(500)
	if after := seriesCount(t, s.Metrics); after != before || after > 30 {
		t.Fatalf("request series grew from %d to %d with random methods and paths", before, after)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("GET /metrics on the API: %d, want 404", w.Code)
	}
}

// countingStore counts Ping calls.
type countingStore struct {
	blob.Store
	pings atomic.Int64
}

func (c *countingStore) Ping(ctx context.Context) error {
	c.pings.Add(1)
	return c.Store.Ping(ctx)
}

// /readyz probes the blob store (whose local probe writes a file) at most
// once per few seconds, however often it is called.
func TestReadyzProbesSeldom(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenSQLite(t.Context(), filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	local, err := blob.NewLocal(filepath.Join(dir, "blobs"), "http://localhost", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	blobs := &countingStore{Store: local}
	s := testServer(t)
	s.DB, s.Blobs = db, blobs
	now := time.Unix(1_000_000, 0)
	s.ready.now = func() time.Time { return now }
	h := s.Handler()
	ready := func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != 200 {
			t.Fatalf("readyz: %d %s", w.Code, w.Body)
		}
	}
	for range 100 {
		ready()
	}
	if n := blobs.pings.Load(); n != 1 {
		t.Fatalf("100 calls of /readyz probed the blob store %d times, want 1", n)
	}
	now = now.Add(readyOKFor)
	ready()
	if n := blobs.pings.Load(); n != 2 {
		t.Fatalf("after %s: %d probes, want 2", readyOKFor, n)
	}
}
