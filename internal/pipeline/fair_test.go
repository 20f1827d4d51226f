package pipeline

import (
	"context"
	"database/sql"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
)

func TestAccountSlots(t *testing.T) {
	s := newAccountSlots(2)
	r1, b1 := s.acquire("ACa")
	r2, b2 := s.acquire("ACa")
	if b1 || b2 {
		t.Fatal("an account's first two jobs are its share, not borrowed")
	}
	r3, b3 := s.acquire("ACa")
	if !b3 {
		t.Fatal("a third job of the account is not marked borrowed")
	}
	rb, bb := s.acquire("ACb")
	if bb {
		t.Fatal("another account's first job is borrowed")
	}
	r1()
	r1() // releasing twice frees one slot only
	r3()
	r4, b4 := s.acquire("ACa")
	if b4 {
		t.Fatal("a released share slot is not reusable")
	}
	if _, b := s.acquire("ACa"); !b {
		t.Fatal("a double release freed two slots")
	}
	r2()
	r4()
	rb()
	if s.running["ACb"] != 0 || s.running["ACa"] != 1 {
		t.Errorf("running = %v", s.running)
	}
}

func TestDefaultAccountWorkers(t *testing.T) {
	for workers, want := range map[int]int{0: 1, 1: 1, 2: 1, 4: 2, 5: 2, 16: 8} {
		if got := DefaultAccountWorkers(workers); got != want {
			t.Errorf("DefaultAccountWorkers(%d) = %d, want %d", workers, got, want)
		}
	}
}

// A quiet account's transcript is enqueued ahead of another account's
// backlog: job priority falls as the account's queued transcripts grow.
func TestEnqueuePriorityByBacklog(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, b queueBackend, open func() *store.DB) {
		ctx := context.Background()
		db := open()
		q := b.real(t, db)
		enqueue := func(name string, n int) []int {
			acct := &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), FriendlyName: name, AuthTokenHash: []byte("h")}
			if err := db.CreateAccount(ctx, acct); err != nil {
				t.Fatal(err)
			}
			svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: acct.SID, UniqueName: name, LanguageCode: "en-US"}
			if err := db.CreateService(ctx, svc); err != nil {
				t.Fatal(err)
			}
			var prios []int
			for range n {
				tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID, Channel: []byte(`{}`)}
				if err := db.CreateTranscript(ctx, tr, nil, func(tx *sql.Tx) error { return q.EnqueueTx(ctx, tx, tr.SID) }); err != nil {
					t.Fatal(err)
				}
				var p int
				if err := db.Write.QueryRowContext(ctx, `SELECT priority FROM river_job WHERE args->>'transcript_sid' = '`+tr.SID+`'`).Scan(&p); err != nil {
					t.Fatal(err)
				}
				prios = append(prios, p)
			}
			return prios
		}
		flood := enqueue("flood", 45)
		quiet := enqueue("quiet", 1)
		if flood[0] != 1 || flood[3] != 1 || flood[4] != 2 || flood[44] != 3 {
			t.Errorf("flood priorities %v: want 1 for the first 4, then 2, then 3 past 40", flood)
		}
		if quiet[0] != 1 {
			t.Errorf("quiet account's priority %d, want 1", quiet[0])
		}
	})
}
