package pipeline

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/store"
)

// agedStore reports some objects as written an hour earlier than they were.
type agedStore struct {
	blob.Store
	aged map[string]bool // keys
}

func (a *agedStore) Walk(ctx context.Context, prefix string, fn func(blob.ObjectInfo) error) error {
	return a.Store.Walk(ctx, prefix, func(o blob.ObjectInfo) error {
		if a.aged[o.Key] {
			o.Modified = o.Modified.Add(-time.Hour)
		}
		return fn(o)
	})
}

// TestSweepBlobs: the sweep deletes the objects (artifacts, an earlier
// version's sealed source, data-logging copies) of transcripts that no
// longer exist once they are older than the grace period, and keeps those of
// live transcripts, young orphans (a transcript being created) and keys that
// are not a transcript's.
func TestSweepBlobs(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		local := newTestBlobs(t)
		acct, svc := newAccountAndService(t, db)
		aged := &agedStore{Store: local, aged: map[string]bool{}}
		p := &Pipeline{DB: db, Blobs: aged, Log: discardLog()}

		objects := func(sid string) []string {
			return []string{
				SentencesKey(acct.SID, sid, false), SentencesKey(acct.SID, sid, true),
				OperatorResultKey(acct.SID, sid, "LY"+sid[2:], false),
				SourceKey(acct.SID, sid),
				DataLoggingPrefix(acct.SID, sid) + "sentences/unredacted",
			}
		}
		put := func(keys ...string) {
			for _, k := range keys {
				if err := local.Put(ctx, k, []byte("sealed"), nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		age := func(keys ...string) {
			for _, k := range keys {
				aged.aged[k] = true
			}
		}
		var want []string // what must survive
		// Live transcripts (more than one existence-check batch), old.
		for range 5 {
			tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID, Channel: []byte(`{}`)}
			if err := db.CreateTranscript(ctx, tr, nil, func(*sql.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			put(objects(tr.SID)...)
			want = append(want, objects(tr.SID)...)
			age(objects(tr.SID)...)
		}
		// Old orphans: swept, with their data-logging copies.
		var orphans []string
		for range 3 {
			sid := convoseal.NewSID(convoseal.PrefixTranscript)
			put(objects(sid)...)
			age(objects(sid)...)
			orphans = append(orphans, sid)
		}
		// An old data-logging copy alone.
		dlOnly := convoseal.NewSID(convoseal.PrefixTranscript)
		put(DataLoggingPrefix(acct.SID, dlOnly) + "sentences/redacted")
		age(DataLoggingPrefix(acct.SID, dlOnly) + "sentences/redacted")
		// A young orphan: kept.
		young := convoseal.NewSID(convoseal.PrefixTranscript)
		put(objects(young)...)
		want = append(want, objects(young)...)
		// An orphan with one young object among old ones: that prefix is
		// kept whole.
		mixed := convoseal.NewSID(convoseal.PrefixTranscript)
		put(objects(mixed)...)
		age(objects(mixed)[1:]...)
		want = append(want, objects(mixed)[:4]...) // its data-logging copy is old, and alone in its prefix
		// Not a transcript's: kept.
		other := []string{acct.SID + "/notes", "datalogging/x/y/z", "misc/" + acct.SID + "/" + orphans[0] + "/x"}
		put(other...)
		want = append(want, other...)

		defer func(n int) { sweepBatch = n }(sweepBatch)
		sweepBatch = 2
		n, err := p.SweepBlobs(ctx, time.Now().Add(-BlobSweepGrace))
		if err != nil {
			t.Fatal(err)
		}
		// Each old orphan's two prefixes, the lone data-logging copy, and the
		// mixed orphan's data-logging prefix.
		if wantSwept := 2*len(orphans) + 1 + 1; n != wantSwept {
			t.Errorf("SweepBlobs deleted %d prefixes, want %d", n, wantSwept)
		}
		got, err := local.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("after the sweep:\n got %q\nwant %q", got, want)
		}
		// Nothing more to do.
		if n, err := p.SweepBlobs(ctx, time.Now().Add(-BlobSweepGrace)); err != nil || n != 0 {
			t.Errorf("second sweep: %d, %v", n, err)
		}
	})
}

// TestSweepBlobsOneProcessAtATime: on PostgreSQL a process whose peer holds
// the sweep lock skips the round.
func TestSweepBlobsOneProcessAtATime(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, b queueBackend, open func() *store.DB) {
		if b.name != store.DialectPostgres {
			t.Skip("the lock is PostgreSQL's")
		}
		ctx := context.Background()
		db := open()
		local := newTestBlobs(t)
		acct, _ := newAccountAndService(t, db)
		key := SentencesKey(acct.SID, convoseal.NewSID(convoseal.PrefixTranscript), false)
		if err := local.Put(ctx, key, []byte("sealed"), nil); err != nil {
			t.Fatal(err)
		}
		p := &Pipeline{DB: db, Blobs: &agedStore{Store: local, aged: map[string]bool{key: true}}, Log: discardLog()}

		peer, err := open().Write.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		if _, err := peer.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, blobSweepLockSpace, blobSweepLockKey); err != nil {
			t.Fatal(err)
		}
		if n, err := p.sweepBlobsLocked(ctx); err != nil || n != 0 {
			t.Fatalf("sweep while a peer sweeps: %d, %v", n, err)
		}
		if _, err := peer.ExecContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, blobSweepLockSpace, blobSweepLockKey); err != nil {
			t.Fatal(err)
		}
		if n, err := p.sweepBlobsLocked(ctx); err != nil || n != 1 {
			t.Fatalf("sweep after the peer: %d, %v", n, err)
		}
		// The lock was released: the peer can take it again.
		var ok bool
		if err := peer.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, blobSweepLockSpace, blobSweepLockKey).Scan(&ok); err != nil || !ok {
			t.Fatalf("lock not released after the sweep: %v, %v", ok, err)
		}
	})
}
