package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/convoseal/convoseal/internal/asr/openai"
)

func TestServeASRHelp(t *testing.T) {
	r := runCLI(t, nil, "serve", "--help")
	r.must(t, 0)
	for _, s := range []string{"--asr ", "embedded", "$CONVOSEAL_ASR)", "--asr-url", "$CONVOSEAL_ASR_URL", "$CONVOSEAL_ASR_API_KEY",
		"--asr-model", "$CONVOSEAL_ASR_MODEL)", "--asr-decoders", "$CONVOSEAL_ASR_DECODERS", "--asr-languages", "$CONVOSEAL_ASR_LANGUAGES",
		"apt-get install libpocketsphinx3 pocketsphinx-en-us"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("serve --help lacks %q", s)
		}
	}
}

// --asr picks the recognizer; an embedded one whose model is missing leaves
// serve running without one, after one warning with the install hint.
func TestNewRecognizer(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	r, err := newRecognizer(asrOptions{mode: "embedded", modelDir: t.TempDir()}, 4, log)
	if err != nil {
		t.Fatal(err)
	}
	if r.rec != nil {
		t.Errorf("missing model: recognizer %T, want none", r.rec)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "apt-get install libpocketsphinx3 pocketsphinx-en-us") {
		t.Errorf("want one warning with the install hint, got:\n%s", logs.String())
	}

	r, err = newRecognizer(asrOptions{mode: "http", url: "http://127.0.0.1:9/v1", decoders: 8}, 4, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.rec.(*openai.Client); !ok || r.channels != 2 {
		t.Errorf("http: %T with %d channels at once, want *openai.Client, 2 (8 requests for 4 workers)", r.rec, r.channels)
	}
	if r, _ := newRecognizer(asrOptions{mode: "http", url: "http://127.0.0.1:9/v1"}, 4, log); r.channels != 1 {
		t.Errorf("default decoders: %d channels at once, want 1", r.channels)
	}
	if r, _ := newRecognizer(asrOptions{mode: "off"}, 4, log); r.rec != nil {
		t.Errorf("off: %T", r.rec)
	}
	for _, o := range []asrOptions{{mode: "http"}, {mode: "whisper"}, {mode: "embedded", url: "http://x/v1"}, {mode: "http", url: "ftp://x"}, {mode: "off", decoders: -1}} {
		if _, err := newRecognizer(o, 4, log); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
