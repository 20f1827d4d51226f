// Package llmtest provides a fake OpenAI-compatible chat-completions endpoint
// for tests of code that uses package llm (or any operators.LLM backed by it).
//
// The fake serves POST {URL}/chat/completions. For each request it calls the
// test's handler with the decoded Request and writes the Response the handler
// returns, by default a well-formed chat completion whose
// choices[0].message.content is Response.Content:
//
//	srv := llmtest.NewServer(t, llmtest.Script(
//		llmtest.Response{Failure: llmtest.Fail500},       // first call: HTTP 500
//		llmtest.Response{Content: `{"label":"billing"}`}, // then an answer
//	))
//	c, _ := llm.New(llm.Config{BaseURL: srv.URL, Model: "m",
//		Backoff: func(int) time.Duration { return 0 }})
//	out, err := c.Complete(ctx, "system", "user", schema)
//	reqs := srv.Requests() // what the client sent, e.g. reqs[0].Schema
//
// Failure modes (Response.Failure) simulate a misbehaving backend: FailTimeout,
// Fail500, Fail429, Fail401, FailBadJSON, FailBadBody, FailEmpty,
// FailNoChoices. The server is closed by t.Cleanup.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Failure modes for Response.Failure.
const (
	// FailTimeout hangs without answering until the client gives up (its
	// request is canceled) or the server is closed.
	FailTimeout = "timeout"
	// Fail500 answers HTTP 500 with an OpenAI-style error body.
	Fail500 = "500"
	// Fail429 answers HTTP 429 (rate limited). Set Response.Header
	// "Retry-After" to ask the client to wait.
	Fail429 = "429"
	// Fail401 answers HTTP 401 (invalid API key).
	Fail401 = "401"
	// FailBadJSON answers 200 with a chat completion whose content is not
	// JSON, as a model ignoring the requested schema would.
	FailBadJSON = "badjson"
	// FailBadBody answers 200 with a body that is not a chat completion.
	FailBadBody = "badbody"
	// FailEmpty answers 200 with empty content.
	FailEmpty = "empty"
	// FailNoChoices answers 200 with an empty choices array.
	FailNoChoices = "nochoices"
)

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is a request the server received, decoded.
type Request struct {
	N             int       // 1-based index among the server's requests
	Model         string    // "model"
	Messages      []Message // "messages"
	System, User  string    // content of the first system and user messages
	Temperature   *float64  // "temperature", nil if absent
	Authorization string    // the Authorization header, e.g. "Bearer sk-…"

	// ResponseFormat is the raw "response_format", nil if absent; Schema
	// is its json_schema.schema, nil if absent.
	ResponseFormat json.RawMessage
	Schema         json.RawMessage

	Header http.Header // all request headers
	Body   []byte      // the raw request body
}

// Response is what the server answers to one request. The zero value is a
// 200 chat completion with empty content.
type Response struct {
	// Content is choices[0].message.content.
	Content string
	// Failure, if set, is one of the Fail* modes and overrides Content.
	Failure string
	// Status overrides the HTTP status (default 200, or the failure's).
	Status int
	// Body, if not nil, is written as is instead of a chat completion.
	Body []byte
	// Header holds extra response headers, e.g. "Retry-After".
	Header http.Header
	// Delay is waited before answering (ends early if the client gives up).
	Delay time.Duration
}

// Server is a fake chat-completions endpoint.
type Server struct {
	// URL is the API base to use as llm.Config.BaseURL; it ends in "/v1".
	URL string

	t       testing.TB
	srv     *httptest.Server
	handler func(Request) Response
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	reqs []Request
}

// NewServer starts a fake endpoint that answers with handler, which may be
// called concurrently. It is closed when the test ends.
func NewServer(t testing.TB, handler func(req Request) Response) *Server {
	t.Helper()
	s := &Server{t: t, handler: handler, done: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, releasing hanging requests first. It is called by
// t.Cleanup and may be called earlier.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Script returns a handler that answers the n-th request with responses[n-1]
// and repeats the last response once the script is exhausted.
func Script(responses ...Response) func(Request) Response {
	if len(responses) == 0 {
		panic("llmtest.Script: no responses")
	}
	return func(req Request) Response {
		return responses[min(req.N, len(responses))-1]
	}
}

// Answer returns a handler that always answers content.
func Answer(content string) func(Request) Response {
	return func(Request) Response { return Response{Content: content} }
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error","code":"not_found"}}`, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var wire struct {
		Model          string          `json:"model"`
		Messages       []Message       `json:"messages"`
		Temperature    *float64        `json:"temperature"`
		ResponseFormat json.RawMessage `json:"response_format"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		s.t.Errorf("llmtest: request body is not JSON: %v", err)
		writeJSON(w, http.StatusBadRequest, errorBody("invalid_request_error", "invalid_json"), nil)
		return
	}
	req := Request{
		Model:          wire.Model,
		Messages:       wire.Messages,
		Temperature:    wire.Temperature,
		Authorization:  r.Header.Get("Authorization"),
		ResponseFormat: wire.ResponseFormat,
		Header:         r.Header.Clone(),
		Body:           body,
	}
	for _, m := range wire.Messages {
		switch {
		case m.Role == "system" && req.System == "":
			req.System = m.Content
		case m.Role == "user" && req.User == "":
			req.User = m.Content
		}
	}
	if len(wire.ResponseFormat) > 0 {
		var rf struct {
			JSONSchema struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		}
		if json.Unmarshal(wire.ResponseFormat, &rf) == nil && len(rf.JSONSchema.Schema) > 0 {
			req.Schema = rf.JSONSchema.Schema
		}
	}
	s.mu.Lock()
	req.N = len(s.reqs) + 1
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()

	resp := s.handler(req)

	if resp.Delay > 0 {
		t := time.NewTimer(resp.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}

	status, content := http.StatusOK, resp.Content
	var out []byte
	switch resp.Failure {
	case "":
	case FailTimeout:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	case Fail500:
		status, out = http.StatusInternalServerError, errorBody("server_error", "internal_error")
	case Fail429:
		status, out = http.StatusTooManyRequests, errorBody("requests", "rate_limit_exceeded")
	case Fail401:
		status, out = http.StatusUnauthorized, errorBody("invalid_request_error", "invalid_api_key")
	case FailBadJSON:
		content = "Sure! The label is {billing"
	case FailBadBody:
		out = []byte("<html>upstream error</html>")
	case FailEmpty:
		content = ""
	case FailNoChoices:
		out = []byte(`{"id":"chatcmpl-test","object":"chat.completion","choices":[]}`)
	default:
		s.t.Errorf("llmtest: unknown failure mode %q", resp.Failure)
		status, out = http.StatusInternalServerError, errorBody("server_error", "unknown_failure_mode")
	}
	if resp.Status != 0 {
		status = resp.Status
	}
	if resp.Body != nil {
		out = resp.Body
	}
	if out == nil {
		out = completion(req.Model, content)
	}
	writeJSON(w, status, out, resp.Header)
}

// completion renders a chat.completion object answering content.
func completion(model, content string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id":      "chatcmpl-test",
		"object":  "chat.completion",
		"created": 1700000000,
		"model":   model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content},
			"finish_reason": "stop",
		}},
		"usage": map[string]int{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
	})
	return b
}

func errorBody(typ, code string) []byte {
	return fmt.Appendf(nil, `{"error":{"message":"fake %s","type":%q,"param":null,"code":%q}}`, code, typ, code)
}

func writeJSON(w http.ResponseWriter, status int, body []byte, extra http.Header) {
	for k, vs := range extra {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
