package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/asr/asrserver"
	"github.com/convoseal/convoseal/internal/asr/sphinx"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// asrServeEnvPrefix names asr-serve's environment variables: its own, so
// that serve's $CONVOSEAL_ADDR and $CONVOSEAL_WORKERS on the same host do not
// configure it.
const asrServeEnvPrefix = "CONVOSEAL_ASR_SERVE_"

// newEmbeddedRecognizer makes the embedded speech recognizer with a decoder
// pool of the given size and the model in modelDir (asr.go sets it to
// pocketsphinx; tests replace it).
var newEmbeddedRecognizer = func(decoders int, modelDir string) (asr.Recognizer, error) {
	return nil, fmt.Errorf("%w: this build has no embedded recognizer (it needs pocketsphinx: apt-get install libpocketsphinx3 pocketsphinx-en-us)", asr.ErrUnavailable)
}

type asrServeOptions struct {
	addr            string
	workers         int
	maxBody         int64
	apiKeyEnv       string
	model           string
	timeout         time.Duration
	logLevel        string
	logFormat       string
	shutdownTimeout time.Duration
	modelDir        string
}

func newASRServeCommand() *cobra.Command {
	o := asrServeOptions{}
	cmd := &cobra.Command{
		Use:   "asr-serve",
		Short: "Serve the embedded speech recognizer over the OpenAI-compatible transcription API",
		Long: `asr-serve runs the embedded speech recognizer (pocketsphinx, US English) behind
an OpenAI-compatible endpoint, so recognition scales out as its own processes:

  POST /v1/audio/transcriptions   multipart form: file (WAV, 16-bit PCM, mono or
                                  stereo), language, response_format (json, text,
                                  verbose_json), timestamp_granularities[]
  GET  /v1/models                 the model served
  GET  /healthz                   liveness

Point serve at it with --asr-url http://<addr>/v1. Whisper servers (whisper.cpp,
speaches, vLLM) answer the same API and can take its place.

At most --workers recognitions run at once; further requests get 429 with
Retry-After, which the convoseal client retries. When the variable named by
--api-key-env is set, every /v1 request needs "Authorization: Bearer <value>".
Neither audio nor recognised text is logged or written to disk.

Every flag can also be set with an environment variable: --addr is
$CONVOSEAL_ASR_SERVE_ADDR, and so on.`,
		Example: `  convoseal asr-serve
  CONVOSEAL_ASR_API_KEY=… convoseal asr-serve --addr 0.0.0.0:9000 --workers 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnvPrefix(cmd.Flags(), asrServeEnvPrefix); err != nil {
				return withCode(exitUsage, err)
			}
			return asrServe(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:9000", "address to listen on ($CONVOSEAL_ASR_SERVE_ADDR)")
	f.IntVar(&o.workers, "workers", 2, "recognitions run at once, each with its own decoder; about 110 MB each ($CONVOSEAL_ASR_SERVE_WORKERS)")
	f.Int64Var(&o.maxBody, "max-body", asrserver.DefaultMaxBody, "largest request body in bytes; 16 kHz mono WAV is 115 MB an hour ($CONVOSEAL_ASR_SERVE_MAX_BODY)")
	f.StringVar(&o.apiKeyEnv, "api-key-env", "CONVOSEAL_ASR_API_KEY", "environment variable holding the bearer token requests need; unset or empty: no token ($CONVOSEAL_ASR_SERVE_API_KEY_ENV)")
	f.StringVar(&o.model, "model", "pocketsphinx-en-us", "model id listed at /v1/models; requests naming any model are served ($CONVOSEAL_ASR_SERVE_MODEL)")
	f.DurationVar(&o.timeout, "timeout", asrserver.DefaultTimeout, "limit for one recognition ($CONVOSEAL_ASR_SERVE_TIMEOUT)")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error ($CONVOSEAL_ASR_SERVE_LOG_LEVEL)")
	f.StringVar(&o.logFormat, "log-format", "json", "json or text ($CONVOSEAL_ASR_SERVE_LOG_FORMAT)")
	f.StringVar(&o.modelDir, "model-dir", sphinx.DefaultModelDir, "the recognizer's model directory (pocketsphinx-en-us) ($CONVOSEAL_ASR_SERVE_MODEL_DIR)")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight recognitions get to finish on SIGTERM ($CONVOSEAL_ASR_SERVE_SHUTDOWN_TIMEOUT)")
	return cmd
}

// bindEnvPrefix sets every flag not given on the command line from
// <prefix><NAME>.
func bindEnvPrefix(fs *pflag.FlagSet, prefix string) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || err != nil {
			return
		}
		env := prefix + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(fl.Name, v); e != nil {
				err = fmt.Errorf("$%s: %w", env, e)
			}
		}
	})
	return err
}

func asrServe(ctx context.Context, o asrServeOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	log, err := newLogger(o.logLevel, o.logFormat, os.Stderr)
	if err != nil {
		return err
	}
	if o.workers < 1 || o.workers > 256 {
		return usageErrorf("--workers must be from 1 to 256")
	}
	if o.maxBody < 1<<10 {
		return usageErrorf("--max-body must be at least 1024 bytes")
	}
	if o.timeout <= 0 {
		return usageErrorf("--timeout must be positive")
	}
	var apiKey string
	if o.apiKeyEnv != "" {
		apiKey = os.Getenv(o.apiKeyEnv)
	}
	rec, err := newEmbeddedRecognizer(o.workers, o.modelDir)
	if err != nil {
		return fmt.Errorf("asr-serve: %w", err)
	}
	if c, ok := rec.(interface{ Close() error }); ok {
		defer c.Close()
	}
	handler := asrserver.Handler(rec, asrserver.Options{MaxBody: o.maxBody, MaxConcurrent: o.workers, APIKey: apiKey,
		Model: o.model, Timeout: o.timeout, Logger: log})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		WriteTimeout: o.timeout + 5*time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.addr, err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("convoseal asr-serve listening", "addr", ln.Addr().String(), "workers", o.workers, "languages", rec.Languages(),
		"api_key", apiKey != "", "max_body", o.maxBody)
	select {
	case err := <-serveErr:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight recognitions")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
