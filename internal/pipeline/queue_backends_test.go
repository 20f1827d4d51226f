package pipeline

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/internal/store/storetest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// noteArgs is a trivial job that records that it ran.
type noteArgs struct {
	ID string `json:"id"`
}

func (noteArgs) Kind() string { return "test_note" }

type noteWorker struct {
	river.WorkerDefaults[noteArgs]
	mu   sync.Mutex
	seen map[string]int
	ran  chan string
}

func newNoteWorker() *noteWorker {
	return &noteWorker{seen: map[string]int{}, ran: make(chan string, 1000)}
}

func (w *noteWorker) Work(_ context.Context, job *river.Job[noteArgs]) error {
	w.mu.Lock()
	w.seen[job.Args.ID]++
	w.mu.Unlock()
	w.ran <- job.Args.ID
	return nil
}

func (w *noteWorker) count(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[id]
}

// waitFor waits until every id has run.
func (w *noteWorker) waitFor(t *testing.T, ids ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.After(20 * time.Second)
	for len(want) > 0 {
		select {
		case id := <-w.ran:
			delete(want, id)
		case <-deadline:
			t.Fatalf("jobs never ran: %v", want)
		}
	}
}

// queueBackend opens a fresh store and makes queues on it.
type queueBackend struct {
	name string
	// open returns a fresh store's opener (ok false: not available here).
	open func(t *testing.T) (open func() *store.DB, ok bool)
	// queue returns a queue on db working the jobs of rc's workers.
	queue func(t *testing.T, db *store.DB, rc *river.Config) *Queue
	// real returns the production queue for db, insert-only.
	real func(t *testing.T, db *store.DB) *Queue
}

func openStore(t *testing.T, open func(context.Context) (*store.DB, error)) *store.DB {
	t.Helper()
	db, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queueBackends() []queueBackend {
	return []queueBackend{
		{
			name: store.DialectSQLite,
			open: func(t *testing.T) (func() *store.DB, bool) {
				path := filepath.Join(t.TempDir(), "convoseal.db")
				return func() *store.DB {
					return openStore(t, func(ctx context.Context) (*store.DB, error) { return store.OpenSQLite(ctx, path) })
				}, true
			},
			queue: func(t *testing.T, db *store.DB, rc *river.Config) *Queue {
				if _, err := NewSQLiteQueue(context.Background(), db.Write, nil, QueueConfig{}, nil); err != nil { // migrates
					t.Fatal(err)
				}
				q, err := newQueue(riversqlite.New(db.Write), rc, true, db.Write)
				if err != nil {
					t.Fatal(err)
				}
				return q
			},
			real: func(t *testing.T, db *store.DB) *Queue {
				q, err := NewSQLiteQueue(context.Background(), db.Write, &Pipeline{DB: db}, QueueConfig{Solo: true}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return q
			},
		},
		{
			name: store.DialectPostgres,
			open: func(t *testing.T) (func() *store.DB, bool) {
				url, ok := storetest.PostgresURL(t)
				return func() *store.DB {
					return openStore(t, func(ctx context.Context) (*store.DB, error) { return store.OpenPostgres(ctx, url) })
				}, ok
			},
			queue: func(t *testing.T, db *store.DB, rc *river.Config) *Queue {
				q, err := newPostgresQueue(context.Background(), db.Write, rc, nil)
				if err != nil {
					t.Fatal(err)
				}
				return q
			},
			real: func(t *testing.T, db *store.DB) *Queue {
				q, err := NewPostgresQueue(context.Background(), db.Write, &Pipeline{DB: db}, QueueConfig{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return q
			},
		},
	}
}

func forEachQueueBackend(t *testing.T, fn func(t *testing.T, b queueBackend, open func() *store.DB)) {
	for _, b := range queueBackends() {
		t.Run(b.name, func(t *testing.T) {
			open, ok := b.open(t)
			if !ok {
				t.Skipf("$%s not set (eval \"$(scripts/postgres.sh start)\")", storetest.URLEnv)
			}
			fn(t, b, open)
		})
	}
}

// noteConfig is the production River configuration with the note worker.
func noteConfig(t *testing.T, w *noteWorker) *river.Config {
	rc, err := clientConfig(nil, QueueConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	rc.Workers = workers
	rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
	return rc
}

func startQueue(t *testing.T, q *Queue) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("stopping the queue: %v", err)
		}
	})
}

func jobCount(t *testing.T, db *store.DB, kind string) int {
	t.Helper()
	var n int
	// No placeholders: the same text runs on both dialects.
	if err := db.Write.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM river_job WHERE kind = '`+kind+`'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var errRollback = errors.New("roll back")

// A job inserted on the store's transaction exists if and only if that
// transaction commits, and a committed job is worked once.
func TestQueueJobInTransaction(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, b queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		w := newNoteWorker()
		q := b.queue(t, db, noteConfig(t, w))
		startQueue(t, q)
		insert := func(id string) func(*sql.Tx) error {
			return func(tx *sql.Tx) error {
				_, err := q.client.InsertTx(ctx, tx, noteArgs{ID: id}, nil)
				return err
			}
		}

		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			if err := insert("rolled-back")(tx); err != nil {
				return err
			}
			return errRollback
		}); err != errRollback {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, insert("committed")); err != nil {
			t.Fatal(err)
		}

		// With a transcript, through CreateTranscript's callback.
		acct, svc := newAccountAndService(t, db)
		tr := func() *convoseal.Transcript {
			return &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID, Channel: []byte(`{}`)}
		}
		ok := tr()
		if err := db.CreateTranscript(ctx, ok, nil, insert("with-transcript")); err != nil {
			t.Fatal(err)
		}
		failed := tr()
		if err := db.CreateTranscript(ctx, failed, nil, func(tx *sql.Tx) error {
			if err := insert("failed-transcript")(tx); err != nil {
				return err
			}
			return errRollback
		}); err != errRollback {
			t.Fatal(err)
		}
		dup := tr()
		dup.SID = ok.SID // the transcript's insert fails: its job never exists
		if err := db.CreateTranscript(ctx, dup, nil, insert("duplicate-transcript")); err == nil {
			t.Fatal("duplicate transcript created")
		}

		w.waitFor(t, "committed", "with-transcript")
		time.Sleep(500 * time.Millisecond) // time for a wrong second run to show
		for id, want := range map[string]int{"committed": 1, "with-transcript": 1, "rolled-back": 0, "failed-transcript": 0, "duplicate-transcript": 0} {
			if got := w.count(id); got != want {
				t.Errorf("job %q ran %d times, want %d", id, got, want)
			}
		}
		if n := jobCount(t, db, "test_note"); n != 2 {
			t.Errorf("%d note jobs in river_job, want 2", n)
		}
		if _, err := db.GetTranscript(ctx, acct.SID, failed.SID); !errors.Is(err, convoseal.ErrNotFound) {
			t.Errorf("transcript of the rolled-back job: %v", err)
		}
	})
}

// The production queue's EnqueueTx and NotifyTx insert on the store's
// transaction.
func TestQueueEnqueueAndNotify(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, b queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		q := b.real(t, db)
		acct := &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), FriendlyName: "a", AuthTokenHash: []byte("h")}
		if err := db.CreateAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: acct.SID, UniqueName: "s", LanguageCode: "en-US",
			WebhookURL: "https://example.com/hook", WebhookHTTPMethod: "POST"}
		if err := db.CreateService(ctx, svc); err != nil {
			t.Fatal(err)
		}
		var trs []*convoseal.Transcript
		for i := range 3 {
			tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID, Channel: []byte(`{}`)}
			err := db.CreateTranscript(ctx, tr, nil, func(tx *sql.Tx) error {
				if err := q.EnqueueTx(ctx, tx, tr.SID); err != nil {
					return err
				}
				if i == 1 {
					return errRollback
				}
				return nil
			})
			if (err != nil) != (i == 1) {
				t.Fatalf("transcript %d: %v", i, err)
			}
			trs = append(trs, tr)
		}
		if n := jobCount(t, db, "transcribe"); n != 2 {
			t.Fatalf("%d transcribe jobs, want 2", n)
		}
		notify := func(tr *convoseal.Transcript, status string) func(*sql.Tx) error {
			return func(tx *sql.Tx) error { return q.NotifyTx(ctx, tx, tr, status) }
		}
		if err := db.FailTranscript(ctx, trs[0].SID, "x", notify(trs[0], convoseal.StatusFailed)); err != nil {
			t.Fatal(err)
		}
		if err := db.FailTranscript(ctx, trs[0].SID, "x", notify(trs[0], convoseal.StatusFailed)); err != nil { // no change, no event
			t.Fatal(err)
		}
		if ok, err := db.CompleteTranscript(ctx, trs[2].SID, 1, nil, func(tx *sql.Tx) error {
			if err := notify(trs[2], convoseal.StatusCompleted)(tx); err != nil {
				return err
			}
			return errRollback
		}); err != errRollback || !ok {
			t.Fatalf("CompleteTranscript = %v, %v", ok, err)
		}
		if n := jobCount(t, db, "webhook"); n != 1 {
			t.Fatalf("%d webhook jobs, want 1", n)
		}
	})
}

// Several processes (pools) on one PostgreSQL database: they migrate
// together, pick up jobs on notifications, and work each job exactly once.
func TestPostgresQueueManyProcesses(t *testing.T) {
	url, ok := storetest.PostgresURL(t)
	if !ok {
		t.Skipf("$%s not set", storetest.URLEnv)
	}
	// Poll too rarely to matter: the jobs must be fetched on the insert
	// notifications that every process's LISTEN connection receives.
	saved := listenPollInterval
	listenPollInterval = 10 * time.Minute
	t.Cleanup(func() { listenPollInterval = saved })
	ctx := context.Background()
	const procs, jobs = 3, 30
	dbs := make([]*store.DB, procs)
	queues := make([]*Queue, procs)
	errs := make([]error, procs)
	w := newNoteWorker()
	configs := make([]*river.Config, procs)
	for i := range procs {
		configs[i] = noteConfig(t, w)
	}
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if dbs[i], errs[i] = store.OpenPostgres(ctx, url); errs[i] != nil {
				return
			}
			queues[i], errs[i] = newPostgresQueue(ctx, dbs[i].Write, configs[i], nil)
		}()
	}
	wg.Wait()
	for i := range procs {
		if dbs[i] != nil {
			t.Cleanup(func() { dbs[i].Close() })
		}
		if errs[i] != nil {
			t.Fatalf("process %d: %v", i, errs[i])
		}
		startQueue(t, queues[i])
	}
	// River sends at most one insert notification per client and queue per
	// FetchCooldown (a later insert in that window relies on the poll), so
	// the inserts are spaced wider than that.
	spacing := 2 * configs[0].FetchCooldown
	var ids []string
	for j := range jobs {
		time.Sleep(spacing)
		id := fmt.Sprint("job-", j)
		ids = append(ids, id)
		q, db := queues[j%procs], dbs[(j+1)%procs] // any process's client inserts on any pool's transaction
		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := q.client.InsertTx(ctx, tx, noteArgs{ID: id}, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	w.waitFor(t, ids...)
	time.Sleep(500 * time.Millisecond)
	for _, id := range ids {
		if n := w.count(id); n != 1 {
			t.Errorf("%s ran %d times", id, n)
		}
	}
}

// The production constructor with workers: it starts (with its LISTEN
// connection) and stops cleanly.
func TestPostgresQueueStartStop(t *testing.T) {
	url, ok := storetest.PostgresURL(t)
	if !ok {
		t.Skipf("$%s not set", storetest.URLEnv)
	}
	db := openStore(t, func(ctx context.Context) (*store.DB, error) { return store.OpenPostgres(ctx, url) })
	q, err := NewPostgresQueue(context.Background(), db.Write, &Pipeline{DB: db}, QueueConfig{Workers: 2, Solo: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.solo || q.onStop == nil {
		t.Fatalf("solo %v, listener %v: want a shared queue with a LISTEN connection", q.solo, q.onStop != nil)
	}
	startQueue(t, q)
}

// TestPostgresRescuesDeadWorkersJobs: a job left running by a worker whose
// liveness lock is free (its process died) runs again at once, long before
// River's rescuer would; a job of a worker that holds its lock is left alone
// until that worker's session ends.
func TestPostgresRescuesDeadWorkersJobs(t *testing.T) {
	url, ok := storetest.PostgresURL(t)
	if !ok {
		t.Skipf("$%s not set", storetest.URLEnv)
	}
	defer func(d time.Duration) { rescueInterval = d }(rescueInterval)
	rescueInterval = 200 * time.Millisecond
	ctx := context.Background()
	db := openStore(t, func(ctx context.Context) (*store.DB, error) { return store.OpenPostgres(ctx, url) })
	w := newNoteWorker()
	q, err := newPostgresQueue(ctx, db.Write, noteConfig(t, w), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"dead", "live"} {
		if _, err := q.client.Insert(ctx, noteArgs{ID: id}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
			attempted_by = ARRAY[$1] WHERE args->>'id' = $2`, id+"-worker", id); err != nil {
			t.Fatal(err)
		}
	}
	live, err := db.Write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext('live-worker'))`, livenessLockSpace); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	startQueue(t, q)
	w.waitFor(t, "dead")
	t.Logf("dead worker's job ran again after %v", time.Since(began).Round(time.Millisecond))
	time.Sleep(3 * rescueInterval)
	var state string
	if err := db.Write.QueryRowContext(ctx, `SELECT state FROM river_job WHERE args->>'id' = 'live'`).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "running" || w.count("live") != 0 {
		t.Fatalf("a live worker's job was taken: state %s, ran %d times", state, w.count("live"))
	}
	live.Raw(func(any) error { return driver.ErrBadConn }) // the "live" worker's session ends
	live.Close()
	w.waitFor(t, "live")
	if w.count("dead") != 1 || w.count("live") != 1 {
		t.Fatalf("runs: dead %d, live %d; want 1 each", w.count("dead"), w.count("live"))
	}
}
