// Package openai is an asr.Recognizer that calls an OpenAI-compatible
// speech-to-text endpoint (POST {URL}/audio/transcriptions): OpenAI itself,
// speaches, whisper.cpp's server, vLLM, or another convoseal running
// `convoseal asr-serve`.
//
// Each Recognize call sends one channel as a 16-bit mono WAV built in memory,
// asks for response_format=verbose_json with word and segment timestamps, and
// accepts both answer shapes seen in the field: top-level "words" (OpenAI,
// speaches) and per-segment "words" holding sub-word tokens (whisper.cpp).
//
// Requests are retried on 429, 5xx, timeouts and network errors, honouring
// Retry-After; each attempt has its own timeout; at most MaxConcurrent
// requests are in flight per Client. Errors say what failed and never contain
// recognised text or the API key.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/httpretry"
)

// Defaults for Config fields left zero.
const (
	DefaultModel            = "whisper-1"
	DefaultTimeout          = 5 * time.Minute
	DefaultAttempts         = 3
	DefaultMaxConcurrent    = 4
	DefaultMaxResponseBytes = 16 << 20

	// MaxRetryAfter caps how long a Retry-After header can make us wait.
	MaxRetryAfter = 30 * time.Second

	backoffBase  = 500 * time.Millisecond
	backoffCap   = 10 * time.Second
	maxErrorBody = 64 << 10
)

// Errors, to test with errors.Is. A non-2xx answer is a *StatusError.
var (
	// ErrTimeout means an attempt got no complete answer within Config.Timeout.
	ErrTimeout = errors.New("asr/openai: request timed out")
	// ErrUnreachable means the endpoint could not be reached.
	ErrUnreachable = errors.New("asr/openai: endpoint unreachable")
	// ErrInvalidResponse means a 2xx answer was unusable (unparseable, or
	// larger than Config.MaxResponseBytes).
	ErrInvalidResponse = errors.New("asr/openai: invalid response")
)

// StatusError is a non-2xx answer: returned at once for 3xx and 4xx other
// than 429, after Config.Attempts for 429 and 5xx.
type StatusError struct {
	Code     int
	Attempts int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("asr/openai: HTTP %d %s after %d attempt%s", e.Code, http.StatusText(e.Code), e.Attempts, plural(e.Attempts))
}

// Config configures a Client.
type Config struct {
	// URL is the API base, e.g. http://127.0.0.1:9000/v1; requests go to
	// URL + "/audio/transcriptions". Operator-configured and trusted: no
	// address filtering applies, but redirects to another host are refused.
	URL string
	// Model is sent as "model". Default DefaultModel.
	Model string
	// APIKey is sent as "Authorization: Bearer <key>" when not empty. It is
	// never logged nor put in errors.
	APIKey string
	// Timeout bounds each attempt, from sending to reading the whole answer.
	Timeout time.Duration
	// MaxConcurrent bounds requests in flight; callers beyond it wait.
	MaxConcurrent int
	// Attempts per Recognize call, including the first.
	Attempts int
	// MaxResponseBytes bounds an answer's body.
	MaxResponseBytes int64
	// Languages are the codes the endpoint's model covers: ISO-639-1 ("en")
	// or BCP-47 ("en-US"); a request's language is accepted when its primary
	// subtag matches one. Default: the languages Whisper models cover.
	Languages []string
	// HTTPClient is used when not nil (a shallow copy whose CheckRedirect
	// refuses redirects to another host or scheme).
	HTTPClient *http.Client
	// Backoff returns the wait after the attempt-th failure (1-based); a
	// longer Retry-After wins. Default: exponential with jitter.
	Backoff func(attempt int) time.Duration
	// MaxBusyWait is how long Recognize keeps retrying while the server
	// answers 429 (busy, as asr-serve does when all its decoders work):
	// such answers do not use up Attempts until this much time has passed
	// since the first one. Default: Timeout.
	MaxBusyWait time.Duration
}

// Client is an asr.Recognizer backed by an HTTP endpoint. It is safe for
// concurrent use.
type Client struct {
	endpoint  string
	model     string
	apiKey    string
	timeout   time.Duration
	attempts  int
	maxBytes  int64
	languages []string
	primary   map[string]bool
	hc        *http.Client
	backoff   func(int) time.Duration
	busyWait  time.Duration
	sem       chan struct{}
}

var _ asr.Recognizer = (*Client)(nil)

// New checks cfg, fills in defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if cfg.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Not the parse error itself: a URL may carry credentials.
		return nil, errors.New("asr/openai: URL must be an absolute http or https URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("asr/openai: URL must not have a query or fragment")
	}
	if cfg.Timeout < 0 || cfg.Attempts < 0 || cfg.MaxConcurrent < 0 || cfg.MaxResponseBytes < 0 || cfg.MaxBusyWait < 0 {
		return nil, errors.New("asr/openai: Timeout, Attempts, MaxConcurrent, MaxResponseBytes and MaxBusyWait must not be negative")
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		return nil, errors.New("asr/openai: APIKey contains a line break")
	}
	c := &Client{
		endpoint: strings.TrimRight(u.String(), "/") + "/audio/transcriptions",
		model:    orDefault(cfg.Model, DefaultModel),
		apiKey:   cfg.APIKey,
		timeout:  orDefault(cfg.Timeout, DefaultTimeout),
		attempts: orDefault(cfg.Attempts, DefaultAttempts),
		maxBytes: orDefault(cfg.MaxResponseBytes, DefaultMaxResponseBytes),
		backoff:  cfg.Backoff,
		sem:      make(chan struct{}, orDefault(cfg.MaxConcurrent, DefaultMaxConcurrent)),
		primary:  map[string]bool{},
	}
	c.busyWait = orDefault(cfg.MaxBusyWait, c.timeout)
	if c.backoff == nil {
		c.backoff = defaultBackoff
	}
	c.languages = cfg.Languages
	if len(c.languages) == 0 {
		c.languages = WhisperLanguages
	}
	for _, l := range c.languages {
		if p := primaryTag(l); p != "" {
			c.primary[p] = true
		}
	}
	if len(c.primary) == 0 {
		return nil, errors.New("asr/openai: Languages has no valid code")
	}
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	hc.CheckRedirect = httpretry.SameOrigin(hc.CheckRedirect)
	c.hc = hc
	return c, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// defaultBackoff is exponential from backoffBase to backoffCap, with jitter.
func defaultBackoff(attempt int) time.Duration {
	return httpretry.Backoff(attempt, backoffBase, backoffCap)
}

// Languages lists the configured language codes.
func (c *Client) Languages() []string { return append([]string(nil), c.languages...) }

// primaryTag is the lower-cased primary subtag of a BCP-47 code ("en" of
// "en-US"), or "" when there is none.
func primaryTag(lang string) string {
	p, _, _ := strings.Cut(strings.TrimSpace(lang), "-")
	p, _, _ = strings.Cut(p, "_")
	p = strings.ToLower(p)
	if len(p) < 2 || len(p) > 3 {
		return ""
	}
	for _, r := range p {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return p
}

// Recognize sends a to the endpoint and returns what it heard. The language
// (BCP-47) is sent as its ISO-639-1 part; one the configured Languages lack,
// or one the server answers is unsupported, gives an error wrapping
// asr.ErrLanguage.
func (c *Client) Recognize(ctx context.Context, a asr.Audio, language string) (*asr.Result, error) {
	lang := primaryTag(language)
	if !c.primary[lang] {
		return nil, fmt.Errorf("asr/openai: %q: %w", language, asr.ErrLanguage)
	}
	if a.SampleRate <= 0 {
		return nil, errors.New("asr/openai: audio has no sample rate")
	}
	if len(a.Samples) == 0 {
		return &asr.Result{Language: language}, nil
	}
	body, ctype, err := c.form(a, lang)
	if err != nil {
		return nil, err
	}
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return nil, fmt.Errorf("asr/openai: waiting for a request slot: %w", ctx.Err())
	}
	var busySince time.Time
	for attempt, n := 1, 1; ; n++ {
		raw, f := c.attempt(ctx, body, ctype)
		if f == nil {
			res, err := parse(raw, a.Duration())
			if err != nil {
				return nil, err
			}
			res.Language = language
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("asr/openai: after %d attempt%s: %w", n, plural(n), err)
		}
		busy := f.status == http.StatusTooManyRequests
		if busy && busySince.IsZero() {
			busySince = time.Now()
		}
		switch {
		case busy && time.Since(busySince) < c.busyWait:
			// A busy server: wait without using up an attempt.
		case !f.retry || attempt >= c.attempts:
			return nil, f.final(n, language)
		default:
			attempt++
		}
		wait := c.backoff(n)
		if busy {
			wait = c.backoff(min(n, 3)) // poll a busy server every second or two
		}
		wait = max(wait, f.retryAfter)
		if err := httpretry.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("asr/openai: after %d attempt%s: %w", n, plural(n), err)
		}
	}
}

// form builds the multipart body once, so that retries resend the same bytes.
func (c *Client) form(a asr.Audio, lang string) ([]byte, string, error) {
	var buf bytes.Buffer
	buf.Grow(44 + 2*len(a.Samples) + 1024)
	mw := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="audio.wav"`)
	h.Set("Content-Type", "audio/wav")
	fw, err := mw.CreatePart(h)
	if err != nil {
		return nil, "", fmt.Errorf("asr/openai: building request: %w", err)
	}
	if err := writeWAV(fw, a); err != nil {
		return nil, "", fmt.Errorf("asr/openai: building request: %w", err)
	}
	for _, kv := range [][2]string{
		{"model", c.model},
		{"response_format", "verbose_json"},
		{"timestamp_granularities[]", "word"},
		{"timestamp_granularities[]", "segment"},
		{"language", lang},
		{"temperature", "0"},
	} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return nil, "", fmt.Errorf("asr/openai: building request: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("asr/openai: building request: %w", err)
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

// failure is why one attempt failed.
type failure struct {
	kind       error // ErrTimeout, ErrUnreachable, ErrInvalidResponse, asr.ErrLanguage, or nil with status
	desc       string
	cause      error
	status     int
	retry      bool
	retryAfter time.Duration
}

func (f *failure) final(attempts int, language string) error {
	switch {
	case f.kind == asr.ErrLanguage:
		return fmt.Errorf("asr/openai: the server refused language %q: %w", language, asr.ErrLanguage)
	case f.status != 0:
		return &StatusError{Code: f.status, Attempts: attempts}
	case f.cause != nil:
		return fmt.Errorf("%w: %s after %d attempt%s: %w", f.kind, f.desc, attempts, plural(attempts), f.cause)
	default:
		return fmt.Errorf("%w: %s after %d attempt%s", f.kind, f.desc, attempts, plural(attempts))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (c *Client) attempt(ctx context.Context, body []byte, ctype string) ([]byte, *failure) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil { // cannot happen: the endpoint was checked by New
		return nil, &failure{kind: ErrUnreachable, desc: "cannot build request"}
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "convoseal-asr")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportFailure(actx, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusFailure(resp)
	}
	if resp.ContentLength > c.maxBytes {
		return nil, c.tooLarge()
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, c.transportFailure(actx, err)
	}
	if int64(len(raw)) > c.maxBytes {
		return nil, c.tooLarge()
	}
	return raw, nil
}

func (c *Client) tooLarge() *failure {
	return &failure{kind: ErrInvalidResponse, desc: fmt.Sprintf("response larger than %d bytes", c.maxBytes)}
}

func (c *Client) transportFailure(actx context.Context, err error) *failure {
	timedOut, err := httpretry.Transport(actx, err)
	if timedOut {
		return &failure{kind: ErrTimeout, desc: fmt.Sprintf("no answer within %s", c.timeout), retry: true}
	}
	return &failure{kind: ErrUnreachable, desc: "cannot reach the endpoint", cause: err, retry: true}
}

// statusFailure classifies a non-2xx answer: 429 and 5xx are retried; a 4xx
// about the language becomes asr.ErrLanguage. The body is only inspected,
// never quoted.
func statusFailure(resp *http.Response) *failure {
	f := &failure{status: resp.StatusCode}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		f.retry = true
		f.retryAfter = httpretry.RetryAfter(resp.Header.Get("Retry-After"), time.Now(), MaxRetryAfter)
		return f
	}
	if resp.StatusCode >= 400 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if aboutLanguage(raw) {
			f.kind = asr.ErrLanguage
		}
	}
	return f
}

// aboutLanguage reports whether an error body says the language is not
// supported: OpenAI's {"error":{"param":"language",…}} or a code or message
// naming the language as unsupported (whisper.cpp answers {"error":"…"}).
func aboutLanguage(raw []byte) bool {
	var obj struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return false
	}
	var e struct {
		Message string          `json:"message"`
		Param   string          `json:"param"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(obj.Error, &e) != nil {
		var s string
		if json.Unmarshal(obj.Error, &s) != nil {
			return false
		}
		e.Message = s
	}
	if e.Param == "language" {
		return true
	}
	text := strings.ToLower(e.Message + " " + string(e.Code))
	return strings.Contains(text, "language") &&
		(strings.Contains(text, "unsupported") || strings.Contains(text, "not supported") || strings.Contains(text, "invalid"))
}
