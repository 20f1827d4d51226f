package main

import (
	"strings"
	"testing"
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

// Without the embedded recognizer, asr-serve refuses to start and says how
// to get it.
func TestASRServeWithoutRecognizer(t *testing.T) {
	r := runCLI(t, nil, "asr-serve", "--addr", "127.0.0.1:0")
	r.must(t, exitFailure, "speech recognition is not available", "apt-get install libpocketsphinx3 pocketsphinx-en-us")
	r = runCLI(t, []string{"CONVOSEAL_ASR_SERVE_WORKERS=0"}, "asr-serve")
	r.must(t, exitUsage, "--workers")
}
