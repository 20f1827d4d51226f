package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/auth"
	"github.com/convoseal/convoseal/internal/blob"
	s3blob "github.com/convoseal/convoseal/internal/blob/s3"
	"github.com/convoseal/convoseal/internal/httpapi"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/llm"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/metrics"
	"github.com/convoseal/convoseal/internal/operators"
	"github.com/convoseal/convoseal/internal/pipeline"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/internal/webhook"
	"github.com/convoseal/convoseal/seal"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type serveOptions struct {
	data              string
	addr              string
	publicURL         string
	allowPrivateMedia bool
	urlExpiry         time.Duration
	workers           int
	kekFile           string
	previousKEKs      []string
	logLevel          string
	logFormat         string
	shutdownTimeout   time.Duration
	llmURL            string
	llmModel          string
	llmTimeout        time.Duration
	allowPrivateHooks bool
	webhookBackoff    time.Duration
	database          string
	blobURL           string
	role              string
	jobTimeout        time.Duration
	pprof             bool
	metricsAddr       string
	bodyBudget        byteSize
	accountWorkers    int
	mediaTimeout      time.Duration
	asr               asrOptions
}

func newServeCommand() *cobra.Command {
	o := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the convoseal service (Twilio Conversational Intelligence v2 API)",
		Long: `serve runs the API and the transcript pipeline in one process, on embedded
defaults: metadata in SQLite (WAL) and sealed artifacts in a local blob
directory, both under --data.

On first start it creates an account: from $CONVOSEAL_ACCOUNT_SID and
$CONVOSEAL_AUTH_TOKEN when both are set, otherwise with fresh credentials that
are printed once and written to <data>/credentials (mode 0600). It also creates
the server key-encryption key (<data>/kek, 0600), which seals artifacts of
Services without a customer key, and the key that signs download locations
(<data>/url-signing.key, 0600).

The web console is at <public-url>/console (roles all and api): it signs in
with the Account SID and Auth Token and decrypts customer-key transcripts in
the browser; see docs/console.md.

Every flag can also be set with an environment variable: --public-url is
$CONVOSEAL_PUBLIC_URL, and so on.

Point a Twilio SDK at it by rewriting the hosts intelligence.twilio.com and
accounts.twilio.com to --public-url; use a host name such as localhost, not a
dotted IP, since twilio-go reshapes dotted hosts.`,
		Example: `  convoseal serve
  convoseal serve --data /var/lib/convoseal --addr 0.0.0.0:8080 --public-url https://ci.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd.Flags()); err != nil {
				return withCode(exitUsage, err)
			}
			return serve(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "./convoseal-data", "directory for the embedded database, local blobs and keys")
	f.StringVar(&o.database, "database", "", "PostgreSQL URL (postgres://…) instead of the embedded SQLite database")
	f.StringVar(&o.blobURL, "blob", "", "S3 location (s3://bucket/prefix?endpoint=…&region=…&path_style=true; credentials from the usual AWS variables) instead of <data>/blobs")
	f.DurationVar(&o.jobTimeout, "job-timeout", 5*time.Minute, "limit for processing one transcript; a job whose worker died is retried after twice this")
	f.BoolVar(&o.pprof, "debug-pprof", false, "serve Go profiles at /debug/pprof/ (unauthenticated: for benchmarks on loopback only)")
	f.StringVar(&o.role, "role", "all", "api (HTTP API only), worker (pipeline only; serves /healthz and /readyz) or all")
	f.StringVar(&o.metricsAddr, "metrics-addr", defaultMetricsAddr, "address of the Prometheus /metrics listener, apart from the API (empty: none); each process on a host needs its own")
	o.bodyBudget = httpapi.DefaultBodyBytesInFlight
	f.Var(&o.bodyBudget, "max-body-bytes-in-flight", "bytes of request bodies handled at once (e.g. 256MiB); more waits up to 2s, then gets 429 with Retry-After")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.publicURL, "public-url", "", "base URL clients reach the service at (default http://localhost:<port of --addr>)")
	f.BoolVar(&o.allowPrivateMedia, "allow-private-media", false, "allow media URLs on loopback, private and link-local addresses (testing only)")
	f.DurationVar(&o.urlExpiry, "url-expiry", 15*time.Minute, "lifetime of signed download locations")
	f.IntVar(&o.workers, "workers", 4, "transcripts processed concurrently")
	f.IntVar(&o.accountWorkers, "account-workers", 0, "transcripts of one account this process works at once as its share (default max(1, workers/2)); beyond it an account borrows idle workers and gives them back as soon as another account's transcript waits")
	f.DurationVar(&o.mediaTimeout, "media-timeout", media.DefaultTimeout, "limit for downloading one transcript's media; a transcript whose media does not arrive in time 3 times fails")
	f.StringVar(&o.kekFile, "kek-file", "", "server key-encryption key file (default <data>/kek, created if missing)")
	f.StringSliceVar(&o.previousKEKs, "previous-kek-files", nil, "older key-encryption keys, still used to open what they sealed (key rotation)")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "json", "json or text")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests and jobs get to finish on SIGTERM")
	f.StringVar(&o.llmURL, "llm-url", "", "OpenAI-compatible chat-completions base URL (e.g. http://localhost:8000/v1) for generative operators; the API key is read from $CONVOSEAL_LLM_API_KEY")
	f.StringVar(&o.llmModel, "llm-model", "", "model name for --llm-url")
	f.DurationVar(&o.llmTimeout, "llm-timeout", 60*time.Second, "limit for one language-model request")
	f.BoolVar(&o.allowPrivateHooks, "allow-private-webhooks", false, "allow webhook URLs on loopback, private and link-local addresses (testing only)")
	f.DurationVar(&o.webhookBackoff, "webhook-retry", time.Second, "first retry delay of a failed webhook delivery (doubles each attempt, 6 attempts)")
	addASRFlags(f, &o.asr)
	nameEnvInHelp(f, "CONVOSEAL_")
	return cmd
}

// bindEnv sets every flag not given on the command line from CONVOSEAL_<NAME>.
func bindEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || err != nil {
			return
		}
		env := "CONVOSEAL_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(fl.Name, v); e != nil {
				err = fmt.Errorf("$%s: %w", env, e)
			}
		}
	})
	return err
}

func newLogger(level, format string, w *os.File) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level must be debug, info, warn or error")
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usageErrorf("--log-format must be json or text")
}

func serve(ctx context.Context, o serveOptions, console interface{ Write([]byte) (int, error) }) error {
	if ctx == nil {
		ctx = context.Background()
	}
	log, err := newLogger(o.logLevel, o.logFormat, os.Stderr)
	if err != nil {
		return err
	}
	if o.workers < 0 || o.workers > 256 {
		return usageErrorf("--workers must be from 0 to 256")
	}
	if o.bodyBudget < 64<<10 {
		return usageErrorf("--max-body-bytes-in-flight must be at least 64KiB")
	}
	if o.urlExpiry < time.Second || o.urlExpiry > 7*24*time.Hour {
		return usageErrorf("--url-expiry must be between 1s and 168h")
	}
	publicURL := strings.TrimRight(o.publicURL, "/")
	if publicURL == "" {
		publicURL = defaultPublicURL(o.addr)
	}
	if !strings.HasPrefix(publicURL, "http://") && !strings.HasPrefix(publicURL, "https://") {
		return usageErrorf("--public-url must start with http:// or https://")
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	switch o.role {
	case "all", "api", "worker":
	default:
		return usageErrorf("--role must be api, worker or all")
	}
	if o.role != "all" && o.database == "" {
		return usageErrorf("--role %s needs a shared database: give --database postgres://… (the embedded SQLite database serves one process)", o.role)
	}
	db, err := openStore(ctx, o.database, o.data)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, op := range operators.Prebuilt() {
		if err := db.UpsertPrebuiltOperator(ctx, op); err != nil {
			return fmt.Errorf("installing pre-built operators: %w", err)
		}
	}

	kek, err := keyring.LoadOrCreateKEK(kekPath(o.kekFile, o.data))
	if err != nil {
		return err
	}
	var previous []*seal.KEK
	for _, path := range o.previousKEKs {
		old, err := keyring.LoadKEK(path)
		if err != nil {
			return err
		}
		previous = append(previous, old)
	}
	keys := keyring.New(kek, previous, db)
	if err := bootstrapAccount(ctx, db, kek, o.data, console); err != nil {
		return err
	}

	blobs, blobHandler, closeBlobs, err := openBlobs(ctx, o, publicURL)
	if err != nil {
		return err
	}
	defer closeBlobs()

	if o.accountWorkers < 0 || o.accountWorkers > 256 {
		return usageErrorf("--account-workers must be from 0 (default) to 256")
	}
	if o.mediaTimeout < 100*time.Millisecond || o.mediaTimeout > time.Hour {
		return usageErrorf("--media-timeout must be between 100ms and 1h")
	}
	fetcher := &media.Fetcher{AllowPrivate: o.allowPrivateMedia, Timeout: o.mediaTimeout}
	m := metrics.New()
	p := &pipeline.Pipeline{DB: db, Blobs: blobs, Keys: keys, Fetcher: fetcher, Log: log, Metrics: m}
	if o.llmURL != "" {
		if o.llmModel == "" {
			return usageErrorf("--llm-model is required with --llm-url")
		}
		model, err := llm.New(llm.Config{BaseURL: o.llmURL, Model: o.llmModel, APIKey: os.Getenv("CONVOSEAL_LLM_API_KEY"), Timeout: o.llmTimeout})
		if err != nil {
			return usageErrorf("--llm-url: %v", err)
		}
		p.Operators.LLM = model
	}
	hooks := &webhook.Deliverer{AllowPrivate: o.allowPrivateHooks, Log: log,
		OnAttempt: func(outcome string) { m.WebhookDeliveries.WithLabelValues(outcome).Inc() }}
	workers := o.workers
	if o.role == "api" {
		workers = 0 // inserts jobs, never works them
	}
	if workers > 0 {
		r, err := newRecognizer(o.asr, workers, log)
		if err != nil {
			return err
		}
		defer r.close()
		p.ASR, p.ASRChannels = r.rec, r.channels
	}
	qcfg := pipeline.QueueConfig{Workers: workers, Solo: o.database == "", Webhooks: hooks, WebhookBackoff: o.webhookBackoff, JobTimeout: o.jobTimeout, AccountWorkers: o.accountWorkers}
	var queue *pipeline.Queue
	if o.database != "" {
		queue, err = pipeline.NewPostgresQueue(ctx, db.Write, p, qcfg, log)
	} else {
		queue, err = pipeline.NewSQLiteQueue(ctx, db.Write, p, qcfg, log)
	}
	if err != nil {
		return err
	}
	p.Notify = queue.NotifyTx
	m.RegisterJobs(queue.JobCounts)
	if on, err := db.DataLoggingServices(ctx); err != nil {
		return err
	} else if len(on) > 0 {
		log.Warn("DATA LOGGING IS ON: these Services keep a copy of transcripts and results sealed with the server key, readable by this server, under blobs/datalogging/",
			"services", on)
	}
	if o.llmURL != "" {
		if err := warnLanguageModel(ctx, db, log); err != nil {
			return err
		}
	}

	api := &httpapi.Server{DB: db, Blobs: blobs, Keys: keys, Queue: queue, Fetcher: fetcher, PublicURL: publicURL,
		URLExpiry: o.urlExpiry, Log: log, BlobHandler: blobHandler, Metrics: m, OpsOnly: o.role == "worker",
		BodyBudget: httpapi.NewBodyBudget(int64(o.bodyBudget), httpapi.DefaultBodyWait)}
	if o.role != "worker" {
		limitMemory(api.BodyBudget, log)
		if api.Console, err = newConsole(ctx, blobs, publicURL); err != nil {
			return err
		}
	}
	handler := api.Handler()
	if o.pprof {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.Handle("/", handler)
		handler = mux
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.addr, err)
	}
	stopMetrics, err := serveMetrics(o.metricsAddr, m, log)
	if err != nil {
		ln.Close()
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if workers > 0 {
		// Not ctx: River treats cancelling its start context as a hard stop;
		// shutdown goes through queue.Stop below, which lets jobs finish.
		if err := queue.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		go queue.SweepEvery(ctx, p, time.Minute, log) // transcripts whose job River gave up on
		// Objects of transcripts that no longer exist (a failed or interrupted deletion).
		go p.SweepBlobsEvery(ctx, pipeline.BlobSweepInterval)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("convoseal serving", "role", o.role, "addr", ln.Addr().String(), "public_url", publicURL, "data", o.data, "workers", workers,
		"database", db.Dialect(), "blobs", blobKind(o),
		"allow_private_media", o.allowPrivateMedia, "allow_private_webhooks", o.allowPrivateHooks, "llm", o.llmURL != "", "asr", o.asr.mode)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests and jobs")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	err = errors.Join(srv.Shutdown(shutdownCtx), stopMetrics(shutdownCtx))
	if workers > 0 {
		err = errors.Join(err, queue.Stop(shutdownCtx))
	}
	log.Info("stopped")
	return err
}

// openBlobs opens the artifact store: S3 with --blob, else the local
// directory (which also serves its signed locations over HTTP).
func openBlobs(ctx context.Context, o serveOptions, publicURL string) (blob.Store, http.Handler, func(), error) {
	if o.blobURL != "" {
		cfg, err := s3blob.ParseURL(o.blobURL)
		if err != nil {
			return nil, nil, nil, usageErrorf("--blob: %v", err)
		}
		st, err := s3blob.New(ctx, cfg)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--blob: %w", err)
		}
		return st, nil, func() {}, nil
	}
	signingKey, err := blob.LoadOrCreateKey(filepath.Join(o.data, "url-signing.key"))
	if err != nil {
		return nil, nil, nil, err
	}
	local, err := blob.NewLocal(filepath.Join(o.data, "blobs"), publicURL, signingKey)
	if err != nil {
		return nil, nil, nil, err
	}
	return local, local.Handler(), func() { local.Close() }, nil
}

func blobKind(o serveOptions) string {
	if o.blobURL != "" {
		return "s3"
	}
	return "local"
}

// bootstrapAccount makes sure the database has an account. With
// $CONVOSEAL_ACCOUNT_SID and $CONVOSEAL_AUTH_TOKEN it creates that account
// unless it exists. Without them it creates a first account with fresh
// credentials when there is none: of processes starting together on one
// database exactly one creates it (store.CreateFirstAccount serializes them),
// and only that one writes <data>/credentials (0600) and prints them; the
// others do nothing.
func bootstrapAccount(ctx context.Context, db *store.DB, kek *seal.KEK, dataDir string, console interface{ Write([]byte) (int, error) }) error {
	sid, token := os.Getenv("CONVOSEAL_ACCOUNT_SID"), os.Getenv("CONVOSEAL_AUTH_TOKEN")
	if (sid == "") != (token == "") {
		return usageErrorf("set both CONVOSEAL_ACCOUNT_SID and CONVOSEAL_AUTH_TOKEN, or neither")
	}
	if sid != "" {
		if !convoseal.ValidSID(convoseal.PrefixAccount, sid) {
			return usageErrorf("CONVOSEAL_ACCOUNT_SID must be AC followed by 32 hexadecimal digits")
		}
		if !auth.ValidToken(token) {
			return usageErrorf("CONVOSEAL_AUTH_TOKEN must be 32 lowercase hexadecimal digits")
		}
		sid = convoseal.NormalizeSID(sid)
		if _, err := db.GetAccount(ctx, sid); err == nil {
			return nil
		} else if !errors.Is(err, convoseal.ErrNotFound) {
			return err
		}
		err := createAccount(ctx, db, kek, sid, token, "bootstrap")
		if errors.Is(err, convoseal.ErrConflict) {
			return nil // another process of the same installation made it first
		}
		return err
	}
	n, err := db.CountAccounts(ctx)
	if err != nil || n > 0 {
		return err
	}
	path := filepath.Join(dataDir, "credentials")
	if _, err := os.Lstat(path); err == nil {
		// Another process sharing this directory may just have made the
		// account (it commits before writing the file); else the file is
		// left from another database.
		if n, err := db.CountAccounts(ctx); err != nil || n > 0 {
			return err
		}
		return fmt.Errorf("%s exists but the database has no account: move it away (is it from another database?)", path)
	}
	sid, token = convoseal.NewSID(convoseal.PrefixAccount), auth.NewToken()
	acct, err := newAccount(kek, sid, token, "first account")
	if err != nil {
		return err
	}
	// The credentials go to a temporary file first, so that a full disk fails
	// before the account exists; only the process that creates the account
	// links it into place.
	content := fmt.Sprintf("CONVOSEAL_ACCOUNT_SID=%s\nCONVOSEAL_AUTH_TOKEN=%s\n", sid, token)
	tmp, err := writeTempFile(dataDir, "credentials.*.tmp", []byte(content))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	created, err := db.CreateFirstAccount(ctx, acct)
	if err != nil || !created {
		os.Remove(tmp)
		return err
	}
	err = os.Link(tmp, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		err = writeNewFile(path, []byte(content), 0o600) // a file system without hard links
	}
	if err != nil {
		fmt.Fprintf(console, "\nCreated the first account (shown once; %s could not be written, the credentials are kept in %s, mode 0600):\n  Account SID: %s\n  Auth Token:  %s\n\n", path, tmp, sid, token)
		return fmt.Errorf("created the first account %s, but writing %s: %w", sid, path, err)
	}
	os.Remove(tmp)
	fmt.Fprintf(console, "\nCreated the first account (shown once; also in %s, mode 0600):\n  Account SID: %s\n  Auth Token:  %s\n\n", path, sid, token)
	return nil
}

// writeTempFile writes data to a new file in dir, mode 0600, synced, and
// returns its name.
func writeTempFile(dir, pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern) // mode 0600
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
