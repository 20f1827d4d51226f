package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// deleteRace is a blob store that holds the pipeline's first Put until the
// first DeletePrefix (the deletion's) has removed what it found, and holds
// that DeletePrefix until the pipeline has finished: the interleaving in which
// a deletion's blob removal runs between the pipeline's writes and its
// completion.
type deleteRace struct {
	blob.Store
	putOnce, delOnce sync.Once
	putReached       chan struct{} // closed when the first Put starts
	deleted          chan struct{} // closed when the first DeletePrefix has deleted
	processed        chan struct{} // closed by the test when Process has returned
}

func newDeleteRace(s blob.Store) *deleteRace {
	return &deleteRace{Store: s, putReached: make(chan struct{}), deleted: make(chan struct{}), processed: make(chan struct{})}
}

func (d *deleteRace) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	first := false
	d.putOnce.Do(func() { first = true })
	if first {
		close(d.putReached)
		select {
		case <-d.deleted:
		case <-time.After(10 * time.Second): // the deletion never removed blobs: go on
		}
	}
	return d.Store.Put(ctx, key, body, meta)
}

func (d *deleteRace) DeletePrefix(ctx context.Context, prefix string) error {
	first := false
	d.delOnce.Do(func() { first = true })
	err := d.Store.DeletePrefix(ctx, prefix)
	if first {
		close(d.deleted)
		select {
		case <-d.processed:
		case <-time.After(10 * time.Second):
		}
	}
	return err
}

// raceFixture is a pipeline on a local blob store with an account whose
// Service keeps data-logging copies.
type raceFixture struct {
	db    *store.DB
	local *blob.Local
	p     *Pipeline
	acct  *convoseal.Account
	svc   *convoseal.Service
	kek   *seal.KEK
}

func newRaceFixture(t *testing.T, db *store.DB) *raceFixture {
	t.Helper()
	p, local, kek := newTestPipeline(t, db)
	acct, svc := newAccountAndService(t, db)
	if _, err := db.SetDataLogging(context.Background(), svc.SID, true); err != nil {
		t.Fatal(err)
	}
	return &raceFixture{db: db, local: local, p: p, acct: acct, svc: svc, kek: kek}
}

// create queues a transcript with an inline source.
func (f *raceFixture) create(t *testing.T) *convoseal.Transcript {
	t.Helper()
	doc, _ := json.Marshal(map[string]any{"sentences": []map[string]any{{"media_channel": 1, "start_time": 0, "end_time": 1, "transcript": "hello"}}})
	body, env, err := seal.Seal(f.kek, EncodeSource(&media.Media{ContentType: "application/json", Data: doc}))
	if err != nil {
		t.Fatal(err)
	}
	tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: f.acct.SID, ServiceSID: f.svc.SID,
		Channel: []byte(`{}`), MediaURL: SealedSourceURL}
	if err := f.db.CreateTranscript(context.Background(), tr, &store.SealedSource{Body: body, Metadata: env.Metadata()}, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return tr
}

// left returns the objects of a transcript still in the store.
func (f *raceFixture) left(t *testing.T, tr *convoseal.Transcript) []string {
	t.Helper()
	var keys []string
	for _, prefix := range []string{TranscriptPrefix(tr.AccountSID, tr.SID), DataLoggingPrefix(tr.AccountSID, tr.SID)} {
		k, err := f.local.List(context.Background(), prefix)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k...)
	}
	return keys
}

// TestDeleteRacingCompletion: deleting a transcript while the pipeline
// completes it leaves none of its objects, whatever the interleaving. First
// the interleaving that used to orphan them (the deletion removes the blobs,
// the pipeline writes its artifacts and completes, the deletion removes the
// rows), then many free races.
func TestDeleteRacingCompletion(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		ctx := context.Background()
		f := newRaceFixture(t, open())
		log := f.p.Log

		tr := f.create(t)
		race := newDeleteRace(f.local)
		p := *f.p
		p.Blobs = race
		processErr := make(chan error, 1)
		go func() { processErr <- p.Process(ctx, tr.SID) }()
		<-race.putReached
		deleteErr := make(chan error, 1)
		go func() { deleteErr <- DeleteTranscript(ctx, f.db, race, log, tr.AccountSID, tr.SID) }()
		if err := <-processErr; err != nil {
			t.Errorf("Process: %v", err)
		}
		close(race.processed)
		if err := <-deleteErr; err != nil {
			t.Fatalf("DeleteTranscript: %v", err)
		}
		if _, err := f.db.GetTranscript(ctx, tr.AccountSID, tr.SID); !errors.Is(err, convoseal.ErrNotFound) {
			t.Errorf("the transcript is still there: %v", err)
		}
		if left := f.left(t, tr); len(left) != 0 {
			t.Errorf("objects of the deleted transcript left behind: %v", left)
		}

		// Free races: the deletion starts with the job.
		const rounds = 30
		for i := range rounds {
			tr := f.create(t)
			var wg sync.WaitGroup
			wg.Go(func() {
				if err := f.p.Process(ctx, tr.SID); err != nil {
					t.Errorf("Process: %v", err)
				}
			})
			wg.Go(func() {
				if i%2 == 1 {
					time.Sleep(time.Duration(i) * 200 * time.Microsecond)
				}
				if err := DeleteTranscript(ctx, f.db, f.local, log, tr.AccountSID, tr.SID); err != nil {
					t.Errorf("DeleteTranscript: %v", err)
				}
			})
			wg.Wait()
			if left := f.left(t, tr); len(left) != 0 {
				t.Errorf("round %d: objects of the deleted transcript left behind: %v", i, left)
			}
		}
	})
}

// cutShort is a blob store whose first Put comes after a deletion of the
// transcript (rows, then the objects it found: none yet) and is followed by
// the attempt being cancelled: the job is cut short after writing, and its
// retry would find the transcript gone.
type cutShort struct {
	blob.Store
	puts          int
	before, after func()
}

func (c *cutShort) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	c.puts++
	if c.puts != 1 {
		return c.Store.Put(ctx, key, body, meta)
	}
	c.before()
	err := c.Store.Put(context.WithoutCancel(ctx), key, body, meta)
	c.after()
	return err
}

// TestAttemptCutShortAfterDeletion: an attempt cancelled (shutdown, timeout,
// a worker given back) after its transcript was deleted removes the objects
// it wrote after the deletion had looked for them.
func TestAttemptCutShortAfterDeletion(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		f := newRaceFixture(t, open())
		tr := f.create(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := *f.p
		p.Blobs = &cutShort{Store: f.local, before: func() {
			if err := DeleteTranscript(context.Background(), f.db, f.local, f.p.Log, tr.AccountSID, tr.SID); err != nil {
				t.Errorf("DeleteTranscript: %v", err)
			}
		}, after: cancel}
		if err := p.Process(ctx, tr.SID); err == nil {
			t.Error("Process of a cancelled attempt returned nil")
		}
		if left := f.left(t, tr); len(left) != 0 {
			t.Errorf("objects of the deleted transcript left behind: %v", left)
		}
	})
}
