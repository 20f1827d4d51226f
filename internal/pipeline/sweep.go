package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
)

// maxLostJobs is how many discarded jobs a transcript may lose before the
// sweep fails it instead of queueing it again.
const maxLostJobs = 3

// SweepOrphans finds transcripts that are queued or in progress but have no
// live job — River discarded it after its attempts ran out, for example
// because the workers running it kept being killed — and queues a new job for
// each, or fails the transcript once it has lost maxLostJobs jobs. It returns
// how many transcripts it requeued or failed. Safe to run in many processes
// at once: the job's uniqueness makes a second insert a no-op.
func (q *Queue) SweepOrphans(ctx context.Context, p *Pipeline) (int, error) {
	argsSID := "json_extract(j.args, '$.transcript_sid')"
	if p.DB.Dialect() == store.DialectPostgres {
		argsSID = "j.args->>'transcript_sid'"
	}
	rows, err := q.db.QueryContext(ctx, rebindFor(p.DB.Dialect(), `SELECT t.sid,
		(SELECT COUNT(*) FROM river_job j WHERE j.kind = 'transcribe' AND j.state = 'discarded' AND `+argsSID+` = t.sid)
		FROM transcripts t
		WHERE t.status IN ('queued', 'in-progress') AND t.date_updated < ?
		AND NOT EXISTS (SELECT 1 FROM river_job j WHERE j.kind = 'transcribe'
			AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled') AND `+argsSID+` = t.sid)
		ORDER BY t.date_updated LIMIT 100`), time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000000Z"))
	if err != nil {
		return 0, fmt.Errorf("sweeping orphaned transcripts: %w", err)
	}
	type orphan struct {
		sid  string
		lost int
	}
	var orphans []orphan
	for rows.Next() {
		var o orphan
		if err := rows.Scan(&o.sid, &o.lost); err != nil {
			rows.Close()
			return 0, err
		}
		orphans = append(orphans, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, o := range orphans {
		t, err := p.DB.TranscriptForJob(ctx, o.sid)
		if err != nil {
			continue // deleted meanwhile
		}
		if o.lost >= maxLostJobs {
			reason := fmt.Sprintf("processing was interrupted %d times; giving up", o.lost)
			// The transaction deletes a sealed source in the database; one an
			// earlier version left in the blob store goes after it.
			if err = p.DB.FailTranscript(ctx, o.sid, reason, p.notify(ctx, t, convoseal.StatusFailed)); err == nil {
				p.removeBlobSource(ctx, t)
			}
		} else {
			err = p.DB.Tx(ctx, func(tx *sql.Tx) error { return q.EnqueueTx(ctx, tx, o.sid) })
		}
		if err != nil {
			return 0, err
		}
		p.Log.Warn("transcript had lost its job", "transcript_sid", o.sid, "lost_jobs", o.lost, "failed", o.lost >= maxLostJobs)
	}
	return len(orphans), nil
}

// rebindFor turns ? placeholders into $n for Postgres (the query above has
// no literal question marks).
func rebindFor(dialect, q string) string {
	if dialect != store.DialectPostgres {
		return q
	}
	out := make([]byte, 0, len(q)+8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// SweepEvery runs SweepOrphans on a ticker until ctx ends.
func (q *Queue) SweepEvery(ctx context.Context, p *Pipeline, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := q.SweepOrphans(ctx, p); err != nil && ctx.Err() == nil {
				log.Warn("orphan sweep", "err", err)
			}
		}
	}
}
