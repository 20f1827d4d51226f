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
	return river.InsertOpts{MaxAttempts: 8, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// webhookQueue keeps slow webhook receivers from holding transcript workers.
const webhookQueue = "webhooks"

type transcribeWorker struct {
	river.WorkerDefaults[TranscribeArgs]
	p *Pipeline
}

func (w *transcribeWorker) Work(ctx context.Context, job *river.Job[TranscribeArgs]) error {
	err := w.p.Process(ctx, job.Args.TranscriptSID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		// The last attempt: leave the transcript failed, not in progress forever.
		reason := fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, safeReason(err))
		t, terr := w.p.DB.TranscriptForJob(context.WithoutCancel(ctx), job.Args.TranscriptSID)
		if terr != nil {
			return errors.Join(err, terr)
		}
		if ferr := w.p.DB.FailTranscript(context.WithoutCancel(ctx), job.Args.TranscriptSID, reason, w.p.notify(context.WithoutCancel(ctx), t, convoseal.StatusFailed)); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

// Timeout bounds one attempt.
func (w *transcribeWorker) Timeout(*river.Job[TranscribeArgs]) time.Duration { return 5 * time.Minute }

// QueueConfig tunes the job queue.
type QueueConfig struct {
	Workers int  // concurrent jobs in this process; 0 means insert-only
	Solo    bool // this process is the only one using the database (embedded SQLite)
	// Webhooks delivers webhook events; nil disables webhook jobs here.
	Webhooks *webhook.Deliverer
	// WebhookBackoff is the first retry delay of a failed delivery (default 1s).
	WebhookBackoff time.Duration
}

// Queue is the durable job queue (River on the metadata database).
type Queue struct {
	client *river.Client[*sql.Tx]
	solo   bool
	db     *sql.DB
}

// NewSQLiteQueue migrates River's tables in db and returns a queue whose
// workers run p.
func NewSQLiteQueue(ctx context.Context, db *sql.DB, p *Pipeline, cfg QueueConfig, log *slog.Logger) (*Queue, error) {
	driver := riversqlite.New(db)
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	rc := &river.Config{
		Logger:               quiet(log),
		MaxAttempts:          8,
		RescueStuckJobsAfter: 10 * time.Minute, // longer than a job's timeout
		FetchPollInterval:    50 * time.Millisecond,
		FetchCooldown:        20 * time.Millisecond,
	}
	if cfg.Workers > 0 {
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, &transcribeWorker{p: p}); err != nil {
			return nil, err
		}
		queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		if cfg.Webhooks != nil {
			backoff := cfg.WebhookBackoff
			if backoff <= 0 {
				backoff = time.Second
			}
			if err := river.AddWorkerSafely(workers, &webhookWorker{p: p, d: cfg.Webhooks, backoff: backoff}); err != nil {
				return nil, err
			}
			queues[webhookQueue] = river.QueueConfig{MaxWorkers: 4}
		}
		rc.Workers = workers
		rc.Queues = queues
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client, solo: cfg.Solo, db: db}, nil
}

func quiet(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log.With("component", "river")
}

// EnqueueTx inserts the job for a transcript on tx.
func (q *Queue) EnqueueTx(ctx context.Context, tx *sql.Tx, transcriptSID string) error {
	_, err := q.client.InsertTx(ctx, tx, TranscribeArgs{TranscriptSID: transcriptSID}, nil)
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
	return q.client.Start(ctx)
}

// Stop stops fetching new jobs and waits for running ones to finish, up to
// ctx's deadline; jobs still running then are cancelled and retried later.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err != nil {
		return q.client.StopAndCancel(context.Background())
	}
	return nil
}
