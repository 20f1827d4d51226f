package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/asr/openai"
	"github.com/convoseal/convoseal/internal/asr/sphinx"
	"github.com/spf13/pflag"
)

// asrAPIKeyEnv holds the HTTP recognizer's API key (never a flag: flags show
// in process listings).
const asrAPIKeyEnv = "CONVOSEAL_ASR_API_KEY"

func init() {
	// asr-serve serves the embedded recognizer.
	newEmbeddedRecognizer = func(decoders int, modelDir string) (asr.Recognizer, error) {
		return sphinx.New(sphinx.Options{Decoders: decoders, ModelDir: modelDir})
	}
}

// asrOptions are serve's speech-recognition flags.
type asrOptions struct {
	mode      string
	url       string
	model     string
	decoders  int
	languages []string
	modelDir  string
}

func addASRFlags(f *pflag.FlagSet, o *asrOptions) {
	f.StringVar(&o.mode, "asr", "embedded", "speech recognizer for audio media: embedded (pocketsphinx, US English; apt-get install libpocketsphinx3 pocketsphinx-en-us), http (an OpenAI-compatible endpoint at --asr-url) or off ($CONVOSEAL_ASR)")
	f.StringVar(&o.url, "asr-url", "", "OpenAI-compatible speech-to-text base URL for --asr http, e.g. http://127.0.0.1:9000/v1 (convoseal asr-serve, whisper.cpp, speaches, vLLM); the API key is read from $CONVOSEAL_ASR_API_KEY ($CONVOSEAL_ASR_URL)")
	f.StringVar(&o.model, "asr-model", "", "model name sent to --asr-url (default "+openai.DefaultModel+") ($CONVOSEAL_ASR_MODEL)")
	f.IntVar(&o.decoders, "asr-decoders", 0, "recognitions run at once: embedded decoders (≈110 MB each, loaded on first use) or requests in flight to --asr-url (default --workers) ($CONVOSEAL_ASR_DECODERS)")
	f.StringSliceVar(&o.languages, "asr-languages", nil, "languages the --asr-url model covers, BCP-47 or ISO-639-1 (default: Whisper's) ($CONVOSEAL_ASR_LANGUAGES)")
	f.StringVar(&o.modelDir, "asr-model-dir", sphinx.DefaultModelDir, "embedded recognizer's model directory (pocketsphinx-en-us) ($CONVOSEAL_ASR_MODEL_DIR)")
}

// recognizer is serve's speech recognizer and how many channels of one
// recording it may recognise at once.
type recognizer struct {
	rec      asr.Recognizer // nil: audio transcripts fail (off or unavailable)
	channels int
	close    func()
}

// newRecognizer makes the recognizer --asr selects for a process with
// workers transcript workers. An embedded recognizer whose library or model
// is missing is not an error: serve runs for text documents, logs one
// warning with the install hint, and audio transcripts fail.
func newRecognizer(o asrOptions, workers int, log *slog.Logger) (*recognizer, error) {
	if o.decoders < 0 || o.decoders > 256 {
		return nil, usageErrorf("--asr-decoders must be from 0 (default: --workers) to 256")
	}
	decoders := o.decoders
	if decoders == 0 {
		decoders = max(workers, 1)
	}
	// Both channels of a call at once only when every worker can have two.
	channels := 1
	if decoders >= 2*max(workers, 1) {
		channels = 2
	}
	r := &recognizer{channels: channels, close: func() {}}
	switch o.mode {
	case "off":
		log.Info("audio transcription is off (--asr off): audio transcripts fail")
		return r, nil
	case "http":
		if o.url == "" {
			return nil, usageErrorf("--asr http needs --asr-url")
		}
		c, err := openai.New(openai.Config{URL: o.url, Model: o.model, APIKey: os.Getenv(asrAPIKeyEnv),
			MaxConcurrent: decoders, Languages: o.languages})
		if err != nil {
			return nil, usageErrorf("--asr-url: %v", err)
		}
		r.rec = c
		return r, nil
	case "embedded":
		if o.url != "" {
			return nil, usageErrorf("--asr-url needs --asr http")
		}
		opts := sphinx.Options{Decoders: decoders, ModelDir: o.modelDir}
		if err := sphinx.Check(opts); err != nil {
			log.Warn("AUDIO TRANSCRIPTION IS UNAVAILABLE: the embedded speech recognizer is not installed; text documents work, audio transcripts fail. Install it with: "+sphinx.InstallHint+" (or use --asr http)",
				"error", err.Error())
			return r, nil
		}
		lazy := &lazySphinx{opts: opts, log: log}
		r.rec, r.close = lazy, lazy.Close
		return r, nil
	}
	return nil, usageErrorf("--asr must be embedded, http or off")
}

// lazySphinx loads the embedded recognizer's model on first use, so that
// processes that never see audio (and the API role) neither pay its load
// time nor hold its memory.
type lazySphinx struct {
	opts sphinx.Options
	log  *slog.Logger

	mu  sync.Mutex
	rec *sphinx.Recognizer
	err error
}

func (l *lazySphinx) get() (*sphinx.Recognizer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rec == nil && l.err == nil {
		start := time.Now()
		l.rec, l.err = sphinx.New(l.opts)
		if l.err != nil {
			l.log.Error("loading the embedded speech recognizer: audio transcripts fail", "error", l.err.Error())
		} else {
			l.log.Info("embedded speech recognizer loaded", "load_time", time.Since(start).Round(time.Millisecond).String(),
				"decoders", l.opts.Decoders)
		}
	}
	return l.rec, l.err
}

// Languages implements asr.Recognizer without loading the model: the
// embedded model is US English.
func (l *lazySphinx) Languages() []string { return []string{"en-US"} }

// Recognize implements asr.Recognizer.
func (l *lazySphinx) Recognize(ctx context.Context, a asr.Audio, language string) (*asr.Result, error) {
	rec, err := l.get()
	if err != nil {
		return nil, fmt.Errorf("%w: the embedded recognizer could not be loaded", asr.ErrUnavailable)
	}
	return rec.Recognize(ctx, a, language)
}

// Close frees the model if it was loaded.
func (l *lazySphinx) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rec != nil {
		l.rec.Close()
	}
}
