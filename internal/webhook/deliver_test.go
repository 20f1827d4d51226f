package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/httpretry"
	"github.com/twilio/twilio-go/client"
)

const testToken = "s3cr3t-auth-token-0123456789"

// received is one request as the receiver saw it.
type received struct {
	method, url, sig, body, user, pass, idem string
	form                                     map[string]string
	hasAuth                                  bool
}

// receiver is an httptest server that records requests and answers with
// the next status from codes (the last one repeats).
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []received
	codes []int
	hits  atomic.Int64
	delay time.Duration
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	t.Helper()
	rc := &receiver{codes: codes}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.handle))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) handle(w http.ResponseWriter, r *http.Request) {
	n := rc.hits.Add(1)
	// Reading the body first lets the server notice the client hanging up.
	body, _ := io.ReadAll(r.Body)
	if rc.delay > 0 {
		select {
		case <-r.Context().Done():
		case <-time.After(rc.delay):
		}
		return
	}
	rec := received{
		method: r.Method,
		url:    "http://" + r.Host + r.URL.RequestURI(),
		sig:    r.Header.Get(SignatureHeader),
		body:   string(body),
		idem:   r.Header.Get(idempotencyHeader),
		form:   map[string]string{},
	}
	rec.user, rec.pass, rec.hasAuth = r.BasicAuth()
	if r.Method == http.MethodPost {
		vals, _ := url.ParseQuery(string(body))
		for k, v := range vals {
			rec.form[k] = v[0]
		}
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, rec)
	rc.mu.Unlock()
	code := http.StatusOK
	if len(rc.codes) > 0 {
		code = rc.codes[min(int(n)-1, len(rc.codes)-1)]
	}
	w.WriteHeader(code)
	io.WriteString(w, "response body")
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// valid checks a request's signature the way a Twilio receiver would.
func (r received) valid(token string) bool {
	v := client.NewRequestValidator(token)
	if r.method == http.MethodPost {
		return v.Validate(r.url, r.form, r.sig) && v.ValidateBody(r.url, []byte(r.body), r.sig)
	}
	return v.Validate(r.url, map[string]string{}, r.sig)
}

func testEvent(u, method string) Event {
	return Event{
		URL:        u,
		Method:     method,
		AccountSID: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		Params: map[string]string{
			"TranscriptSid": "GTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
			"ServiceSid":    "GAcccccccccccccccccccccccccccccccc",
			"AccountSid":    "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"Status":        StatusCompleted,
			"EventType":     EventTranscriptAvailable,
			"Timestamp":     "2026-01-02T03:04:05Z",
			"Note":          "a value & with = specials+ünïcode",
		},
	}
}

// recorder collects OnAttempt outcomes.
type recorder struct {
	mu       sync.Mutex
	outcomes []string
}

func (r *recorder) add(o string) { r.mu.Lock(); r.outcomes = append(r.outcomes, o); r.mu.Unlock() }

func (r *recorder) get() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.outcomes, ",")
}

func newDeliverer(rec *recorder, logBuf *bytes.Buffer) *Deliverer {
	d := &Deliverer{
		AllowPrivate: true, // httptest receivers listen on loopback
		Timeout:      2 * time.Second,
		Backoff:      func(int) time.Duration { return time.Millisecond },
		Log:          slog.New(slog.DiscardHandler),
	}
	if rec != nil {
		d.OnAttempt = rec.add
	}
	if logBuf != nil {
		d.Log = slog.New(slog.NewJSONHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return d
}

func TestDeliverPOSTSigned(t *testing.T) {
	rc := newReceiver(t)
	d := newDeliverer(nil, nil)
	ev := testEvent(rc.URL+"/hooks/transcripts?tenant=42&x=a%20b", "post")
	if err := d.Deliver(context.Background(), ev, testToken); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost {
		t.Errorf("method = %s", r.method)
	}
	if len(r.form) != len(ev.Params) {
		t.Errorf("form = %v, want %v", r.form, ev.Params)
	}
	for k, v := range ev.Params {
		if r.form[k] != v {
			t.Errorf("form[%s] = %q, want %q", k, r.form[k], v)
		}
	}
	if !r.valid(testToken) {
		t.Errorf("twilio-go rejected the signature of %s", r.url)
	}
	if r.valid("wrong-token") {
		t.Error("signature validated with the wrong token")
	}
	if r.idem == "" {
		t.Error("no idempotency token")
	}
}

func TestDeliverGETSigned(t *testing.T) {
	rc := newReceiver(t)
	d := newDeliverer(nil, nil)
	for _, path := range []string{"/hook", "/hook?existing=1"} {
		ev := testEvent(rc.URL+path, "GET")
		if err := d.Deliver(context.Background(), ev, testToken); err != nil {
			t.Fatal(err)
		}
	}
	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if r.method != http.MethodGet || r.body != "" {
			t.Errorf("method %s, body %q", r.method, r.body)
		}
		q, _ := url.Parse(r.url)
		if got := q.Query().Get("TranscriptSid"); got != "GTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" {
			t.Errorf("query TranscriptSid = %q in %s", got, r.url)
		}
		if !r.valid(testToken) {
			t.Errorf("twilio-go rejected the GET signature of %s", r.url)
		}
		if r.valid("wrong-token") {
			t.Error("GET signature validated with the wrong token")
		}
	}
	if !strings.Contains(reqs[1].url, "existing=1&") {
		t.Errorf("existing query not kept: %s", reqs[1].url)
	}
}

func TestDeliverUserinfoIsBasicAuthNotSigned(t *testing.T) {
	rc := newReceiver(t)
	d := newDeliverer(nil, nil)
	u := strings.Replace(rc.URL, "http://", "http://hookuser:hookpass@", 1) + "/h#frag"
	if err := d.Deliver(context.Background(), testEvent(u, "POST"), testToken); err != nil {
		t.Fatal(err)
	}
	r := rc.requests()[0]
	if !r.hasAuth || r.user != "hookuser" || r.pass != "hookpass" {
		t.Errorf("basic auth = %v %q %q", r.hasAuth, r.user, r.pass)
	}
	if !r.valid(testToken) {
		t.Error("signature over the URL without userinfo rejected")
	}
}

func TestDeliverWithRetryRecovers(t *testing.T) {
	rc := newReceiver(t, 500, 500, 200)
	rec := &recorder{}
	d := newDeliverer(rec, nil)
	ev := testEvent(rc.URL+"/hook", "POST")
	if err := d.DeliverWithRetry(context.Background(), ev, testToken); err != nil {
		t.Fatal(err)
	}
	if n := rc.hits.Load(); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}
	if got := rec.get(); got != "retry,retry,delivered" {
		t.Errorf("outcomes = %s", got)
	}
	reqs := rc.requests()
	for _, r := range reqs {
		if !r.valid(testToken) {
			t.Error("retry not validly signed")
		}
		if r.idem != reqs[0].idem {
			t.Error("idempotency token changed between attempts")
		}
	}
}

func TestDeliverWithRetryGivesUp(t *testing.T) {
	rc := newReceiver(t, 503)
	rec := &recorder{}
	d := newDeliverer(rec, nil)
	d.MaxAttempts = 3
	err := d.DeliverWithRetry(context.Background(), testEvent(rc.URL, "POST"), testToken)
	var de *DeliveryError
	if !errors.As(err, &de) || de.StatusCode != 503 || !de.Retryable || !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("err = %#v", err)
	}
	if n := rc.hits.Load(); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
	if got := rec.get(); got != "retry,retry,failed" {
		t.Errorf("outcomes = %s", got)
	}
}

func TestDeliverStatusClassification(t *testing.T) {
	for code, retryable := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 410: false, 302: false,
		408: true, 429: true, 500: true, 502: true, 503: true,
	} {
		rc := newReceiver(t, code)
		rec := &recorder{}
		d := newDeliverer(rec, nil)
		err := d.DeliverWithRetry(context.Background(), testEvent(rc.URL, "POST"), testToken)
		var de *DeliveryError
		if !errors.As(err, &de) || de.StatusCode != code || de.Retryable != retryable {
			t.Errorf("%d: err = %v (%#v)", code, err, de)
			continue
		}
		want := int64(1)
		if retryable {
			want = DefaultMaxAttempts
		}
		if n := rc.hits.Load(); n != want {
			t.Errorf("%d: receiver got %d requests, want %d", code, n, want)
		}
	}
}

func TestDeliver400ExactlyOnce(t *testing.T) {
	rc := newReceiver(t, 400)
	rec := &recorder{}
	d := newDeliverer(rec, nil)
	err := d.DeliverWithRetry(context.Background(), testEvent(rc.URL, "POST"), testToken)
	if !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("err = %v", err)
	}
	if n := rc.hits.Load(); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
	if got := rec.get(); got != "failed" {
		t.Errorf("outcomes = %s", got)
	}
	if strings.Contains(err.Error(), "response body") {
		t.Error("error quotes the response body")
	}
}

func TestDeliverRefusesLoopback(t *testing.T) {
	rc := newReceiver(t)
	rec := &recorder{}
	d := newDeliverer(rec, nil)
	d.AllowPrivate = false
	_, port, _ := strings.Cut(strings.TrimPrefix(rc.URL, "http://"), ":")
	for _, u := range []string{rc.URL + "/hook", "http://localhost:" + port + "/hook", "http://[::1]:" + port + "/"} {
		err := d.DeliverWithRetry(context.Background(), testEvent(u, "POST"), testToken)
		var de *DeliveryError
		if !errors.Is(err, ErrForbiddenAddress) || !errors.As(err, &de) || de.Retryable {
			t.Errorf("%s: err = %v, want non-retryable ErrForbiddenAddress", u, err)
		}
	}
	if n := rc.hits.Load(); n != 0 {
		t.Errorf("loopback receiver got %d requests", n)
	}
	if got := rec.get(); got != "failed,failed,failed" {
		t.Errorf("outcomes = %s", got)
	}
}

func TestDeliverTimeout(t *testing.T) {
	rc := newReceiver(t)
	rc.delay = 5 * time.Second
	rec := &recorder{}
	d := newDeliverer(rec, nil)
	d.Timeout = 100 * time.Millisecond
	d.MaxAttempts = 2
	start := time.Now()
	err := d.DeliverWithRetry(context.Background(), testEvent(rc.URL, "POST"), testToken)
	var de *DeliveryError
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &de) || !de.Retryable {
		t.Fatalf("err = %v, want retryable ErrTimeout", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v", el)
	}
	if n := rc.hits.Load(); n != 2 {
		t.Errorf("receiver got %d requests, want 2", n)
	}
	if got := rec.get(); got != "retry,failed" {
		t.Errorf("outcomes = %s", got)
	}
}

func TestDeliverWithRetryStopsOnCancel(t *testing.T) {
	rc := newReceiver(t, 500)
	d := newDeliverer(nil, nil)
	d.Backoff = func(int) time.Duration { return time.Hour }
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := d.DeliverWithRetry(ctx, testEvent(rc.URL, "POST"), testToken)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("err = %v", err)
	}
	if n := rc.hits.Load(); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

func TestDeliverConnectionRefusedRetryable(t *testing.T) {
	rc := newReceiver(t)
	u := rc.URL
	rc.Close()
	d := newDeliverer(nil, nil)
	err := d.Deliver(context.Background(), testEvent(u+"/h?token=qs-secret", "POST"), testToken)
	var de *DeliveryError
	if !errors.Is(err, ErrConnection) || !errors.As(err, &de) || !de.Retryable {
		t.Fatalf("err = %v, want retryable ErrConnection", err)
	}
	if strings.Contains(err.Error(), "qs-secret") {
		t.Errorf("error leaks the query: %v", err)
	}
}

func TestDeliverInvalid(t *testing.T) {
	rc := newReceiver(t)
	rec := &recorder{}
	d := newDeliverer(rec, nil)
	for _, tt := range []struct{ url, method, token string }{
		{"ftp://example.com/x", "POST", testToken},
		{"file:///etc/passwd", "POST", testToken},
		{"example.com/hook", "POST", testToken},
		{"http:///nohost", "POST", testToken},
		{"http://%zz", "POST", testToken},
		{rc.URL, "PUT", testToken},
		{rc.URL, "POST", ""},
	} {
		err := d.DeliverWithRetry(context.Background(), testEvent(tt.url, tt.method), tt.token)
		var de *DeliveryError
		if !errors.Is(err, ErrInvalidEvent) || !errors.As(err, &de) || de.Retryable {
			t.Errorf("%s %s: err = %v, want non-retryable ErrInvalidEvent", tt.method, tt.url, err)
		}
	}
	if n := rc.hits.Load(); n != 0 {
		t.Errorf("receiver got %d requests", n)
	}
	if got := rec.get(); got != strings.Repeat("failed,", 6)+"failed" {
		t.Errorf("outcomes = %s", got)
	}
}

func TestDeliverDisabled(t *testing.T) {
	rc := newReceiver(t)
	rec := &recorder{}
	d := newDeliverer(rec, nil)
	for _, ev := range []Event{testEvent(rc.URL, "NULL"), testEvent(rc.URL, ""), testEvent(rc.URL, "null"), testEvent("", "POST")} {
		if ev.Enabled() {
			t.Errorf("%+v enabled", ev)
		}
		if err := d.DeliverWithRetry(context.Background(), ev, testToken); err != nil {
			t.Errorf("err = %v", err)
		}
	}
	if rc.hits.Load() != 0 || rec.get() != "" {
		t.Error("disabled event was delivered")
	}
}

func TestDeliverLogsNoSecrets(t *testing.T) {
	rc := newReceiver(t, 500, 200)
	var buf bytes.Buffer
	d := newDeliverer(nil, &buf)
	ev := testEvent(strings.Replace(rc.URL, "http://", "http://loguser:logpass@", 1)+"/hook?apikey=query-secret", "POST")
	ev.Params["Content"] = "the transcript says hello"
	if err := d.DeliverWithRetry(context.Background(), ev, testToken); err != nil {
		t.Fatal(err)
	}
	// A failing delivery logs its error too.
	_ = d.Deliver(context.Background(), testEvent("http://127.0.0.1:1/x?apikey=query-secret", "GET"), testToken)
	out := buf.String()
	for _, secret := range []string{testToken, "query-secret", "apikey", "loguser", "logpass",
		"transcript says hello", "2026-01-02T03:04:05Z", "specials", Sign(testToken, rc.URL, nil)[:10]} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"transcript_sid":"GTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"`, `"event_type":"` + EventTranscriptAvailable,
		`"attempt":2`, `"http_status":500`, `"outcome":"retry"`, `"outcome":"delivered"`, rc.URL + `/hook"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 7: MaxBackoff, 100: MaxBackoff, 0: MaxBackoff} {
		for range 20 {
			got := DefaultBackoff(attempt)
			if got > want || got < want*3/4 {
				t.Errorf("DefaultBackoff(%d) = %v, want in [%v, %v]", attempt, got, want*3/4, want)
			}
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"": 0, "0": 0, "-5": 0, "3": 3 * time.Second, "3600": MaxBackoff, "soon": 0,
		now.Add(10 * time.Second).Format(http.TimeFormat): 10 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := httpretry.RetryAfter(h, now, MaxBackoff); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}
