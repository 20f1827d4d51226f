package pipeline

import (
	"context"
	"database/sql"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
)

// TestSweepOrphans: a transcript whose job River discarded (its attempts ran
// out, e.g. its workers kept being killed) gets a new job; after maxLostJobs
// such losses it fails instead of looping.
func TestSweepOrphans(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, b queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		q := b.real(t, db)
		p := &Pipeline{DB: db, Log: discardLog()}
		acct, svc := newAccountAndService(t, db)
		tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID, Channel: []byte(`{}`)}
		if err := db.CreateTranscript(ctx, tr, nil, func(tx *sql.Tx) error { return q.EnqueueTx(ctx, tx, tr.SID) }); err != nil {
			t.Fatal(err)
		}
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.Write.ExecContext(ctx, rebindFor(db.Dialect(), query), args...); err != nil {
				t.Fatal(err)
			}
		}
		age := func() {
			exec(`UPDATE transcripts SET date_updated = '2000-01-01T00:00:00.000000Z' WHERE sid = ?`, tr.SID)
		}
		discard := func() {
			exec(`UPDATE river_job SET state = 'discarded', finalized_at = CURRENT_TIMESTAMP WHERE kind = 'transcribe'`)
		}

		// A live job: nothing to do, however old the transcript.
		age()
		if n, err := q.SweepOrphans(ctx, p); err != nil || n != 0 {
			t.Fatalf("sweep with a live job: %d, %v", n, err)
		}
		for lost := 1; lost < maxLostJobs; lost++ {
			discard()
			age()
			if n, err := q.SweepOrphans(ctx, p); err != nil || n != 1 {
				t.Fatalf("sweep after %d lost jobs: %d, %v", lost, n, err)
			}
			if live := jobCount(t, db, "transcribe"); live != lost+1 {
				t.Fatalf("%d transcribe jobs after requeue %d, want %d", live, lost, lost+1)
			}
		}
		discard()
		age()
		if n, err := q.SweepOrphans(ctx, p); err != nil || n != 1 {
			t.Fatalf("final sweep: %d, %v", n, err)
		}
		got, err := db.TranscriptForJob(ctx, tr.SID)
		if err != nil || got.Status != convoseal.StatusFailed || got.FailureReason == "" {
			t.Fatalf("after %d lost jobs: %+v, %v", maxLostJobs, got, err)
		}
		// A fresh transcript is left alone (its job may just have been
		// inserted by another process).
		if n, err := q.SweepOrphans(ctx, p); err != nil || n != 0 {
			t.Fatalf("sweep after failing: %d, %v", n, err)
		}
	})
}

// newAccountAndService makes an account and a Service of it in db.
func newAccountAndService(t *testing.T, db *store.DB) (*convoseal.Account, *convoseal.Service) {
	t.Helper()
	ctx := context.Background()
	acct := &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), FriendlyName: "a", AuthTokenHash: []byte("h")}
	if err := db.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: acct.SID, UniqueName: "s", LanguageCode: "en-US", WebhookHTTPMethod: "POST"}
	if err := db.CreateService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	return acct, svc
}
