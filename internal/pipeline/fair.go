package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/riverqueue/river"
)

// Fair scheduling.
//
// River works jobs in priority, then insertion order, so one account that
// queues many slow transcripts (media that hangs until the fetch times out,
// heavy operators) would hold every worker and make everyone else wait. Two
// things prevent it:
//
//   - Fair queueing: a job's priority falls as its account's backlog grows
//     (jobPriority), so a quiet account's transcript is fetched before the
//     thousands another account queued earlier.
//   - A guaranteed share with preemptible borrowing: each worker process runs
//     up to AccountWorkers transcripts of one account as its share. Beyond
//     that an account borrows idle workers (a lone tenant keeps every worker
//     busy), but a borrowed job looks every borrowPoll at what River would
//     fetch next, and when that includes another account's job it gives the
//     worker back: its context is cancelled and it is snoozed
//     (river.JobSnooze costs no attempt; the pipeline is idempotent, so the
//     retry redoes the work). Another account waits at most about
//     borrowPoll for a worker, whatever the first one's jobs do.
//
// The share is counted per process, in memory, on SQLite and PostgreSQL
// alike: a cluster-wide count would cost round trips or held connections per
// job and must survive dead workers, and the guarantee holds per process
// (every process keeps workers − AccountWorkers for other accounts, on
// demand). The look at the queue is global (the shared database).

// DefaultAccountWorkers is the guaranteed share of one account in a process
// with workers workers: half of them, at least one.
func DefaultAccountWorkers(workers int) int { return max(1, workers/2) }

// maxTimeoutAttempts is how many attempts a transcript gets when its media
// cannot be fetched (no answer in time, connection failures) or its job
// runs out of time: after that it fails instead of holding a worker for
// River's 25 attempts.
const maxTimeoutAttempts = 3

// borrowPoll is how often a job running beyond its account's share checks
// whether another account is waiting; borrowSnooze how long it waits when it
// gave its worker back.
var (
	borrowPoll   = 250 * time.Millisecond
	borrowSnooze = time.Second
)

// accountSlots counts the running transcript jobs of each account in this
// process.
type accountSlots struct {
	share int

	mu      sync.Mutex
	running map[string]int
}

func newAccountSlots(share int) *accountSlots {
	return &accountSlots{share: share, running: map[string]int{}}
}

// acquire counts a job of account as running; borrowed reports that the
// account already had its share running. release must be called once when
// the job ends.
func (s *accountSlots) acquire(account string) (release func(), borrowed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	borrowed = s.running[account] >= s.share
	s.running[account]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.running[account]--; s.running[account] <= 0 {
				delete(s.running, account)
			}
		})
	}, borrowed
}

// work runs the job's transcript through the pipeline, as the account's
// share or on a borrowed worker (see Fair scheduling); a borrowed run that
// gives its worker back returns a snooze.
func (w *transcribeWorker) work(ctx context.Context, job *river.Job[TranscribeArgs]) error {
	sid := job.Args.TranscriptSID
	if w.slots == nil {
		return w.p.Process(ctx, sid)
	}
	account, err := w.p.DB.TranscriptAccount(ctx, sid)
	if errors.Is(err, convoseal.ErrNotFound) {
		return w.p.Process(ctx, sid) // deleted: Process sees to it
	}
	if err != nil {
		return fmt.Errorf("loading %s: %w", sid, err)
	}
	release, borrowed := w.slots.acquire(account)
	defer release()
	if !borrowed {
		return w.p.Process(ctx, sid)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	yielded := make(chan struct{})
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(borrowPoll)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			waiting, err := w.p.DB.OtherAccountWaiting(runCtx, account)
			if err != nil && runCtx.Err() == nil {
				w.p.Log.Warn("fair scheduling: looking at the queue", "error", err)
			}
			if waiting {
				close(yielded)
				cancel()
				return
			}
		}
	}()
	err = w.p.Process(runCtx, sid)
	close(done)
	select {
	case <-yielded:
		if ctx.Err() == nil {
			w.p.Log.Debug("borrowed worker given back to another account", "transcript_sid", sid, "account_sid", account)
			return river.JobSnooze(borrowSnooze)
		}
	default:
	}
	return err
}

// timeoutReason returns the failure reason when err, on this attempt, ends
// the transcript early: its media could not be fetched, or its job ran out of
// time, maxTimeoutAttempts times. ok is false otherwise (the job is retried
// as usual).
func (w *transcribeWorker) timeoutReason(ctx context.Context, job *river.Job[TranscribeArgs], err error) (reason string, ok bool) {
	if job.Attempt < maxTimeoutAttempts {
		return "", false
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("processing did not finish within %s, %d times", w.timeout, job.Attempt), true
	case media.IsUnreachable(err):
		return fmt.Sprintf("%s: the media server did not answer, %d times", media.ReasonUnreachable, job.Attempt), true
	case errors.Is(err, errRecognizerDown):
		return fmt.Sprintf("%s: the speech recognizer did not answer, %d times", reasonASRFailed, job.Attempt), true
	}
	return "", false
}

// backlogPriorities are the River job priorities (1 is fetched first) by the
// account's backlog when the job is inserted: its transcripts queued or in
// progress, this one included. A few transcripts of a quiet account go ahead
// of the thousands another account queued before them; River fetches in
// priority order, then insertion order. The count stops at the last bound.
var backlogPriorities = []struct{ upTo, priority int }{{4, 1}, {40, 2}, {400, 3}}

// jobPriority returns the priority of transcriptSID's job from its account's
// backlog, counted on tx (which has inserted the transcript).
func (q *Queue) jobPriority(ctx context.Context, tx *sql.Tx, transcriptSID string) (int, error) {
	last := backlogPriorities[len(backlogPriorities)-1].upTo
	query := `SELECT COUNT(*) FROM (SELECT 1 FROM transcripts WHERE status IN ('queued', 'in-progress')
		AND account_sid = (SELECT account_sid FROM transcripts WHERE sid = ?) LIMIT ?) AS backlog`
	if q.postgres {
		query = strings.Replace(strings.Replace(query, "?", "$1", 1), "?", "$2", 1)
	}
	var n int
	if err := tx.QueryRowContext(ctx, query, transcriptSID, last+1).Scan(&n); err != nil {
		return 0, err
	}
	for _, b := range backlogPriorities {
		if n <= b.upTo {
			return b.priority, nil
		}
	}
	return 4, nil
}
