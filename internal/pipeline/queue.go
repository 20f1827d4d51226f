package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/webhook"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// TranscribeArgs is the job that processes one transcript. It carries the SID
// only: job payloads never hold customer content.
type TranscribeArgs struct {
	TranscriptSID string `json:"transcript_sid"`
}

// Kind implements river.JobArgs.
func (TranscribeArgs) Kind() string { return "transcribe" }

// InsertOpts implements river.JobArgsWithInsertOpts: at most one live job per
// transcript.
func (TranscribeArgs) InsertOpts() river.InsertOpts {
	// Generous attempts: a worker killed mid-job costs an attempt too, and a
	// job River discards would leave its transcript in progress.
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// webhookQueue keeps slow webhook receivers from holding transcript workers.
const webhookQueue = "webhooks"

type transcribeWorker struct {
	river.WorkerDefaults[TranscribeArgs]
	p       *Pipeline
	timeout time.Duration
	slots   *accountSlots // per-account share (fair.go); nil: none
}

func (w *transcribeWorker) Work(ctx context.Context, job *river.Job[TranscribeArgs]) error {
	err := w.work(ctx, job)
	var snooze *river.JobSnoozeError
	if errors.As(err, &snooze) {
		return err
	}
	reason, early := w.timeoutReason(ctx, job, err)
	if err != nil && (early || job.Attempt >= job.MaxAttempts) {
		// The last attempt: leave the transcript failed, not in progress forever.
		if !early {
			reason = fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, safeReason(err))
		}
		w.p.Log.Warn("transcript failed", "transcript_sid", job.Args.TranscriptSID, "attempt", job.Attempt, "reason", reason, "error", err.Error())
		t, terr := w.p.DB.TranscriptForJob(context.WithoutCancel(ctx), job.Args.TranscriptSID)
		if terr != nil {
			return errors.Join(err, terr)
		}
		if ferr := w.p.DB.FailTranscript(context.WithoutCancel(ctx), job.Args.TranscriptSID, reason, w.p.notify(context.WithoutCancel(ctx), t, convoseal.StatusFailed)); ferr != nil {
			return errors.Join(err, ferr)
		}
		if early {
			return nil // failed for good: no more attempts
		}
	}
	return err
}

// Timeout bounds one attempt.
func (w *transcribeWorker) Timeout(*river.Job[TranscribeArgs]) time.Duration { return w.timeout }

// QueueConfig tunes the job queue.
type QueueConfig struct {
	Workers int  // concurrent jobs in this process; 0 means insert-only
	Solo    bool // this process is the only one using the database (embedded SQLite)
	// Webhooks delivers webhook events; nil disables webhook jobs here.
	Webhooks *webhook.Deliverer
	// WebhookBackoff is the first retry delay of a failed delivery (default 1s).
	WebhookBackoff time.Duration
	// JobTimeout bounds one attempt of a transcript job (default 5 min). A
	// job whose process died is rescued and retried after twice this (plus up
	// to River's 30 s rescuer interval), so it must exceed the longest
	// legitimate processing time.
	JobTimeout time.Duration
	// AccountWorkers is the share of one account among this process's
	// workers (see fair.go); 0 means DefaultAccountWorkers(Workers).
	AccountWorkers int
}

func (c QueueConfig) jobTimeout() time.Duration {
	if c.JobTimeout > 0 {
		return c.JobTimeout
	}
	return 5 * time.Minute
}

// Queue is the durable job queue (River on the metadata database).
type Queue struct {
	client *river.Client[*sql.Tx]
	solo   bool
	db     *sql.DB
	// onStop, if set, runs after the client stopped (closes a PostgreSQL
	// listener pool).
	onStop func()
	// alive, for a worker on PostgreSQL, holds its liveness lock and
	// rescues the jobs of dead workers.
	alive *liveness

	postgres bool // tx queries take $n placeholders (else SQLite's ?)
}

// NewSQLiteQueue migrates River's tables in db and returns a queue whose
// workers run p.
func NewSQLiteQueue(ctx context.Context, db *sql.DB, p *Pipeline, cfg QueueConfig, log *slog.Logger) (*Queue, error) {
	driver := riversqlite.New(db)
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: migrationLog(log)})
	if err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	rc, err := clientConfig(p, cfg, log)
	if err != nil {
		return nil, err
	}
	return newQueue(driver, rc, cfg.Solo, db)
}

func newQueue(driver riverdriver.Driver[*sql.Tx], rc *river.Config, solo bool, db *sql.DB) (*Queue, error) {
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client, solo: solo, db: db}, nil
}

// clientConfig is the River configuration shared by both databases: the
// workers (with their timeouts) and queues for cfg.
func clientConfig(p *Pipeline, cfg QueueConfig, log *slog.Logger) (*river.Config, error) {
	rc := &river.Config{
		Logger:               quiet(log),
		MaxAttempts:          8,
		JobTimeout:           cfg.jobTimeout(),
		RescueStuckJobsAfter: max(2*cfg.jobTimeout(), 10*time.Second), // longer than any job's timeout
		FetchPollInterval:    50 * time.Millisecond,
		FetchCooldown:        20 * time.Millisecond,
	}
	if cfg.Workers > 0 {
		workers := river.NewWorkers()
		accountWorkers := cfg.AccountWorkers
		if accountWorkers <= 0 {
			accountWorkers = DefaultAccountWorkers(cfg.Workers)
		}
		tw := &transcribeWorker{p: p, timeout: cfg.jobTimeout(), slots: newAccountSlots(accountWorkers)}
		if err := river.AddWorkerSafely(workers, tw); err != nil {
			return nil, err
		}
		queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		if cfg.Webhooks != nil {
			backoff := cfg.WebhookBackoff
			if backoff <= 0 {
				backoff = time.Second
			}
			if err := river.AddWorkerSafely(workers, &webhookWorker{p: p, d: cfg.Webhooks, backoff: backoff, timeout: min(30*time.Second, cfg.jobTimeout())}); err != nil {
				return nil, err
			}
			queues[webhookQueue] = river.QueueConfig{MaxWorkers: 4}
		}
		rc.Workers = workers
		rc.Queues = queues
	}
	return rc, nil
}

func quiet(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log.With("component", "river")
}

// EnqueueTx inserts the job for a transcript on tx, with a priority that
// falls as the transcript's account's backlog grows (jobPriority).
func (q *Queue) EnqueueTx(ctx context.Context, tx *sql.Tx, transcriptSID string) error {
	prio, err := q.jobPriority(ctx, tx, transcriptSID)
	if err != nil {
		return fmt.Errorf("job priority: %w", err)
	}
	_, err = q.client.InsertTx(ctx, tx, TranscribeArgs{TranscriptSID: transcriptSID}, &river.InsertOpts{Priority: prio})
	return err
}

// Start starts working jobs. In solo mode, jobs left running by a previous
// process (killed mid-job) are made available again at once: no other
// process can be working them.
func (q *Queue) Start(ctx context.Context) error {
	if q.solo {
		if _, err := q.db.ExecContext(ctx, `UPDATE river_job SET state = 'available', attempted_by = NULL WHERE state = 'running'`); err != nil {
			return fmt.Errorf("recovering interrupted jobs: %w", err)
		}
	}
	if q.alive != nil {
		if err := q.alive.start(ctx); err != nil {
			return err
		}
	}
	return q.client.Start(ctx)
}

// Stop stops fetching new jobs and waits for running ones to finish, up to
// ctx's deadline; jobs still running then are cancelled and retried later.
func (q *Queue) Stop(ctx context.Context) error {
	if q.onStop != nil {
		defer q.onStop()
	}
	if q.alive != nil {
		defer q.alive.close() // after the client: its jobs have finished or are abandoned
	}
	err := q.client.Stop(ctx)
	if err != nil {
		return q.client.StopAndCancel(context.Background())
	}
	return nil
}

// JobCounts returns how many jobs are in each state, for /metrics.
func (q *Queue) JobCounts(ctx context.Context) (map[string]float64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]float64{"available": 0, "running": 0, "retryable": 0, "discarded": 0}
	for rows.Next() {
		var state string
		var n float64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}
