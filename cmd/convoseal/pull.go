package main

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/convoseal/convoseal/client"
	"github.com/convoseal/convoseal/internal/pull"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// exitInterrupted is pull's exit code after SIGINT or SIGTERM (128 + 2).
const exitInterrupted = 130

var serviceSIDPattern = regexp.MustCompile(`^GA[0-9a-f]{32}$`)

type pullFlags struct {
	outDir, stateFile, service, since string
	jsonl, redacted, noProgress       bool
	parallel                          int
	progressEvery                     time.Duration
	cpuProfile                        string
	margin                            time.Duration
	api                               apiFlags // shared with fetch
	keys                              keyFlags
}

func newPullCommand() *cobra.Command {
	var fl pullFlags
	cmd := &cobra.Command{
		Use:   "pull (-o DIR | --jsonl [--state FILE]) --private-key KEY.pem [--service GA…] [--since DATE]",
		Short: "Download and decrypt every new transcript of a Service or account",
		Long: `pull lists the transcripts of one Service (--service) or of the whole account,
downloads the sealed sentences and operator results of every completed one,
decrypts them with your private key(s), and writes them out:

  -o DIR     one folder per transcript (folders 0700, files 0600):
               DIR/GT…/sentences.json              the decrypted sentences document
               DIR/GT…/operator-results/LY….json   one per operator result
               DIR/GT…/transcript.json             metadata: the transcript as listed, and
                                                   per artifact its size, SHA-256 and key
             Each file is written to a temporary file in its folder and
             renamed, and transcript.json is written last; the output is synced
             before every state save. A folder counts as done when its files
             match the sizes and SHA-256 sums in its transcript.json.
  --jsonl    one JSON object per line on standard output, per transcript:
             {"transcript": {…as transcript.json…}, "sentences": {…},
              "operator_results": [{…}, …]}

Which transcripts: those created since --since (RFC 3339, or YYYY-MM-DD for
midnight UTC), else those created since the last pull into the same place,
else all. Transcripts not completed yet are counted as pending and picked up by
the next pull; failed ones have nothing to pull.

Resuming: with -o, DIR/.convoseal-pull.state (0600, replaced atomically) records
the transcripts pulled and a watermark: the creation time below which everything
was pulled. It stays below the oldest transcript still pending or failed (and up
to 10 minutes below the newest one seen, for transcripts whose creation
committed late), so transcripts completing out of order are not skipped. A pull
that is interrupted (Ctrl-C saves the state and stops cleanly) or killed outright
resumes when run again: what was pulled is not downloaded again (a transcript
cut off part-way is pulled again whole), and temporary files left behind are
removed. With --jsonl, pass --state FILE to get the same: lines already written
are not repeated, except that after a kill the transcripts written in the last
second or so may be written again (consumers should key on transcript.sid);
without --state, --jsonl keeps no memory between runs.

Keys: --private-key may be given several times (a file may hold several PEM
keys) and $CONVOSEAL_PRIVATE_KEY may hold PEM text; each artifact is opened with
the key whose fingerprint its metadata names, so transcripts sealed before and
after a change of the Service's key are pulled in one run. Keys may be PKCS #1,
PKCS #8 or passphrase-protected PKCS #8 (the passphrase from --passphrase-env,
or asked on the terminal). Keys are never written anywhere.

The API is --url (else $CONVOSEAL_URL, else ` + defaultFetchURL + `), with the
Account SID and Auth Token from --account-sid and --auth-token, else
$TWILIO_ACCOUNT_SID and $TWILIO_AUTH_TOKEN, as for fetch. Requests answered
429 or 5xx are retried with backoff; a location whose signature expired is
fetched afresh.

Progress goes to standard error: a status line redrawn in place on a terminal,
else a plain line every --progress-interval. A summary follows: transcripts
pulled, skipped (pulled before), failed (with reasons), pending, artifacts,
bytes downloaded and time taken.

Exit codes: 0 all pulled; 1 some transcripts failed (see the summary) or the
listing failed; 2 usage; 3 private key unusable; 130 interrupted (run again to
resume).`,
		Example: `  export TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=… CONVOSEAL_URL=https://ci.example.com
  convoseal pull --private-key private_key.pem --service GA… -o transcripts/
  convoseal pull --private-key old.pem --private-key new.pem -o transcripts/   # after a key change
  convoseal pull --private-key private_key.pem --since 2026-01-01 --jsonl --state pull.state > new.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPull(cmd, fl)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&fl.outDir, "output", "o", "", "directory to pull into (created 0700 if missing)")
	f.BoolVar(&fl.jsonl, "jsonl", false, "write JSON Lines to standard output instead of a directory")
	f.StringVar(&fl.stateFile, "state", "", "with --jsonl: state file that makes later runs pull only what is new (default with -o: DIR/"+pull.StateFileName+")")
	f.StringVar(&fl.service, "service", "", "pull this Service's transcripts (GA…); default: the whole account")
	f.StringVar(&fl.since, "since", "", "only transcripts created at or after this time (RFC 3339, or YYYY-MM-DD in UTC); default: since the last pull")
	f.IntVar(&fl.parallel, "parallel", 2*runtime.NumCPU(), "transcripts downloaded and decrypted at once (raise it for a distant server: each transcript takes several requests in turn)")
	f.BoolVar(&fl.redacted, "redacted", true, "pull the redacted variant where the transcript has one (false: the unredacted original)")
	f.DurationVar(&fl.progressEvery, "progress-interval", 0, "how often progress is shown (default 2s, or 100ms on a terminal)")
	f.BoolVar(&fl.noProgress, "no-progress", false, "show no progress, only the summary")
	fl.api.register(cmd)
	fl.keys.register(f)
	f.StringVar(&fl.cpuProfile, "cpuprofile", "", "write a CPU profile of the pull to this file (for benchmarks)")
	f.MarkHidden("cpuprofile")
	f.DurationVar(&fl.margin, "late-commit-margin", pull.LateCommitMargin, "how far below the newest transcript seen the watermark stays (for creations that commit late)")
	f.MarkHidden("late-commit-margin")
	return cmd
}

// parseSince reads --since: RFC 3339 (with or without fractional seconds) or
// a date, midnight UTC.
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usageErrorf("--since %q: want RFC 3339 (2026-01-31T12:00:00Z) or a date (2026-01-31)", s)
}

func runPull(cmd *cobra.Command, fl pullFlags) error {
	switch {
	case fl.outDir == "" && !fl.jsonl:
		return usageErrorf("say where to: -o DIR, or --jsonl for standard output")
	case fl.outDir != "" && fl.jsonl:
		return usageErrorf("-o and --jsonl exclude each other")
	case fl.stateFile != "" && !fl.jsonl:
		return usageErrorf("--state goes with --jsonl; with -o the state lives in DIR")
	case fl.service != "" && !serviceSIDPattern.MatchString(fl.service):
		return usageErrorf("--service %q: want a Service SID, GA followed by 32 hex digits", fl.service)
	case fl.parallel < 1 || fl.parallel > 256:
		return usageErrorf("--parallel must be from 1 to 256")
	}
	since, err := parseSince(fl.since)
	if err != nil {
		return err
	}
	keys, err := fl.keys.load()
	if err != nil {
		return err
	}
	c, err := pullClient(&fl.api, keys, fl.parallel)
	if err != nil {
		return err
	}

	// Where the output and the state go; a lock keeps a second pull out.
	var (
		sink      pull.Sink
		statePath = fl.stateFile
		lockPath  string
		removed   int
	)
	if fl.jsonl {
		sink = &pull.JSONLSink{W: cmd.OutOrStdout()}
		if statePath != "" {
			lockPath = statePath + ".lock"
		}
	} else {
		if err := os.MkdirAll(fl.outDir, 0o700); err != nil {
			return fmt.Errorf("output directory: %w", err)
		}
		statePath = filepath.Join(fl.outDir, pull.StateFileName)
		lockPath = filepath.Join(fl.outDir, pull.LockFileName)
	}
	if lockPath != "" {
		lock, err := pull.Lock(lockPath)
		if err != nil {
			return err
		}
		defer lock.Close()
	}
	if !fl.jsonl {
		// Only under the lock: the temporary files removed might otherwise
		// be another pull's.
		ds, n, err := pull.OpenDir(fl.outDir)
		if err != nil {
			return err
		}
		sink, removed = ds, n
	}
	state := pull.NewState(fl.redacted)
	if statePath != "" {
		if state, err = pull.LoadState(statePath, fl.redacted); err != nil {
			return err
		}
	}

	if fl.cpuProfile != "" {
		pf, err := os.OpenFile(fl.cpuProfile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p := pull.New(c, pull.Options{ServiceSID: fl.service, Since: since, Redacted: fl.redacted, Parallel: fl.parallel,
		Sink: sink, State: state, StatePath: statePath, Margin: cmp.Or(fl.margin, -1)})
	stderr := cmd.ErrOrStderr()
	var prog *pull.Progress
	if !fl.noProgress {
		prog = &pull.Progress{W: stderr, TTY: isTerminal(stderr), Interval: fl.progressEvery, Snap: p.Snapshot}
		prog.Start()
	}
	sum, err := p.Run(ctx)
	if prog != nil {
		prog.Stop()
	}
	if err != nil {
		return err
	}
	sum.TempRemoved = removed
	printSummary(stderr, sum)
	if err := sum.Err(); err != nil {
		if sum.Interrupted {
			return withCode(exitInterrupted, err)
		}
		return err
	}
	return nil
}

// pullClient is fetch's client (the same flags and defaults) with an HTTP
// transport that keeps enough idle connections for --parallel downloads.
func pullClient(a *apiFlags, keys *client.Keyring, parallel int) (*client.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 15 * time.Second
	t.MaxIdleConnsPerHost = max(32, 4*parallel)
	return a.clientWith(keys, t)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printSummary writes the end-of-pull report (never secrets: reasons name
// locations without their signatures, and no plaintext).
func printSummary(w io.Writer, s *pull.Summary) {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Done) / s.Elapsed.Seconds()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "convoseal pull: %s\n", summaryHeadline(s))
	fmt.Fprintf(&b, "  pulled       %d transcripts\n", s.Done)
	fmt.Fprintf(&b, "  skipped      %d (pulled before)\n", s.Skipped)
	fmt.Fprintf(&b, "  failed       %d\n", s.Failed)
	fmt.Fprintf(&b, "  pending      %d (not completed yet: the next pull takes them)\n", s.Pending)
	if s.Unavailable > 0 {
		fmt.Fprintf(&b, "  unavailable  %d (failed or canceled on the server: no results)\n", s.Unavailable)
	}
	if s.Unencrypted > 0 {
		fmt.Fprintf(&b, "  unencrypted  %d (their Service has no customer key: read them with the plain API)\n", s.Unencrypted)
	}
	fmt.Fprintf(&b, "  artifacts    %d decrypted\n", s.Artifacts)
	fmt.Fprintf(&b, "  downloaded   %s (%d bytes)\n", pull.FormatBytes(s.Bytes), s.Bytes)
	fmt.Fprintf(&b, "  elapsed      %s (%.1f transcripts/s)\n", s.Elapsed.Round(time.Millisecond), rate)
	if s.TempRemoved > 0 {
		fmt.Fprintf(&b, "  cleaned      %d temporary files of an interrupted pull\n", s.TempRemoved)
	}
	if s.ListErr != nil {
		fmt.Fprintf(&b, "  listing stopped early: %v\n", s.ListErr)
	}
	const show = 50
	for i, f := range s.Failures {
		if i == show {
			fmt.Fprintf(&b, "  … and %d more failures\n", len(s.Failures)-show)
			break
		}
		fmt.Fprintf(&b, "  failed %s: %s\n", f.SID, f.Reason)
	}
	io.WriteString(w, b.String())
}

func summaryHeadline(s *pull.Summary) string {
	switch {
	case s.Interrupted:
		return "interrupted; the state is saved, run the same command to resume"
	case s.ListErr != nil || len(s.Failures) > 0:
		return "finished with failures"
	}
	return "done"
}
