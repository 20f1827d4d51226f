package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/riverqueue/river"
)

// Fair scheduling.
//
// River works jobs in insertion order, so one account that queues many slow
// transcripts (media that hangs until the fetch times out, heavy operators)
// would hold every worker and make everyone else wait. Each worker process
// therefore runs at most AccountWorkers transcripts of one account at once;
// a job of an account at its cap is snoozed (river.JobSnooze, which costs no
// attempt) and comes back after a short, jittered delay, behind the jobs
// queued meanwhile. With the cap below --workers, every process always keeps
// workers free for other accounts.
//
// The cap is per process, counted in memory, on purpose, on SQLite and on
// PostgreSQL alike: a cluster-wide cap derived from one process's --workers
// would throttle a lone tenant to a fraction of a scaled-out cluster, and a
// count kept in the database (transcripts in progress, advisory-lock slots)
// costs round trips or held connections per job and must survive dead
// workers. Per process, an account gets at most AccountWorkers × (worker
// processes) workers cluster-wide, and each process keeps
// workers − AccountWorkers for the others.

// DefaultAccountWorkers is the per-account cap for a process with workers
// workers: half of them, at least one.
func DefaultAccountWorkers(workers int) int { return max(1, workers/2) }

// maxTimeoutAttempts is how many attempts a transcript gets when its media
// cannot be fetched (no answer in time, connection failures) or its job
// runs out of time: after that it fails instead of holding a worker for
// River's 25 attempts.
const maxTimeoutAttempts = 3

// admitWait is how long a job of an account at its cap waits for one of the
// account's slots before it is snoozed; admitPoll how often it looks.
const (
	admitWait = 250 * time.Millisecond
	admitPoll = 10 * time.Millisecond
)

// accountSlots counts the running transcript jobs of each account in this
// process.
type accountSlots struct {
	cap int

	mu      sync.Mutex
	running map[string]int
	// snoozed are the jobs of each account snoozed recently, by job ID, with
	// when: the more an account has waiting, the longer each snooze, so a
	// flood of thousands is not refetched (and snoozed again) many times a
	// second ahead of other accounts' jobs.
	snoozed map[string]map[int64]time.Time
}

func newAccountSlots(cap int) *accountSlots {
	return &accountSlots{cap: cap, running: map[string]int{}, snoozed: map[string]map[int64]time.Time{}}
}

// acquire takes a slot of account for job; ok is false when the account is
// at its cap. release must be called once when the job ends.
func (s *accountSlots) acquire(account string, job int64) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[account] >= s.cap {
		return nil, false
	}
	s.running[account]++
	if w := s.snoozed[account]; w != nil {
		delete(w, job)
		if len(w) == 0 {
			delete(s.snoozed, account)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.running[account]--; s.running[account] <= 0 {
				delete(s.running, account)
			}
		})
	}, true
}

// snoozeFor returns how long to snooze job of account: half a second to a
// second, plus 50 ms per job of the account snoozed in the last two minutes,
// jittered, at most 30 s.
func (s *accountSlots) snoozeFor(account string, job int64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	w := s.snoozed[account]
	if w == nil {
		w = map[int64]time.Time{}
		s.snoozed[account] = w
	}
	for id, at := range w {
		if now.Sub(at) > 2*time.Minute {
			delete(w, id)
		}
	}
	w[job] = now
	spread := 500*time.Millisecond + time.Duration(len(w))*50*time.Millisecond
	return min(500*time.Millisecond+rand.N(spread), 30*time.Second)
}

// admit decides whether this process may run the transcript's job now. It
// returns release (nil when there is nothing to hold: the transcript is
// gone or finished, Process will see to it) or a snooze error.
func (w *transcribeWorker) admit(ctx context.Context, job *river.Job[TranscribeArgs]) (release func(), err error) {
	if w.slots == nil {
		return func() {}, nil
	}
	t, err := w.p.DB.TranscriptForJob(ctx, job.Args.TranscriptSID)
	if errors.Is(err, convoseal.ErrNotFound) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", job.Args.TranscriptSID, err)
	}
	// Wait a little for one of the account's jobs to finish before giving
	// the worker back: an account with a stream of quick transcripts then
	// keeps its share busy without a snooze (a database write) per fetch.
	deadline := time.Now().Add(admitWait)
	for {
		if release, ok := w.slots.acquire(t.AccountSID, job.ID); ok {
			return release, nil
		}
		if time.Now().After(deadline) {
			return nil, river.JobSnooze(w.slots.snoozeFor(t.AccountSID, job.ID))
		}
		select {
		case <-ctx.Done():
			return nil, river.JobSnooze(0)
		case <-time.After(admitPoll):
		}
	}
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
