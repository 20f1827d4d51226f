package store

import (
	"slices"
	"testing"

	"github.com/convoseal/convoseal"
)

// TestLanguageModel: a customer-key Service starts with the language model
// off and a server-key one with it on; only SetLanguageModel switches it;
// getting a new customer key switches it off; the start-up list names only
// customer-key Services that have it on.
func TestLanguageModel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		a := newAccount(t, db)
		k1, k2 := newKey(t, db, a.SID), newKey(t, db, a.SID)
		keyed := newService(t, db, a.SID, "keyed", k1.SID)
		plain := newService(t, db, a.SID, "plain", "")
		on := func(s *convoseal.Service) bool {
			t.Helper()
			got, err := db.ServiceLanguageModel(ctx, a.SID, s.SID)
			must(t, err)
			stored, err := db.GetService(ctx, a.SID, s.SID)
			must(t, err)
			if stored.LanguageModel != got {
				t.Fatalf("GetService says %v, ServiceLanguageModel %v", stored.LanguageModel, got)
			}
			return got
		}
		if on(keyed) || !on(plain) {
			t.Fatalf("defaults: customer key %v, server key %v", on(keyed), on(plain))
		}
		if l, err := db.LanguageModelServices(ctx); err != nil || len(l) != 0 {
			t.Fatalf("LanguageModelServices = %v, %v (server-key Services are not listed)", l, err)
		}
		s, err := db.SetLanguageModel(ctx, keyed.SID, true)
		must(t, err)
		if !s.LanguageModel || s.Version != 2 || !on(keyed) {
			t.Fatalf("SetLanguageModel = %+v", s)
		}
		if l, err := db.LanguageModelServices(ctx); err != nil || !slices.Equal(l, []string{keyed.SID}) {
			t.Fatalf("LanguageModelServices = %v, %v", l, err)
		}
		// Updates that keep the key keep the setting; a new key switches it off.
		_, err = db.UpdateService(ctx, a.SID, keyed.SID, 0, func(s *convoseal.Service) error { s.FriendlyName = "renamed"; return nil })
		must(t, err)
		if !on(keyed) {
			t.Fatal("an unrelated update switched the language model off")
		}
		for _, svc := range []*convoseal.Service{keyed, plain} {
			s, err := db.UpdateService(ctx, a.SID, svc.SID, 0, func(s *convoseal.Service) error { s.EncryptionCredentialSID = k2.SID; return nil })
			must(t, err)
			if s.LanguageModel || on(svc) {
				t.Fatalf("%s kept the language model on with a new customer key", svc.UniqueName)
			}
		}
		// Dropping the customer key does not switch it on.
		_, err = db.UpdateService(ctx, a.SID, plain.SID, 0, func(s *convoseal.Service) error { s.EncryptionCredentialSID = ""; return nil })
		must(t, err)
		if on(plain) {
			t.Fatal("dropping the customer key switched the language model on")
		}
		_, err = db.SetLanguageModel(ctx, convoseal.NewSID(convoseal.PrefixService), true)
		wantStatus(t, "unknown Service", err, 404)
		_, err = db.ServiceLanguageModel(ctx, convoseal.NewSID(convoseal.PrefixAccount), keyed.SID)
		wantStatus(t, "another account's Service", err, 404)
	})
}

// TestLanguageModelMigration: migration 0004 leaves existing Services as
// they behaved before it for server-key Services (on) and off for
// customer-key ones.
func TestLanguageModelMigration(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			open, ok := b.fresh(t)
			if !ok {
				t.Skip("backend not available")
			}
			db := mustOpen(t, open)
			a := newAccount(t, db)
			keyed := newService(t, db, a.SID, "keyed", newKey(t, db, a.SID).SID)
			plain := newService(t, db, a.SID, "plain", "")
			// Back to the schema before 0004, then open again.
			_, err := db.w.ExecContext(ctx, `ALTER TABLE services DROP COLUMN language_model`)
			must(t, err)
			_, err = db.w.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 4`)
			must(t, err)
			must(t, db.Close())
			db = mustOpen(t, open)
			for _, c := range []struct {
				s    *convoseal.Service
				want bool
			}{{keyed, false}, {plain, true}} {
				if got, err := db.ServiceLanguageModel(ctx, a.SID, c.s.SID); err != nil || got != c.want {
					t.Errorf("%s after the migration: %v, %v; want %v", c.s.UniqueName, got, err, c.want)
				}
			}
		})
	}
}
