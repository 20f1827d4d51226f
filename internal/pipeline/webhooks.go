package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/internal/webhook"
	"github.com/riverqueue/river"
)

// Webhook event types, as Twilio names them.
const (
	EventTranscriptAvailable = "voice_intelligence_transcript_available"
	EventTranscriptFailed    = "voice_intelligence_transcript_failed"
)

// WebhookArgs is the job that tells a Service's webhook that a transcript
// completed or failed. Like every job it carries SIDs only.
type WebhookArgs struct {
	TranscriptSID string `json:"transcript_sid"`
	Status        string `json:"status"`
	// Timestamp is when the event happened (RFC 3339, UTC), fixed when the
	// job is enqueued so that every attempt sends the same Timestamp and
	// hence the same idempotency token. Jobs enqueued by earlier versions
	// lack it; their job's creation time stands in.
	Timestamp string `json:"timestamp,omitempty"`
}

// eventTimestamp is the event's Timestamp parameter, the same on every
// attempt of the job.
func eventTimestamp(job *river.Job[WebhookArgs]) string {
	if job.Args.Timestamp != "" {
		return job.Args.Timestamp
	}
	return job.CreatedAt.UTC().Format(time.RFC3339)
}

// Kind implements river.JobArgs.
func (WebhookArgs) Kind() string { return "webhook" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 6, Queue: webhookQueue}
}

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	p       *Pipeline
	d       *webhook.Deliverer
	backoff time.Duration // first retry delay; doubles per attempt
	timeout time.Duration
}

// NextRetry is a short exponential backoff with jitter (River's default
// waits minutes), capped at five minutes.
func (w *webhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	d := w.backoff << min(job.Attempt-1, 8)
	d = min(d, 5*time.Minute)
	d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	return time.Now().Add(d)
}

func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration { return w.timeout }

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	t, err := w.p.DB.TranscriptForJob(ctx, job.Args.TranscriptSID)
	if errors.Is(err, convoseal.ErrNotFound) {
		return nil // deleted since
	}
	if err != nil {
		return err
	}
	svc, err := w.p.DB.GetService(ctx, t.AccountSID, t.ServiceSID)
	if errors.Is(err, convoseal.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if svc.WebhookURL == "" || svc.WebhookHTTPMethod == "NULL" {
		return nil // switched off since
	}
	acct, err := w.p.DB.GetAccount(ctx, t.AccountSID)
	if err != nil {
		return err
	}
	token, err := w.p.Keys.OpenAuthToken(acct.SID, acct.AuthTokenSealed)
	if err != nil {
		return river.JobCancel(fmt.Errorf("account %s has no usable signing token: %w", acct.SID, err))
	}
	event := EventTranscriptAvailable
	if job.Args.Status == convoseal.StatusFailed {
		event = EventTranscriptFailed
	}
	params := map[string]string{
		"AccountSid":    t.AccountSID,
		"ServiceSid":    t.ServiceSID,
		"TranscriptSid": t.SID,
		"Status":        job.Args.Status,
		"EventType":     event,
		"Timestamp":     eventTimestamp(job),
	}
	if t.CustomerKey != "" {
		params["CustomerKey"] = t.CustomerKey // the customer's own reference, not content
	}
	ev := webhook.Event{URL: svc.WebhookURL, Method: svc.WebhookHTTPMethod, AccountSID: t.AccountSID, Params: params}
	err = w.d.Attempt(ctx, ev, token, job.Attempt, job.Attempt >= job.MaxAttempts)
	var de *webhook.DeliveryError
	if errors.As(err, &de) && !de.Retryable {
		return river.JobCancel(err)
	}
	return err
}

// NotifyTx enqueues the webhook job for a transcript's new status on tx, when
// its Service has a webhook.
func (q *Queue) NotifyTx(ctx context.Context, tx *sql.Tx, t *convoseal.Transcript, status string) error {
	url, method, err := store.WebhookTarget(ctx, tx, t.ServiceSID)
	if err != nil || url == "" || method == "NULL" {
		return err
	}
	_, err = q.client.InsertTx(ctx, tx, WebhookArgs{TranscriptSID: t.SID, Status: status, Timestamp: time.Now().UTC().Format(time.RFC3339)}, nil)
	return err
}
