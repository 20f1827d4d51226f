package llmtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/llm"
	"github.com/convoseal/convoseal/internal/llm/llmtest"
)

func client(t *testing.T, srv *llmtest.Server, timeout time.Duration) *llm.Client {
	t.Helper()
	c, err := llm.New(llm.Config{
		BaseURL: srv.URL, Model: "fake", APIKey: "k", Timeout: timeout,
		Backoff: func(int) time.Duration { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestScriptAndRequests(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`)
	srv := llmtest.NewServer(t, llmtest.Script(
		llmtest.Response{Failure: llmtest.Fail500},
		llmtest.Response{Failure: llmtest.FailBadJSON},
		llmtest.Response{Content: `{"ok":true}`},
	))
	got, err := client(t, srv, time.Second).Complete(context.Background(), "sys", "usr", schema)
	if err != nil || got != `{"ok":true}` {
		t.Fatalf("Complete = %q, %v", got, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, r := range reqs {
		if r.N != i+1 || r.Model != "fake" || r.System != "sys" || r.User != "usr" || r.Authorization != "Bearer k" {
			t.Errorf("request %d = %+v", i, r)
		}
		if string(r.Schema) != string(schema) {
			t.Errorf("schema = %s", r.Schema)
		}
	}
}

func TestFailureModes(t *testing.T) {
	for mode, want := range map[string]error{
		llmtest.FailTimeout:   llm.ErrTimeout,
		llmtest.Fail500:       llm.ErrUnavailable,
		llmtest.Fail429:       llm.ErrUnavailable,
		llmtest.FailBadJSON:   llm.ErrInvalidAnswer,
		llmtest.FailBadBody:   llm.ErrInvalidAnswer,
		llmtest.FailEmpty:     llm.ErrInvalidAnswer,
		llmtest.FailNoChoices: llm.ErrInvalidAnswer,
	} {
		srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response { return llmtest.Response{Failure: mode} })
		_, err := client(t, srv, 50*time.Millisecond).Complete(context.Background(), "s", "u", json.RawMessage(`{"type":"object"}`))
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", mode, err, want)
		}
		if n := len(srv.Requests()); n != llm.DefaultMaxAttempts {
			t.Errorf("%s: %d requests", mode, n)
		}
	}

	srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response { return llmtest.Response{Failure: llmtest.Fail401} })
	_, err := client(t, srv, time.Second).Complete(context.Background(), "s", "u", nil)
	var se *llm.ErrHTTPStatus
	if !errors.As(err, &se) || se.Code != http.StatusUnauthorized || len(srv.Requests()) != 1 {
		t.Errorf("401: err = %v", err)
	}
}

func TestOverrides(t *testing.T) {
	srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response {
		return llmtest.Response{
			Status: http.StatusServiceUnavailable,
			Header: http.Header{"Retry-After": {"0"}},
			Body:   []byte(`{"error":{"code":"overloaded"}}`),
			Delay:  time.Millisecond,
		}
	})
	_, err := client(t, srv, time.Second).Complete(context.Background(), "s", "u", nil)
	if err == nil || err.Error() != "llm: HTTP 503 Service Unavailable (overloaded) after 3 attempts" {
		t.Errorf("err = %v", err)
	}
}

func TestWrongPath(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Answer("x"))
	resp, err := http.Get(srv.URL + "/chat/completions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET status = %d", resp.StatusCode)
	}
	if !strings.HasSuffix(srv.URL, "/v1") {
		t.Errorf("URL = %q", srv.URL)
	}
	if len(srv.Requests()) != 0 {
		t.Error("GET recorded as a request")
	}
}

func TestCloseReleasesHangingRequests(t *testing.T) {
	srv := llmtest.NewServer(t, func(llmtest.Request) llmtest.Response { return llmtest.Response{Failure: llmtest.FailTimeout} })
	c := client(t, srv, time.Minute)
	done := make(chan error, 1)
	go func() {
		_, err := c.Complete(context.Background(), "s", "u", nil)
		done <- err
	}()
	for len(srv.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	srv.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("no error from a closed server")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hanging request")
	}
}
