package store

import (
	"context"
	"sync"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store/storetest"
)

// TestCreateFirstAccountConcurrent: processes starting together on one empty
// database (each with its own pool, as separate processes have) race to make
// the first account; exactly one does, and the others see it was made.
func TestCreateFirstAccountConcurrent(t *testing.T) {
	const racers = 8
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			open, ok := b.fresh(t)
			if !ok {
				t.Skipf("$%s not set (eval \"$(scripts/postgres.sh start)\")", storetest.URLEnv)
			}
			dbs := make([]*DB, racers)
			for i := range dbs {
				dbs[i] = mustOpen(t, open)
			}
			accts := make([]*convoseal.Account, racers)
			created := make([]bool, racers)
			errs := make([]error, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range dbs {
				accts[i] = &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), FriendlyName: "first account", AuthTokenHash: []byte("hash"), AuthTokenSealed: "sealed"}
				wg.Go(func() {
					<-start
					created[i], errs[i] = dbs[i].CreateFirstAccount(context.Background(), accts[i])
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i := range dbs {
				must(t, errs[i])
				if created[i] {
					if winner >= 0 {
						t.Fatalf("racers %d and %d both created a first account", winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatal("no racer created the first account")
			}
			list, err := dbs[0].ListAccounts(ctx)
			must(t, err)
			if len(list) != 1 || list[0].SID != accts[winner].SID {
				t.Fatalf("accounts %+v, want only %s", list, accts[winner].SID)
			}
			if accts[winner].DateCreated.IsZero() {
				t.Fatal("DateCreated not set on the created account")
			}

			// Later calls find the account and do nothing.
			again := &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), AuthTokenHash: []byte("h"), AuthTokenSealed: "s"}
			if ok, err := dbs[1].CreateFirstAccount(ctx, again); err != nil || ok {
				t.Fatalf("CreateFirstAccount on a database with an account = %v, %v", ok, err)
			}
			if n, err := dbs[1].CountAccounts(ctx); err != nil || n != 1 {
				t.Fatalf("CountAccounts = %d, %v", n, err)
			}
		})
	}
}

func TestAppliedMigrations(t *testing.T) {
	known := KnownMigrations()
	if len(known) < 2 || known[0].Version != 1 || known[0].Name != "0001_init" {
		t.Fatalf("KnownMigrations = %+v", known)
	}
	forEachBackend(t, func(t *testing.T, db *DB) {
		applied, err := db.AppliedMigrations(ctx)
		must(t, err)
		if len(applied) != len(known) {
			t.Fatalf("applied %+v, known %+v", applied, known)
		}
		for i, m := range applied {
			if m.Version != known[i].Version || m.Name != known[i].Name || m.Applied.IsZero() {
				t.Fatalf("applied[%d] = %+v, want version %d %s with a time", i, m, known[i].Version, known[i].Name)
			}
		}
	})
}
