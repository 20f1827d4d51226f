// Package llm is a client for OpenAI-compatible chat-completions endpoints
// (POST {base}/chat/completions), used by the generative language operators.
// *Client implements operators.LLM.
//
// A call sends one system and one user message at temperature 0. With a JSON
// Schema, it asks for structured output (response_format json_schema, strict)
// and checks the answer itself: the content must be JSON, optionally fenced in
// ```json … ```, and valid against the schema; Complete returns it compacted.
//
// Transient failures (network errors, timeouts, HTTP 429 and 5xx, invalid
// answers) are retried with backoff up to Config.MaxAttempts; other statuses
// fail at once. Errors (see ErrTimeout, ErrInvalidAnswer, ErrUnavailable,
// ErrHTTPStatus) never contain the prompt, the answer or the API key.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convoseal/convoseal/internal/httpretry"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Defaults for zero Config fields.
const (
	DefaultTimeout          = 60 * time.Second
	DefaultMaxAttempts      = 3
	DefaultMaxResponseBytes = 4 << 20

	// MaxRetryAfter caps how long a Retry-After header can make us wait.
	MaxRetryAfter = 30 * time.Second

	backoffBase = 500 * time.Millisecond
	backoffCap  = 10 * time.Second

	// maxErrorBody bounds what is read of a non-2xx response.
	maxErrorBody = 64 << 10
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API base, e.g. https://api.openai.com/v1 or
	// http://localhost:8000/v1; requests go to BaseURL + "/chat/completions".
	// Required.
	BaseURL string

	// Model is sent as "model". Required.
	Model string

	// APIKey is sent as "Authorization: Bearer <key>" when not empty. It is
	// never logged nor put in errors.
	APIKey string

	// Timeout bounds each attempt, from sending the request to reading the
	// whole response. Default DefaultTimeout.
	Timeout time.Duration

	// MaxAttempts is the number of attempts per Complete call, including the
	// first. Default DefaultMaxAttempts.
	MaxAttempts int

	// MaxResponseBytes bounds the response body; a larger response is an
	// invalid answer and is not retried. Default DefaultMaxResponseBytes.
	MaxResponseBytes int64

	// HTTPClient is used when not nil (a shallow copy whose CheckRedirect
	// refuses redirects to another host or scheme). Default: a client with
	// http.DefaultTransport.
	HTTPClient *http.Client

	// Backoff returns how long to wait after the attempt-th failed attempt
	// (1-based) before the next one. A Retry-After header of a 429 or 5xx
	// response asking for longer (capped at MaxRetryAfter) wins. Default: exponential with jitter, 500ms
	// base, 10s cap. Tests set it to func(int) time.Duration { return 0 }.
	Backoff func(attempt int) time.Duration
}

// Client calls a chat-completions endpoint. It is safe for concurrent use.
type Client struct {
	endpoint    string
	model       string
	apiKey      string
	timeout     time.Duration
	maxAttempts int
	maxBytes    int64
	hc          *http.Client
	backoff     func(int) time.Duration
	sleep       func(context.Context, time.Duration) error // replaced in tests

	schemaMu sync.Mutex
	schemas  map[string]*jsonschema.Schema // compiled schemas by compact text
}

// maxCachedSchemas bounds Client.schemas; the cache is dropped when full.
const maxCachedSchemas = 256

// New checks cfg, fills in defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("llm: BaseURL is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Not the parse error itself: a URL may carry credentials.
		return nil, errors.New("llm: BaseURL must be an absolute http or https URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("llm: BaseURL must not have a query or fragment")
	}
	if cfg.Model == "" {
		return nil, errors.New("llm: Model is required")
	}
	if cfg.Timeout < 0 || cfg.MaxAttempts < 0 || cfg.MaxResponseBytes < 0 {
		return nil, errors.New("llm: Timeout, MaxAttempts and MaxResponseBytes must not be negative")
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		return nil, errors.New("llm: APIKey contains a line break")
	}
	c := &Client{
		endpoint:    strings.TrimRight(u.String(), "/") + "/chat/completions",
		model:       cfg.Model,
		apiKey:      cfg.APIKey,
		timeout:     cfg.Timeout,
		maxAttempts: cfg.MaxAttempts,
		maxBytes:    cfg.MaxResponseBytes,
		backoff:     cfg.Backoff,
		sleep:       httpretry.Sleep,
		schemas:     map[string]*jsonschema.Schema{},
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.maxBytes == 0 {
		c.maxBytes = DefaultMaxResponseBytes
	}
	if c.backoff == nil {
		c.backoff = defaultBackoff
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

// defaultBackoff is exponential with "equal jitter": half the delay is fixed,
// half random.
func defaultBackoff(attempt int) time.Duration {
	return httpretry.Backoff(attempt, backoffBase, backoffCap)
}

// Wire types of the chat-completions API (only the fields used).
type (
	chatRequest struct {
		Model          string          `json:"model"`
		Messages       []chatMessage   `json:"messages"`
		Temperature    float64         `json:"temperature"`
		ResponseFormat *responseFormat `json:"response_format,omitempty"`
	}
	chatMessage struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	responseFormat struct {
		Type       string     `json:"type"`
		JSONSchema jsonSchema `json:"json_schema"`
	}
	jsonSchema struct {
		Name   string          `json:"name"`
		Strict bool            `json:"strict"`
		Schema json.RawMessage `json:"schema"`
	}
	chatResponse struct {
		Choices []struct {
			Message struct {
				Content *string `json:"content"`
				Refusal *string `json:"refusal"`
			} `json:"message"`
		} `json:"choices"`
	}
	errorResponse struct {
		Error struct {
			Code json.RawMessage `json:"code"` // string or number depending on the provider
			Type string          `json:"type"`
		} `json:"error"`
	}
)

// Complete sends system and user as a chat and returns the model's answer.
//
// Without a schema (nil, empty or JSON null) it returns the content with
// surrounding white space trimmed. With a schema it returns the answer as
// compact JSON valid against the schema. It retries as described in the
// package documentation and stops early when ctx is done, returning an error
// that wraps ctx.Err().
func (c *Client) Complete(ctx context.Context, system, user string, schema json.RawMessage) (string, error) {
	var sch *jsonschema.Schema
	var compact []byte
	if hasSchema(schema) {
		var err error
		if compact, sch, err = c.compile(schema); err != nil {
			return "", err
		}
	}
	req := chatRequest{
		Model: c.model,
		Messages: []chatMessage{
			{Role: "system", Content: system},
			{Role: "user", Content: user},
		},
	}
	if sch != nil {
		req.ResponseFormat = &responseFormat{
			Type:       "json_schema",
			JSONSchema: jsonSchema{Name: "result", Strict: true, Schema: compact},
		}
	}
	body, err := json.Marshal(req)
	if err != nil { // cannot happen: every field is marshalable
		return "", fmt.Errorf("llm: encoding request: %w", err)
	}

	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return "", canceled(err, attempt-1)
		}
		answer, f := c.attempt(ctx, body, sch)
		if f == nil {
			return answer, nil
		}
		if err := ctx.Err(); err != nil {
			return "", canceled(err, attempt)
		}
		if !f.retry || attempt >= c.maxAttempts {
			return "", f.final(attempt, c.apiKey)
		}
		wait := c.backoff(attempt)
		if f.retryAfter > wait {
			wait = f.retryAfter
		}
		if err := c.sleep(ctx, wait); err != nil {
			return "", canceled(err, attempt)
		}
	}
}

func canceled(err error, n int) error {
	return &failure{kind: err, desc: "llm: " + err.Error(), attempts: n}
}

// attempt makes one request. It returns the answer, or why it failed and
// whether to retry.
func (c *Client) attempt(ctx context.Context, body []byte, sch *jsonschema.Schema) (string, *failure) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil { // cannot happen: the endpoint was checked by New
		return "", &failure{kind: ErrUnavailable, desc: "llm: cannot build request"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "convoseal-llm")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return "", c.transportFailure(actx, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", c.statusFailure(resp)
	}
	if resp.ContentLength > c.maxBytes {
		return "", c.tooLarge()
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return "", c.transportFailure(actx, err)
	}
	if int64(len(raw)) > c.maxBytes {
		return "", c.tooLarge()
	}
	return parseAnswer(raw, sch)
}

func (c *Client) tooLarge() *failure {
	return &failure{kind: ErrInvalidAnswer, desc: fmt.Sprintf("llm: response larger than %d bytes", c.maxBytes)}
}

// transportFailure classifies an error from sending the request or reading
// the response: a timeout or the endpoint being unreachable, both retried.
func (c *Client) transportFailure(actx context.Context, err error) *failure {
	timedOut, err := httpretry.Transport(actx, err)
	if timedOut {
		return &failure{kind: ErrTimeout, desc: fmt.Sprintf("llm: no answer within %s", c.timeout), retry: true}
	}
	return &failure{kind: ErrUnavailable, desc: "llm: cannot reach the endpoint", cause: err, retry: true}
}

// statusFailure describes a non-2xx response; 429 and 5xx are retried.
func (c *Client) statusFailure(resp *http.Response) *failure {
	// Redirects within the endpoint's origin were followed; one returned
	// here (with a Location) was refused by httpretry.SameOrigin.
	s := &ErrHTTPStatus{Code: resp.StatusCode, redirect: resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != ""}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var er errorResponse
	if json.Unmarshal(raw, &er) == nil {
		code := strings.Trim(string(er.Error.Code), `"`)
		if !safeToken(code) {
			code = er.Error.Type
		}
		// A backend echoing the request must not get the key into the error.
		if safeToken(code) && !c.resemblesKey(code) && code != strconv.Itoa(resp.StatusCode) {
			s.Reason = code
		}
	}
	f := &failure{status: s, retry: retryableStatus(resp.StatusCode)}
	if f.retry {
		f.retryAfter = httpretry.RetryAfter(resp.Header.Get("Retry-After"), time.Now(), MaxRetryAfter)
	}
	return f
}

// resemblesKey reports whether s contains the API key or a long part of it.
func (c *Client) resemblesKey(s string) bool {
	return c.apiKey != "" && (strings.Contains(s, c.apiKey) || (len(s) >= 8 && strings.Contains(c.apiKey, s)))
}

// safeToken reports whether s looks like a machine-readable error code
// ("invalid_api_key", "rate_limit_exceeded", "404") and not free text that
// could echo the request.
func safeToken(s string) bool {
	if s == "" || len(s) > 64 || s == "null" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}

// parseAnswer extracts and checks choices[0].message.content.
func parseAnswer(raw []byte, sch *jsonschema.Schema) (string, *failure) {
	invalid := func(desc string) (string, *failure) {
		return "", &failure{kind: ErrInvalidAnswer, desc: "llm: " + desc, retry: true}
	}
	var resp chatResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return invalid("unparseable response body")
	}
	if len(resp.Choices) == 0 {
		return invalid("response has no choices")
	}
	msg := resp.Choices[0].Message
	if msg.Content == nil || strings.TrimSpace(*msg.Content) == "" {
		if msg.Refusal != nil && *msg.Refusal != "" {
			return invalid("model refused to answer")
		}
		return invalid("model answered empty content")
	}
	content := strings.TrimSpace(*msg.Content)
	if sch == nil {
		return content, nil
	}
	js, ok := extractJSON(content)
	if !ok {
		return invalid("model answered invalid JSON")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return invalid("model answered invalid JSON")
	}
	if err := sch.Validate(inst); err != nil {
		return invalid("model answer does not match the JSON schema" + mismatchAt(err))
	}
	return string(js), nil
}

// extractJSON returns content as compact JSON. Content that is not JSON
// itself may hold it in a Markdown code fence (```json … ```), with or
// without text around it.
func extractJSON(content string) ([]byte, bool) {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(content)) == nil {
		return buf.Bytes(), true
	}
	_, rest, ok := strings.Cut(content, "```")
	if !ok {
		return nil, false
	}
	// Skip the info string ("json", "JSON", …) up to the end of its line.
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 && !strings.ContainsAny(rest[:nl], "{[") {
		rest = rest[nl+1:]
	} else {
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "json"), "JSON")
	}
	inner, _, _ := strings.Cut(rest, "```")
	buf.Reset()
	if json.Compact(&buf, []byte(strings.TrimSpace(inner))) != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

// mismatchAt names the schema keyword a validation error is about, e.g.
// " (at #/properties/label/enum)". Only schema locations are used: the
// instance location and values would quote the answer.
func mismatchAt(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return ""
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	loc := "#"
	if _, frag, ok := strings.Cut(ve.SchemaURL, "#"); ok {
		loc += frag
	}
	if ve.ErrorKind != nil {
		for _, k := range ve.ErrorKind.KeywordPath() {
			loc += "/" + k
		}
	}
	return " (at " + loc + ")"
}
