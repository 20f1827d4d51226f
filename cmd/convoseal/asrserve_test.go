package main

import (
	"context"
	"errors"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/asr/openai"
)

func TestASRServeHelp(t *testing.T) {
	r := runCLI(t, nil, "asr-serve", "--help")
	r.must(t, 0)
	for _, s := range []string{"/v1/audio/transcriptions", "--addr", "127.0.0.1:9000", "$CONVOSEAL_ASR_SERVE_ADDR", "--workers", "--max-body", "--api-key-env", "429"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("asr-serve --help lacks %q:\n%s", s, r.stdout)
		}
	}
}

// Without the embedded recognizer (here: its model), asr-serve refuses to
// start and says how to get it.
func TestASRServeWithoutRecognizer(t *testing.T) {
	r := runCLI(t, []string{"CONVOSEAL_ASR_SERVE_MODEL_DIR=" + t.TempDir()}, "asr-serve", "--addr", "127.0.0.1:0")
	r.must(t, exitFailure, "speech recognition is not available", "apt-get install libpocketsphinx3 pocketsphinx-en-us")
	r = runCLI(t, []string{"CONVOSEAL_ASR_SERVE_WORKERS=0"}, "asr-serve")
	r.must(t, exitUsage, "--workers")
}

// stubRecognizer hears "hello" over the whole audio.
type stubRecognizer struct{}

func (stubRecognizer) Languages() []string { return []string{"en-US"} }

func (stubRecognizer) Recognize(_ context.Context, a asr.Audio, lang string) (*asr.Result, error) {
	d := a.Duration()
	return &asr.Result{Language: lang, Duration: d, Segments: []asr.Segment{{Start: 0, End: d, Text: "hello", Confidence: 0.75,
		Words: []asr.Word{{Word: "hello", Start: 0, End: d, Confidence: 0.5}}}}}, nil
}

// asr-serve wires the embedded recognizer, the worker count and the API key
// into the endpoint the HTTP client speaks to, and stops cleanly.
func TestASRServeServes(t *testing.T) {
	var gotWorkers int
	saved := newEmbeddedRecognizer
	newEmbeddedRecognizer = func(n int, _ string) (asr.Recognizer, error) { gotWorkers = n; return stubRecognizer{}, nil }
	defer func() { newEmbeddedRecognizer = saved }()
	t.Setenv("CONVOSEAL_ASR_API_KEY", "k-asr")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	root := newRootCommand()
	root.SetArgs([]string{"asr-serve", "--addr", addr, "--workers", "3", "--log-level", "error"})
	go func() { done <- root.ExecuteContext(ctx) }()

	c, err := openai.New(openai.Config{URL: "http://" + addr + "/v1", APIKey: "k-asr", Languages: []string{"en"}, Backoff: func(int) time.Duration { return 100 * time.Millisecond }, Attempts: 20})
	if err != nil {
		t.Fatal(err)
	}
	a := asr.Audio{SampleRate: 8000, Samples: make([]int16, 8000)}
	res, err := c.Recognize(ctx, a, "en-US")
	if err != nil {
		t.Fatal(err)
	}
	if w := res.Segments[0].Words; len(w) != 1 || w[0].Word != "hello" || w[0].End != 1 || w[0].Confidence != 0.5 || math.Abs(res.Segments[0].Confidence-0.75) > 1e-4 {
		t.Fatalf("result %+v", res.Segments)
	}
	if gotWorkers != 3 {
		t.Fatalf("recognizer made for %d workers, want 3", gotWorkers)
	}
	// Without the key: 401, not retried.
	bad, _ := openai.New(openai.Config{URL: "http://" + addr + "/v1", APIKey: "wrong"})
	var se *openai.StatusError
	if _, err := bad.Recognize(ctx, a, "en-US"); !errors.As(err, &se) || se.Code != 401 {
		t.Fatalf("wrong key: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("asr-serve returned %v on shutdown", err)
	}
}
