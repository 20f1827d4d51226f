package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/httpretry"
	"github.com/convoseal/convoseal/internal/llm/llmtest"
)

// Client implements operators.LLM; the interface is restated here so that
// this package's tests do not depend on package operators building.
var _ interface {
	Complete(ctx context.Context, system, user string, schema json.RawMessage) (string, error)
} = (*Client)(nil)

const (
	testKey    = "sk-test-0123456789abcdef"
	testSystem = "SYSTEM-PROMPT-classify the call"
	testUser   = "USER-PROMPT-customer said their card 4111 was charged twice"
)

var labelSchema = json.RawMessage(`{
	"type": "object",
	"properties": {"label": {"type": "string", "enum": ["billing", "support"]}},
	"required": ["label"],
	"additionalProperties": false
}`)

func noBackoff(int) time.Duration { return 0 }

// newClient returns a client for srv with instant retries; mod adjusts cfg.
func newClient(t *testing.T, baseURL string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: baseURL, Model: "test-model", APIKey: testKey, Backoff: noBackoff, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// checkSafe fails if an error's text leaks the key, the prompt or an answer.
func checkSafe(t *testing.T, err error, answers ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range append([]string{testKey, "sk-test", testSystem, testUser, "4111"}, answers...) {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q contains %q", msg, s)
		}
	}
}

func TestCompleteText(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Answer("  The customer was double charged.\n"))
	c := newClient(t, srv.URL, nil)
	got, err := c.Complete(context.Background(), testSystem, testUser, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "The customer was double charged." {
		t.Errorf("answer = %q", got)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Model != "test-model" {
		t.Errorf("model = %q", r.Model)
	}
	want := []llmtest.Message{{Role: "system", Content: testSystem}, {Role: "user", Content: testUser}}
	if len(r.Messages) != 2 || r.Messages[0] != want[0] || r.Messages[1] != want[1] {
		t.Errorf("messages = %+v", r.Messages)
	}
	if r.Temperature == nil || *r.Temperature != 0 {
		t.Errorf("temperature = %v, want 0", r.Temperature)
	}
	if r.ResponseFormat != nil {
		t.Errorf("response_format = %s, want none", r.ResponseFormat)
	}
	if r.Authorization != "Bearer "+testKey {
		t.Errorf("Authorization = %q", r.Authorization)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestCompleteNoAPIKey(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Answer("ok"))
	c := newClient(t, srv.URL, func(c *Config) { c.APIKey = "" })
	if _, err := c.Complete(context.Background(), "s", "u", json.RawMessage("null")); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Authorization != "" {
		t.Errorf("Authorization = %q, want none", r.Authorization)
	}
	if r.ResponseFormat != nil {
		t.Errorf("JSON null schema sent response_format %s", r.ResponseFormat)
	}
}

func TestCompleteSchema(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Answer(" {\n  \"label\" : \"billing\"\n} "))
	c := newClient(t, srv.URL, nil)
	got, err := c.Complete(context.Background(), testSystem, testUser, labelSchema)
	if err != nil {
		t.Fatal(err)
	}
	if got != `{"label":"billing"}` {
		t.Errorf("answer = %q", got)
	}
	r := srv.Requests()[0]
	var rf struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string          `json:"name"`
			Strict *bool           `json:"strict"`
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(r.ResponseFormat, &rf); err != nil {
		t.Fatalf("response_format %s: %v", r.ResponseFormat, err)
	}
	if rf.Type != "json_schema" || rf.JSONSchema.Name != "result" || rf.JSONSchema.Strict == nil || !*rf.JSONSchema.Strict {
		t.Errorf("response_format = %s", r.ResponseFormat)
	}
	if !jsonEqual(t, rf.JSONSchema.Schema, labelSchema) {
		t.Errorf("schema sent = %s", rf.JSONSchema.Schema)
	}
	if r.Model != "test-model" || len(r.Messages) != 2 || r.System != testSystem || r.User != testUser {
		t.Errorf("request = %s", r.Body)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestFencedJSON(t *testing.T) {
	for _, content := range []string{
		"```json\n{\"label\": \"support\"}\n```",
		"```JSON\n{\"label\": \"support\"}\n```\n",
		"```\n{\"label\": \"support\"}\n```",
		"```json {\"label\": \"support\"} ```",
		"Here is the result:\n\n```json\n{\n  \"label\": \"support\"\n}\n```\nHope this helps.",
	} {
		srv := llmtest.NewServer(t, llmtest.Answer(content))
		c := newClient(t, srv.URL, nil)
		got, err := c.Complete(context.Background(), testSystem, testUser, labelSchema)
		if err != nil {
			t.Errorf("%q: %v", content, err)
			continue
		}
		if got != `{"label":"support"}` {
			t.Errorf("%q: answer = %q", content, got)
		}
	}
}

func TestRetry500ThenSuccess(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Script(
		llmtest.Response{Failure: llmtest.Fail500},
		llmtest.Response{Failure: llmtest.Fail500},
		llmtest.Response{Content: `{"label":"billing"}`},
	))
	c := newClient(t, srv.URL, nil)
	got, err := c.Complete(context.Background(), testSystem, testUser, labelSchema)
	if err != nil {
		t.Fatal(err)
	}
	if got != `{"label":"billing"}` {
		t.Errorf("answer = %q", got)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// recordSleeps replaces c's sleep with one that records the waits.
func recordSleeps(c *Client) func() []time.Duration {
	var mu sync.Mutex
	var waits []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

func TestRetry429RetryAfter(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Script(
		llmtest.Response{Failure: llmtest.Fail429, Header: http.Header{"Retry-After": {"2"}}},
		llmtest.Response{Failure: llmtest.Fail429, Header: http.Header{"Retry-After": {"3600"}}},
		llmtest.Response{Failure: llmtest.Fail429},
		llmtest.Response{Content: "done"},
	))
	c := newClient(t, srv.URL, func(c *Config) {
		c.MaxAttempts = 4
		c.Backoff = func(int) time.Duration { return time.Second }
	})
	waits := recordSleeps(c)
	got, err := c.Complete(context.Background(), testSystem, testUser, nil)
	if err != nil || got != "done" {
		t.Fatalf("Complete = %q, %v", got, err)
	}
	want := []time.Duration{2 * time.Second, MaxRetryAfter, time.Second}
	if w := waits(); len(w) != 3 || w[0] != want[0] || w[1] != want[1] || w[2] != want[2] {
		t.Errorf("waits = %v, want %v", w, want)
	}
}

func TestAlways500(t *testing.T) {
	srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response {
		return llmtest.Response{Status: 500, Body: []byte(`{"error":{"message":"boom","code":null}}`)}
	})
	c := newClient(t, srv.URL, nil)
	_, err := c.Complete(context.Background(), testSystem, testUser, labelSchema)
	var se *ErrHTTPStatus
	if !errors.As(err, &se) || se.Code != 500 || se.Attempts != 3 {
		t.Fatalf("err = %#v, want ErrHTTPStatus 500 after 3 attempts", err)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Error("HTTP 500 does not match ErrUnavailable")
	}
	if got, want := err.Error(), "llm: HTTP 500 Internal Server Error after 3 attempts"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	checkSafe(t, err)
}

func TestNoRetryOn4xx(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404} {
		srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response {
			if code == 401 {
				return llmtest.Response{Failure: llmtest.Fail401}
			}
			// Providers may echo the request in error messages.
			return llmtest.Response{Status: code, Body: []byte(`{"error":{"message":"bad request: ` + testUser + `","type":"invalid_request_error","code":"` + testUser + `"}}`)}
		})
		c := newClient(t, srv.URL, nil)
		_, err := c.Complete(context.Background(), testSystem, testUser, nil)
		var se *ErrHTTPStatus
		if !errors.As(err, &se) || se.Code != code || se.Attempts != 1 {
			t.Errorf("%d: err = %v", code, err)
		}
		if errors.Is(err, ErrUnavailable) {
			t.Errorf("%d matches ErrUnavailable", code)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d: %d requests, want 1", code, n)
		}
		checkSafe(t, err)
		if code == 401 && err.Error() != "llm: HTTP 401 Unauthorized (invalid_api_key) after 1 attempt" {
			t.Errorf("message = %q", err)
		}
		if code == 400 && err.Error() != "llm: HTTP 400 Bad Request (invalid_request_error) after 1 attempt" {
			t.Errorf("message = %q", err)
		}
	}
}

func TestInvalidJSONThreeTimes(t *testing.T) {
	srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response {
		return llmtest.Response{Failure: llmtest.FailBadJSON}
	})
	c := newClient(t, srv.URL, nil)
	_, err := c.Complete(context.Background(), testSystem, testUser, labelSchema)
	if !errors.Is(err, ErrInvalidAnswer) {
		t.Fatalf("err = %v, want ErrInvalidAnswer", err)
	}
	if got, want := err.Error(), "llm: model answered invalid JSON after 3 attempts"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	checkSafe(t, err, "billing")
}

func TestSchemaMismatch(t *testing.T) {
	answer := `{"label":"CUSTOMER-ANSWER-refund"}`
	srv := llmtest.NewServer(t, llmtest.Answer(answer))
	c := newClient(t, srv.URL, nil)
	_, err := c.Complete(context.Background(), testSystem, testUser, labelSchema)
	if !errors.Is(err, ErrInvalidAnswer) {
		t.Fatalf("err = %v, want ErrInvalidAnswer", err)
	}
	if got, want := err.Error(), "llm: model answer does not match the JSON schema (at #/properties/label/enum) after 3 attempts"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	checkSafe(t, err, "CUSTOMER-ANSWER")

	// An extra property's name comes from the answer: not quoted either.
	srv = llmtest.NewServer(t, llmtest.Answer(`{"label":"billing","CUSTOMER-KEY":1}`))
	c = newClient(t, srv.URL, func(c *Config) { c.MaxAttempts = 1 })
	_, err = c.Complete(context.Background(), testSystem, testUser, labelSchema)
	if !errors.Is(err, ErrInvalidAnswer) {
		t.Fatalf("err = %v, want ErrInvalidAnswer", err)
	}
	checkSafe(t, err, "CUSTOMER-KEY")
}

func TestOtherInvalidAnswersRetried(t *testing.T) {
	for _, mode := range []string{llmtest.FailBadBody, llmtest.FailEmpty, llmtest.FailNoChoices} {
		srv := llmtest.NewServer(t, llmtest.Script(llmtest.Response{Failure: mode}, llmtest.Response{Content: "fine"}))
		c := newClient(t, srv.URL, nil)
		got, err := c.Complete(context.Background(), testSystem, testUser, nil)
		if err != nil || got != "fine" {
			t.Errorf("%s: Complete = %q, %v", mode, got, err)
		}

		srv = llmtest.NewServer(t, func(llmtest.Request) llmtest.Response { return llmtest.Response{Failure: mode} })
		c = newClient(t, srv.URL, func(c *Config) { c.MaxAttempts = 2 })
		_, err = c.Complete(context.Background(), testSystem, testUser, nil)
		if !errors.Is(err, ErrInvalidAnswer) || !strings.HasSuffix(err.Error(), "after 2 attempts") {
			t.Errorf("%s: err = %v", mode, err)
		}
		checkSafe(t, err)
	}
}

func TestRefusal(t *testing.T) {
	srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response {
		return llmtest.Response{Body: []byte(`{"choices":[{"message":{"role":"assistant","content":null,"refusal":"I cannot help with CUSTOMER-STUFF"}}]}`)}
	})
	c := newClient(t, srv.URL, func(c *Config) { c.MaxAttempts = 1 })
	_, err := c.Complete(context.Background(), testSystem, testUser, labelSchema)
	if !errors.Is(err, ErrInvalidAnswer) || err.Error() != "llm: model refused to answer after 1 attempt" {
		t.Errorf("err = %v", err)
	}
}

func TestTimeout(t *testing.T) {
	srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response {
		return llmtest.Response{Failure: llmtest.FailTimeout}
	})
	c := newClient(t, srv.URL, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.MaxAttempts = 2 })
	start := time.Now()
	_, err := c.Complete(context.Background(), testSystem, testUser, nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if got, want := err.Error(), "llm: no answer within 50ms after 2 attempts"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestTimeoutWhileReadingBody(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"choices":[`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer srv.Close()
	defer close(done)
	c := newClient(t, srv.URL, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.MaxAttempts = 1 })
	_, err := c.Complete(context.Background(), testSystem, testUser, nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestOversizedResponse(t *testing.T) {
	big := strings.Repeat("x", 4096)
	t.Run("content-length", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Answer(big))
		c := newClient(t, srv.URL, func(c *Config) { c.MaxResponseBytes = 1024 })
		_, err := c.Complete(context.Background(), testSystem, testUser, nil)
		if !errors.Is(err, ErrInvalidAnswer) || err.Error() != "llm: response larger than 1024 bytes after 1 attempt" {
			t.Errorf("err = %v", err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests, want 1 (no retry)", n)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"choices":[{"message":{"content":"`))
			w.(http.Flusher).Flush()
			for range 8 {
				_, _ = w.Write([]byte(big))
				w.(http.Flusher).Flush()
			}
			_, _ = w.Write([]byte(`"}}]}`))
		}))
		defer srv.Close()
		c := newClient(t, srv.URL, func(c *Config) { c.MaxResponseBytes = 1024 })
		_, err := c.Complete(context.Background(), testSystem, testUser, nil)
		if !errors.Is(err, ErrInvalidAnswer) || !strings.Contains(err.Error(), "larger than 1024 bytes") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestContextCancel(t *testing.T) {
	t.Run("during request", func(t *testing.T) {
		srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response {
			return llmtest.Response{Failure: llmtest.FailTimeout}
		})
		c := newClient(t, srv.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.Complete(ctx, testSystem, testUser, nil)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if err.Error() != "llm: context canceled after 1 attempt" {
			t.Errorf("message = %q", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response {
			return llmtest.Response{Failure: llmtest.Fail500}
		})
		c := newClient(t, srv.URL, func(c *Config) { c.Backoff = func(int) time.Duration { return time.Hour } })
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Complete(ctx, testSystem, testUser, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("before", func(t *testing.T) {
		srv := llmtest.NewServer(t, llmtest.Answer("x"))
		c := newClient(t, srv.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Complete(ctx, testSystem, testUser, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%d requests, want 0", n)
		}
	})
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newClient(t, url+"/v1", func(c *Config) { c.MaxAttempts = 2 })
	_, err := c.Complete(context.Background(), testSystem, testUser, nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if !strings.HasPrefix(err.Error(), "llm: cannot reach the endpoint after 2 attempts: ") || strings.Contains(err.Error(), "/chat/completions") {
		t.Errorf("message = %q", err)
	}
	checkSafe(t, err)
}

func TestRedirects(t *testing.T) {
	other := llmtest.NewServer(t, llmtest.Answer("from the other host"))
	srv := llmtest.NewServer(t, func(r llmtest.Request) llmtest.Response {
		return llmtest.Response{Status: http.StatusTemporaryRedirect, Header: http.Header{"Location": {other.URL + "/chat/completions"}}, Body: []byte{}}
	})
	c := newClient(t, srv.URL, nil)
	_, err := c.Complete(context.Background(), testSystem, testUser, nil)
	var se *ErrHTTPStatus
	if !errors.As(err, &se) || se.Code != 307 || se.Attempts != 1 {
		t.Fatalf("err = %v, want HTTP 307 after 1 attempt", err)
	}
	if !strings.Contains(err.Error(), "redirect to another host refused") {
		t.Errorf("message = %q", err)
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("other host got %d requests", n)
	}

	// Same host: followed (307 keeps the method and body).
	same := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old/chat/completions" {
			http.Redirect(w, r, "/new/chat/completions", http.StatusTemporaryRedirect)
			return
		}
		_, _ = w.Write([]byte(`{"choices":[{"message":{"content":"moved"}}]}`))
	}))
	defer same.Close()
	c = newClient(t, same.URL+"/old", nil)
	if got, err := c.Complete(context.Background(), testSystem, testUser, nil); err != nil || got != "moved" {
		t.Errorf("same-host redirect: %q, %v", got, err)
	}
}

func TestAPIKeyNeverInErrors(t *testing.T) {
	// A hostile or buggy backend echoing everything it got.
	echo := func(w http.ResponseWriter, r *http.Request, status int) {
		auth := r.Header.Get("Authorization")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": auth, "code": strings.TrimPrefix(auth, "Bearer "), "type": auth}})
		_, _ = w.Write(b)
	}
	for _, status := range []int{200, 400, 401, 429, 500, 503} {
		var got string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Get("Authorization")
			if status == 200 {
				_, _ = w.Write([]byte(`{"choices":[{"message":{"content":"` + r.Header.Get("Authorization") + `"}}]}`))
				return
			}
			echo(w, r, status)
		}))
		c := newClient(t, srv.URL, nil)
		_, err := c.Complete(context.Background(), testSystem, testUser, labelSchema)
		srv.Close()
		if got != "Bearer "+testKey {
			t.Errorf("%d: Authorization = %q", status, got)
		}
		if err == nil {
			t.Errorf("%d: no error", status)
			continue
		}
		checkSafe(t, err)
	}

	// Key-like strings in an error cause are scrubbed as a last defence.
	f := &failure{kind: ErrUnavailable, desc: "llm: cannot reach the endpoint", cause: errors.New("dial " + testKey), retry: true}
	err := f.final(3, testKey)
	checkSafe(t, err)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("scrubbed error lost its kind: %v", err)
	}
}

func TestInvalidSchema(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Answer("{}"))
	c := newClient(t, srv.URL, nil)
	for _, s := range []string{
		`{"type": 12}`,
		`{"type": "object"`,
		`{"$ref": "file:///etc/passwd"}`,
		`{"$ref": "https://example.com/schema.json"}`,
	} {
		_, err := c.Complete(context.Background(), testSystem, testUser, json.RawMessage(s))
		if !errors.Is(err, ErrInvalidSchema) {
			t.Errorf("%s: err = %v, want ErrInvalidSchema", s, err)
		}
		checkSafe(t, err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent with invalid schemas", n)
	}
	// Local references work.
	local := json.RawMessage(`{"$defs":{"l":{"type":"string"}},"type":"object","properties":{"label":{"$ref":"#/$defs/l"}}}`)
	if _, err := c.Complete(context.Background(), testSystem, testUser, local); err != nil {
		t.Errorf("local $ref: %v", err)
	}
}

func TestSchemaCache(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Answer(`{"label":"billing"}`))
	c := newClient(t, srv.URL, nil)
	for range 3 {
		if _, err := c.Complete(context.Background(), testSystem, testUser, labelSchema); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.schemas) != 1 {
		t.Errorf("%d cached schemas, want 1", len(c.schemas))
	}
}

func TestNew(t *testing.T) {
	for _, cfg := range []Config{
		{Model: "m"},
		{BaseURL: "localhost:8000/v1", Model: "m"},
		{BaseURL: "ftp://x/v1", Model: "m"},
		{BaseURL: "http://x/v1?key=secret", Model: "m"},
		{BaseURL: "http://x/v1"},
		{BaseURL: "http://x/v1", Model: "m", MaxAttempts: -1},
		{BaseURL: "http://x/v1", Model: "m", APIKey: "a\nb"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q leaks the URL", err)
		}
	}
	c, err := New(Config{BaseURL: "https://api.example.com/v1/", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if c.endpoint != "https://api.example.com/v1/chat/completions" || c.timeout != DefaultTimeout ||
		c.maxAttempts != DefaultMaxAttempts || c.maxBytes != DefaultMaxResponseBytes {
		t.Errorf("defaults: %+v", c)
	}
	// A caller's client is copied, not modified.
	hc := &http.Client{Timeout: time.Second}
	if _, err := New(Config{BaseURL: "http://x/v1", Model: "m", HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil {
		t.Error("caller's http.Client was modified")
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 6: 10 * time.Second, 100: 10 * time.Second} {
		for range 20 {
			if d := defaultBackoff(attempt); d < want/2 || d > want {
				t.Errorf("defaultBackoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"7":                             7 * time.Second,
		"31":                            MaxRetryAfter,
		"99999999999999999":             MaxRetryAfter,
		"soon":                          0,
		"Wed, 01 Jan 2025 00:00:10 GMT": 10 * time.Second,
		"Wed, 01 Jan 2025 01:00:00 GMT": MaxRetryAfter,
		"Tue, 31 Dec 2024 23:00:00 GMT": 0,
	} {
		if got := httpretry.RetryAfter(h, now, MaxRetryAfter); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Answer(`{"label":"billing"}`))
	c := newClient(t, srv.URL, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Complete(context.Background(), testSystem, testUser, labelSchema); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
