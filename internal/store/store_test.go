package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store/storetest"
)

// backend makes fresh, empty databases of one dialect.
type backend struct {
	name string
	// fresh returns an opener for a new empty database (it may be opened
	// several times, concurrently); ok is false when the backend is not
	// available here (the caller skips).
	fresh func(t *testing.T) (open func(context.Context) (*DB, error), ok bool)
}

// backends is SQLite always, and PostgreSQL when $CONVOSEAL_TEST_DATABASE_URL
// is set (each database a schema of its own); with
// $CONVOSEAL_REQUIRE_POSTGRES=1 and no URL, the PostgreSQL half fails.
func backends() []backend {
	return []backend{
		{DialectSQLite, func(t *testing.T) (func(context.Context) (*DB, error), bool) {
			path := filepath.Join(t.TempDir(), "convoseal.db")
			return func(ctx context.Context) (*DB, error) { return OpenSQLite(ctx, path) }, true
		}},
		{DialectPostgres, func(t *testing.T) (func(context.Context) (*DB, error), bool) {
			url, ok := storetest.PostgresURL(t)
			return func(ctx context.Context) (*DB, error) { return OpenPostgres(ctx, url) }, ok
		}},
	}
}

// forEachBackend runs fn as a subtest on a fresh database of each backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			open, ok := b.fresh(t)
			if !ok {
				t.Skipf("$%s not set (eval \"$(scripts/postgres.sh start)\")", storetest.URLEnv)
			}
			db := mustOpen(t, open)
			if db.Dialect() != b.name {
				t.Fatalf("Dialect() = %q, want %q", db.Dialect(), b.name)
			}
			fn(t, db)
		})
	}
}

func mustOpen(t *testing.T, open func(context.Context) (*DB, error)) *DB {
	t.Helper()
	db, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// clock makes db.now return strictly increasing times, 1ms apart, so that
// ordering by date_created is deterministic.
func clock(db *DB) *time.Time {
	var mu sync.Mutex
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	db.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
	return &now
}

func status(err error) int {
	var e *convoseal.Error
	if errors.As(err, &e) {
		return e.Status
	}
	switch {
	case errors.Is(err, convoseal.ErrNotFound):
		return 404
	case errors.Is(err, convoseal.ErrConflict):
		return 409
	}
	return 0
}

func wantStatus(t *testing.T, what string, err error, want int) {
	t.Helper()
	if got := status(err); got != want {
		t.Fatalf("%s: err = %v (status %d), want status %d", what, err, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var ctx = context.Background()

func newAccount(t *testing.T, db *DB) *convoseal.Account {
	t.Helper()
	a := &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), FriendlyName: "acct", AuthTokenHash: []byte("hash"), AuthTokenSealed: "sealed"}
	must(t, db.CreateAccount(ctx, a))
	return a
}

func newKey(t *testing.T, db *DB, account string) *convoseal.PublicKey {
	t.Helper()
	k := &convoseal.PublicKey{SID: convoseal.NewSID(convoseal.PrefixPublicKey), AccountSID: account, FriendlyName: "key", PEM: "-----PEM-----", Fingerprint: "fp"}
	must(t, db.CreatePublicKey(ctx, k))
	return k
}

func newService(t *testing.T, db *DB, account, name, key string) *convoseal.Service {
	t.Helper()
	s := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: account, UniqueName: name, FriendlyName: "svc " + name,
		LanguageCode: "en-US", AutoTranscribe: true, AutoRedaction: true, MediaRedaction: false, DataLogging: false,
		WebhookURL: "https://example.com/hook", WebhookHTTPMethod: "POST", EncryptionCredentialSID: key}
	must(t, db.CreateService(ctx, s))
	return s
}

func noEnqueue(*sql.Tx) error { return nil }

func newTranscript(t *testing.T, db *DB, account, service string, edit func(*convoseal.Transcript)) *convoseal.Transcript {
	t.Helper()
	tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: account, ServiceSID: service,
		Channel: []byte(`{"media_properties":{"media_url":"https://example.com/a.wav"}}`), MediaURL: "https://example.com/a.wav", CustomerKey: "ck"}
	if edit != nil {
		edit(tr)
	}
	must(t, db.CreateTranscript(ctx, tr, nil, noEnqueue))
	return tr
}

func TestRebind(t *testing.T) {
	cases := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE x = ? AND y IN (?, ?) LIMIT ?`, `SELECT a FROM t WHERE x = $1 AND y IN ($2, $3) LIMIT $4`},
		{`SELECT '?' , ? , 'it''s ?', ?`, `SELECT '?' , $1 , 'it''s ?', $2`},
		{`SELECT "we?ird" FROM t WHERE a = ?`, `SELECT "we?ird" FROM t WHERE a = $1`},
		{"SELECT ? -- what?\n, ?", "SELECT $1 -- what?\n, $2"},
		{`SELECT /* a ? /* nested ? */ still ? */ ?`, `SELECT /* a ? /* nested ? */ still ? */ $1`},
		{`SELECT E'\'?' , ?`, `SELECT E'\'?' , $1`},
		{`SELECT 'a\' , ?`, `SELECT 'a\' , $1`}, // standard strings: backslash is literal
		{`SELECT $$ ? $$, $tag$ ? $ ? $tag$, ?`, `SELECT $$ ? $$, $tag$ ? $ ? $tag$, $1`},
		{`SELECT a$b, ?`, `SELECT a$b, $1`},
		{`SELECT 'unterminated ?`, `SELECT 'unterminated ?`},
		{`INSERT INTO t VALUES (?, NULL, ?) ON CONFLICT DO NOTHING`, `INSERT INTO t VALUES ($1, NULL, $2) ON CONFLICT DO NOTHING`},
	}
	for _, c := range cases {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	if got := rebind(strings.Repeat("?,", 12) + "?"); !strings.HasSuffix(got, "$12,$13") {
		t.Errorf("13 placeholders: %q", got)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			open, ok := b.fresh(t)
			if !ok {
				t.Skipf("$%s not set", storetest.URLEnv)
			}
			// Several processes starting at once on an empty PostgreSQL
			// database; SQLite has one process (Solo), so open it twice in turn.
			n := 4
			if b.name == DialectSQLite {
				n = 1
			}
			dbs := make([]*DB, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dbs[i], errs[i] = open(ctx)
				}()
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("concurrent open %d: %v", i, errs[i])
				}
				defer dbs[i].Close()
			}
			// And once more, after they are done.
			db := mustOpen(t, open)
			var versions, total int
			must(t, db.r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT version), COUNT(*) FROM schema_migrations`).Scan(&versions, &total))
			files, err := fs.Glob(migrations, "migrations/*.sql")
			must(t, err)
			if versions != total || versions != len(files) {
				t.Fatalf("schema_migrations: %d versions in %d rows, want %d in %d", versions, total, len(files), len(files))
			}
			a := newAccount(t, db)
			if _, err := dbs[0].GetAccount(ctx, a.SID); err != nil {
				t.Fatalf("another connection does not see the account: %v", err)
			}
			must(t, db.Ping(ctx))
		})
	}
}

func TestAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		clock(db)
		if n, err := db.CountAccounts(ctx); err != nil || n != 0 {
			t.Fatalf("CountAccounts on empty = %d, %v", n, err)
		}
		a := newAccount(t, db)
		b := newAccount(t, db)
		wantStatus(t, "duplicate account", db.CreateAccount(ctx, &convoseal.Account{SID: a.SID, FriendlyName: "x", AuthTokenHash: []byte("h")}), 409)
		got, err := db.GetAccount(ctx, a.SID)
		must(t, err)
		if got.FriendlyName != "acct" || string(got.AuthTokenHash) != "hash" || got.AuthTokenSealed != "sealed" || !got.DateCreated.Equal(a.DateCreated) {
			t.Fatalf("GetAccount = %+v, want %+v", got, a)
		}
		_, err = db.GetAccount(ctx, convoseal.NewSID(convoseal.PrefixAccount))
		wantStatus(t, "missing account", err, 404)
		list, err := db.ListAccounts(ctx)
		must(t, err)
		if len(list) != 2 || list[0].SID != a.SID || list[1].SID != b.SID {
			t.Fatalf("ListAccounts = %v", list)
		}
		if n, err := db.CountAccounts(ctx); err != nil || n != 2 {
			t.Fatalf("CountAccounts = %d, %v", n, err)
		}
		must(t, db.SetAuthToken(ctx, a.SID, []byte("hash2"), "sealed2"))
		got, _ = db.GetAccount(ctx, a.SID)
		if string(got.AuthTokenHash) != "hash2" || got.AuthTokenSealed != "sealed2" {
			t.Fatalf("after SetAuthToken: %+v", got)
		}
		wantStatus(t, "SetAuthToken on missing", db.SetAuthToken(ctx, convoseal.NewSID(convoseal.PrefixAccount), []byte("h"), ""), 404)
	})
}

func TestPublicKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		clock(db)
		a := newAccount(t, db)
		var keys []*convoseal.PublicKey
		for range 5 {
			keys = append(keys, newKey(t, db, a.SID))
		}
		k, err := db.GetPublicKey(ctx, a.SID, keys[0].SID)
		must(t, err)
		if k.PEM != "-----PEM-----" || k.Fingerprint != "fp" {
			t.Fatalf("GetPublicKey = %+v", k)
		}
		// Paging, newest first.
		var all []string
		p := Page{Size: 2}
		for {
			page, err := db.ListPublicKeys(ctx, a.SID, p)
			must(t, err)
			for _, k := range page {
				all = append(all, k.SID)
			}
			if len(page) < p.Size {
				break
			}
			last := page[len(page)-1]
			p.After = Cursor(last.DateCreated, last.SID)
		}
		if len(all) != 5 || all[0] != keys[4].SID || all[4] != keys[0].SID {
			t.Fatalf("paged keys = %v", all)
		}
		k, err = db.UpdatePublicKeyName(ctx, a.SID, keys[0].SID, "renamed")
		must(t, err)
		if k.FriendlyName != "renamed" || !k.DateUpdated.After(k.DateCreated) {
			t.Fatalf("UpdatePublicKeyName = %+v", k)
		}
		_, err = db.UpdatePublicKeyName(ctx, a.SID, convoseal.NewSID(convoseal.PrefixPublicKey), "x")
		wantStatus(t, "rename missing key", err, 404)

		// A key in use by a Service, or by a transcript not yet finished,
		// is not deleted.
		svc := newService(t, db, a.SID, "s", keys[1].SID)
		err = db.DeletePublicKey(ctx, a.SID, keys[1].SID)
		wantStatus(t, "delete key used by a Service", err, 409)
		if !strings.Contains(err.Error(), svc.SID) {
			t.Fatalf("conflict does not name the Service: %v", err)
		}
		tr := newTranscript(t, db, a.SID, svc.SID, nil)
		if tr.EncryptionCredentialSID != keys[1].SID {
			t.Fatalf("transcript key = %q, want the Service's", tr.EncryptionCredentialSID)
		}
		_, err = db.UpdateService(ctx, a.SID, svc.SID, 0, func(s *convoseal.Service) error { s.EncryptionCredentialSID = ""; return nil })
		must(t, err)
		err = db.DeletePublicKey(ctx, a.SID, keys[1].SID)
		wantStatus(t, "delete key of a queued transcript", err, 409)
		if !strings.Contains(err.Error(), tr.SID) {
			t.Fatalf("conflict does not name the transcript: %v", err)
		}
		ok, err := db.CompleteTranscript(ctx, tr.SID, 1, nil, nil)
		if err != nil || !ok {
			t.Fatalf("CompleteTranscript = %v, %v", ok, err)
		}
		must(t, db.DeletePublicKey(ctx, a.SID, keys[1].SID))
		_, err = db.GetPublicKey(ctx, a.SID, keys[1].SID)
		wantStatus(t, "deleted key", err, 404)
		wantStatus(t, "delete again", db.DeletePublicKey(ctx, a.SID, keys[1].SID), 404)
	})
}

func TestServices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		clock(db)
		a, b := newAccount(t, db), newAccount(t, db)
		key := newKey(t, db, a.SID)
		s1 := newService(t, db, a.SID, "one", key.SID)
		s2 := newService(t, db, a.SID, "two", "")
		newService(t, db, b.SID, "one", "") // names are unique per account only

		dup := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: a.SID, UniqueName: "one", LanguageCode: "en-US", WebhookHTTPMethod: "POST"}
		wantStatus(t, "duplicate UniqueName", db.CreateService(ctx, dup), 409)
		bad := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: b.SID, UniqueName: "k", LanguageCode: "en-US", WebhookHTTPMethod: "POST", EncryptionCredentialSID: key.SID}
		wantStatus(t, "another account's key", db.CreateService(ctx, bad), 400)

		got, err := db.GetService(ctx, a.SID, s1.SID)
		must(t, err)
		if got.UniqueName != "one" || !got.AutoTranscribe || !got.AutoRedaction || got.MediaRedaction || got.DataLogging ||
			got.EncryptionCredentialSID != key.SID || got.Version != 1 || len(got.OperatorSIDs) != 0 || got.WebhookURL != "https://example.com/hook" {
			t.Fatalf("GetService = %+v", got)
		}
		got, _ = db.GetService(ctx, a.SID, s2.SID)
		if got.EncryptionCredentialSID != "" {
			t.Fatalf("no key came back as %q", got.EncryptionCredentialSID)
		}
		list, err := db.ListServices(ctx, a.SID, Page{Size: 10})
		must(t, err)
		if len(list) != 2 || list[0].SID != s2.SID || list[1].SID != s1.SID {
			t.Fatalf("ListServices = %v", list)
		}

		// If-Match.
		_, err = db.UpdateService(ctx, a.SID, s1.SID, 7, func(*convoseal.Service) error { return nil })
		wantStatus(t, "If-Match mismatch", err, 412)
		u, err := db.UpdateService(ctx, a.SID, s1.SID, 1, func(s *convoseal.Service) error {
			s.FriendlyName, s.MediaRedaction, s.AutoTranscribe = "renamed", true, false
			return nil
		})
		must(t, err)
		if u.Version != 2 || u.FriendlyName != "renamed" {
			t.Fatalf("UpdateService = %+v", u)
		}
		got, _ = db.GetService(ctx, a.SID, s1.SID)
		if got.Version != 2 || got.FriendlyName != "renamed" || !got.MediaRedaction || got.AutoTranscribe {
			t.Fatalf("after update: %+v", got)
		}
		_, err = db.UpdateService(ctx, a.SID, s1.SID, 0, func(s *convoseal.Service) error { s.UniqueName = "two"; return nil })
		wantStatus(t, "rename to a taken UniqueName", err, 409)
		_, err = db.UpdateService(ctx, a.SID, s1.SID, 0, func(s *convoseal.Service) error { s.EncryptionCredentialSID = convoseal.NewSID("CR"); return nil })
		wantStatus(t, "unknown key", err, 400)
		fnErr := convoseal.Invalidf("nope")
		_, err = db.UpdateService(ctx, a.SID, s1.SID, 0, func(*convoseal.Service) error { return fnErr })
		if err != fnErr {
			t.Fatalf("fn's error = %v", err)
		}
		got, _ = db.GetService(ctx, a.SID, s1.SID)
		if got.Version != 2 || got.UniqueName != "one" {
			t.Fatalf("failed updates changed the Service: %+v", got)
		}

		// Concurrent updates at the same If-Match version: exactly one wins.
		// Each racer, having read the Service, waits (up to a limit) for the
		// others to have read it too: without row locks they all would, and
		// all would write.
		const racers = 6
		var wins, lost, arrived atomic.Int32
		allRead := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.UpdateService(ctx, a.SID, s1.SID, 2, func(s *convoseal.Service) error {
					if arrived.Add(1) == racers {
						close(allRead)
					}
					select {
					case <-allRead:
					case <-time.After(300 * time.Millisecond):
					}
					s.FriendlyName = fmt.Sprint("racer ", i)
					return nil
				})
				switch status(err) {
				case 0:
					if err == nil {
						wins.Add(1)
						return
					}
					t.Errorf("racer %d: %v", i, err)
				case 412:
					lost.Add(1)
				default:
					t.Errorf("racer %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || lost.Load() != racers-1 {
			t.Fatalf("concurrent If-Match updates: %d won, %d lost; want 1 and %d", wins.Load(), lost.Load(), racers-1)
		}
		got, _ = db.GetService(ctx, a.SID, s1.SID)
		if got.Version != 3 {
			t.Fatalf("version after the race = %d, want 3", got.Version)
		}

		// Delete: refused while it has transcripts.
		tr := newTranscript(t, db, a.SID, s1.SID, nil)
		wantStatus(t, "delete a Service with transcripts", db.DeleteService(ctx, a.SID, s1.SID), 409)
		err = db.DeleteTranscript(ctx, a.SID, tr.SID)
		must(t, err)
		must(t, db.DeleteService(ctx, a.SID, s1.SID))
		_, err = db.GetService(ctx, a.SID, s1.SID)
		wantStatus(t, "deleted Service", err, 404)
		wantStatus(t, "delete again", db.DeleteService(ctx, a.SID, s1.SID), 404)
	})
}

func TestOperators(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		clock(db)
		a, b := newAccount(t, db), newAccount(t, db)
		svc := newService(t, db, a.SID, "s", "")
		pre := &convoseal.Operator{SID: convoseal.NewSID(convoseal.PrefixOperator), FriendlyName: "pre", Description: "d", Author: "convoseal",
			OperatorType: "text-classification", Version: 1, Availability: "general-availability", Config: []byte(`{"a":1}`)}
		must(t, db.UpsertPrebuiltOperator(ctx, pre))
		pre.Description = "d2"
		must(t, db.UpsertPrebuiltOperator(ctx, pre)) // refresh, same version
		custom := &convoseal.Operator{SID: convoseal.NewSID(convoseal.PrefixOperator), AccountSID: a.SID, FriendlyName: "mine",
			OperatorType: "generative", Availability: "general-availability", Config: []byte(`{}`)}
		must(t, db.CreateOperator(ctx, custom))
		other := &convoseal.Operator{SID: convoseal.NewSID(convoseal.PrefixOperator), AccountSID: b.SID, FriendlyName: "theirs",
			OperatorType: "generative", Availability: "general-availability", Config: []byte(`{}`)}
		must(t, db.CreateOperator(ctx, other))

		o, err := db.GetOperator(ctx, a.SID, pre.SID)
		must(t, err)
		if o.Description != "d2" || o.AccountSID != "" || string(o.Config) != `{"a":1}` {
			t.Fatalf("pre-built = %+v", o)
		}
		for scope, want := range map[OperatorScope]int{AllOperators: 2, PrebuiltOperators: 1, CustomOperators: 1} {
			l, err := db.ListOperators(ctx, a.SID, scope, "", Page{Size: 10})
			must(t, err)
			if len(l) != want {
				t.Fatalf("ListOperators(scope %d) = %d operators, want %d", scope, len(l), want)
			}
		}
		if l, _ := db.ListOperators(ctx, a.SID, AllOperators, "beta", Page{Size: 10}); len(l) != 0 {
			t.Fatalf("availability filter: %d", len(l))
		}

		must(t, db.AttachOperator(ctx, a.SID, svc.SID, pre.SID))
		must(t, db.AttachOperator(ctx, a.SID, svc.SID, custom.SID))
		must(t, db.AttachOperator(ctx, a.SID, svc.SID, pre.SID)) // twice is fine
		wantStatus(t, "attach another account's operator", db.AttachOperator(ctx, a.SID, svc.SID, other.SID), 404)
		wantStatus(t, "attach to another account's Service", db.AttachOperator(ctx, b.SID, svc.SID, other.SID), 404)
		s, _ := db.GetService(ctx, a.SID, svc.SID)
		if len(s.OperatorSIDs) != 2 || s.OperatorSIDs[0] != pre.SID || s.OperatorSIDs[1] != custom.SID {
			t.Fatalf("attached = %v", s.OperatorSIDs)
		}
		// A page of Services carries each one's attachments, as GetService does.
		bare := newService(t, db, a.SID, "no operators", "")
		page, err := db.ListServices(ctx, a.SID, Page{Size: 10})
		must(t, err)
		if len(page) != 2 {
			t.Fatalf("ListServices = %d Services, want 2", len(page))
		}
		for _, v := range page {
			one, err := db.GetService(ctx, a.SID, v.SID)
			must(t, err)
			if !slices.Equal(v.OperatorSIDs, one.OperatorSIDs) || v.OperatorSIDs == nil {
				t.Fatalf("ListServices gives %s operators %v, GetService %v", v.SID, v.OperatorSIDs, one.OperatorSIDs)
			}
			if v.SID == bare.SID && len(v.OperatorSIDs) != 0 {
				t.Fatalf("a Service without operators lists %v", v.OperatorSIDs)
			}
		}
		ops, err := db.ServiceOperators(ctx, svc.SID)
		must(t, err)
		if len(ops) != 2 {
			t.Fatalf("ServiceOperators = %d", len(ops))
		}
		must(t, db.DetachOperator(ctx, a.SID, svc.SID, pre.SID))
		wantStatus(t, "detach again", db.DetachOperator(ctx, a.SID, svc.SID, pre.SID), 404)

		_, err = db.UpdateOperator(ctx, a.SID, custom.SID, 5, func(*convoseal.Operator) error { return nil })
		wantStatus(t, "operator If-Match", err, 412)
		u, err := db.UpdateOperator(ctx, a.SID, custom.SID, 1, func(o *convoseal.Operator) error { o.Description = "new"; return nil })
		must(t, err)
		if u.Version != 2 {
			t.Fatalf("operator version = %d", u.Version)
		}
		_, err = db.UpdateOperator(ctx, a.SID, pre.SID, 0, func(*convoseal.Operator) error { return nil })
		wantStatus(t, "update a pre-built operator", err, 404)
		must(t, db.DeleteOperator(ctx, a.SID, custom.SID))
		s, _ = db.GetService(ctx, a.SID, svc.SID)
		if len(s.OperatorSIDs) != 0 {
			t.Fatalf("deleting the operator left attachments: %v", s.OperatorSIDs)
		}
		wantStatus(t, "delete a pre-built operator", db.DeleteOperator(ctx, a.SID, pre.SID), 404)
	})
}

// marker inserts an account on the bare transaction the store hands to
// callbacks ($N placeholders work on both dialects there).
func marker(sid string) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (sid, friendly_name, auth_token_hash, date_created, date_updated) VALUES ($1, $2, $3, $4, $4)`,
			sid, "marker", "h", fmtTime(time.Now()))
		return err
	}
}

func TestCreateTranscriptEnqueueIsAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		a := newAccount(t, db)
		svc := newService(t, db, a.SID, "s", "")
		mk := func() *convoseal.Transcript {
			return &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: a.SID, ServiceSID: svc.SID, Channel: []byte(`{}`)}
		}
		exists := func(sid string) bool {
			_, err := db.GetAccount(ctx, sid)
			return err == nil
		}

		// The callback fails after its insert: the transcript is rolled back
		// with it.
		tr, m := mk(), convoseal.NewSID(convoseal.PrefixAccount)
		boom := errors.New("queue down")
		err := db.CreateTranscript(ctx, tr, nil, func(tx *sql.Tx) error {
			if err := marker(m)(tx); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("CreateTranscript = %v, want the callback's error", err)
		}
		if _, err := db.GetTranscript(ctx, a.SID, tr.SID); status(err) != 404 || exists(m) {
			t.Fatalf("after a failed callback: transcript err %v, marker exists %v", err, exists(m))
		}

		// Both commit.
		tr, m = mk(), convoseal.NewSID(convoseal.PrefixAccount)
		must(t, db.CreateTranscript(ctx, tr, nil, marker(m)))
		if _, err := db.GetTranscript(ctx, a.SID, tr.SID); err != nil || !exists(m) {
			t.Fatalf("after success: transcript err %v, marker exists %v", err, exists(m))
		}

		// The transcript's insert fails (its SID is taken): nothing of the
		// callback is left.
		dup, m2 := mk(), convoseal.NewSID(convoseal.PrefixAccount)
		dup.SID = tr.SID
		if err := db.CreateTranscript(ctx, dup, nil, marker(m2)); err == nil || exists(m2) {
			t.Fatalf("duplicate transcript: err %v, marker exists %v", err, exists(m2))
		}
		// The callback's insert fails (it conflicts): the transcript is not
		// created.
		tr3 := mk()
		if err := db.CreateTranscript(ctx, tr3, nil, marker(m)); err == nil {
			t.Fatal("a failing callback insert did not fail CreateTranscript")
		}
		if _, err := db.GetTranscript(ctx, a.SID, tr3.SID); status(err) != 404 {
			t.Fatalf("transcript of a failed callback: %v", err)
		}

		// Unknown Service.
		bad := mk()
		bad.ServiceSID = convoseal.NewSID(convoseal.PrefixService)
		wantStatus(t, "unknown Service", db.CreateTranscript(ctx, bad, nil, noEnqueue), 404)
	})
}

// TestTranscriptSources: a sealed inline source is stored with its
// transcript (both or neither), read back byte for byte, and deleted by the
// transaction that completes, fails or deletes the transcript.
func TestTranscriptSources(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		a := newAccount(t, db)
		svc := newService(t, db, a.SID, "s", "")
		mk := func() *convoseal.Transcript {
			return &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: a.SID, ServiceSID: svc.SID,
				Channel: []byte(`{}`), MediaURL: "convoseal:sealed-source"}
		}
		// Binary, with NUL and invalid UTF-8, as ciphertext is.
		body := make([]byte, 4096)
		for i := range body {
			body[i] = byte(i * 7)
		}
		src := &SealedSource{Body: body, Metadata: map[string]string{"x-amz-key": "a2V5", "x-amz-iv": "aXY=", "x-amz-wrap-alg": "A256GCMKW"}}
		create := func(src *SealedSource) *convoseal.Transcript {
			t.Helper()
			tr := mk()
			must(t, db.CreateTranscript(ctx, tr, src, noEnqueue))
			return tr
		}
		wantSource := func(what, sid string, want *SealedSource) {
			t.Helper()
			got, err := db.TranscriptSource(ctx, sid)
			if want == nil {
				wantStatus(t, what, err, 404)
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !bytes.Equal(got.Body, want.Body) || !maps.Equal(got.Metadata, want.Metadata) {
				t.Fatalf("%s: got %d bytes %v, want %d bytes %v", what, len(got.Body), got.Metadata, len(want.Body), want.Metadata)
			}
		}
		count := func() int {
			t.Helper()
			var n int
			must(t, db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM transcript_sources`).Scan(&n))
			return n
		}

		tr := create(src)
		wantSource("stored source", tr.SID, src)
		if db.Dialect() == DialectSQLite {
			var typ string
			must(t, db.r.QueryRowContext(ctx, `SELECT typeof(body) FROM transcript_sources WHERE transcript_sid = ?`, tr.SID).Scan(&typ))
			if typ != "blob" {
				t.Fatalf("SQLite stored the body as %s, want blob", typ)
			}
		}
		plain := create(nil)
		wantSource("transcript without a source", plain.SID, nil)

		// Stored with the transcript and its job, or not at all.
		failed := mk()
		boom := errors.New("queue down")
		if err := db.CreateTranscript(ctx, failed, src, func(*sql.Tx) error { return boom }); err != boom {
			t.Fatalf("CreateTranscript = %v, want the callback's error", err)
		}
		wantSource("source of a rolled-back transcript", failed.SID, nil)
		dup := mk()
		dup.SID = tr.SID
		if err := db.CreateTranscript(ctx, dup, &SealedSource{Body: []byte("other"), Metadata: map[string]string{}}, noEnqueue); err == nil {
			t.Fatal("duplicate transcript SID accepted")
		}
		wantSource("source after a failed duplicate", tr.SID, src)

		// Completing deletes it, in the same transaction.
		ok, err := db.CompleteTranscript(ctx, tr.SID, 3, nil, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM transcript_sources WHERE transcript_sid = $1`, tr.SID).Scan(&n); err != nil || n != 0 {
				return fmt.Errorf("inside the completing transaction: %d rows, %v", n, err)
			}
			return nil
		})
		if err != nil || !ok {
			t.Fatalf("CompleteTranscript = %v, %v", ok, err)
		}
		wantSource("source of a completed transcript", tr.SID, nil)
		if ok, err := db.CompleteTranscript(ctx, plain.SID, 1, nil, nil); err != nil || !ok {
			t.Fatalf("completing a transcript without a source: %v, %v", ok, err)
		}

		// A completion that rolls back keeps it.
		kept := create(src)
		if _, err := db.CompleteTranscript(ctx, kept.SID, 1, nil, func(*sql.Tx) error { return boom }); err != boom {
			t.Fatalf("CompleteTranscript with a failing callback = %v", err)
		}
		wantSource("source after a rolled-back completion", kept.SID, src)

		// Failing deletes it; so does deleting the transcript.
		must(t, db.FailTranscript(ctx, kept.SID, "the stored media is damaged", nil))
		wantSource("source of a failed transcript", kept.SID, nil)
		deleted := create(src)
		must(t, db.DeleteTranscript(ctx, a.SID, deleted.SID))
		wantSource("source of a deleted transcript", deleted.SID, nil)
		if n := count(); n != 0 {
			t.Fatalf("%d sources left", n)
		}

		// The largest an inline request can make: 16 MiB of media, base64 in
		// its JSON encoding, plus the seal.
		big := &SealedSource{Body: make([]byte, 16<<20*4/3+4096), Metadata: src.Metadata}
		big.Body[len(big.Body)-1] = 0xff
		large := create(big)
		wantSource("16 MiB source", large.SID, big)
	})
}

func TestTranscriptListAndPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		clock(db)
		a := newAccount(t, db)
		s1 := newService(t, db, a.SID, "s1", "")
		s2 := newService(t, db, a.SID, "s2", "")
		base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		var all []*convoseal.Transcript
		for i := range 9 {
			svc := s1
			if i%3 == 0 {
				svc = s2
			}
			start := base.Add(time.Duration(i) * time.Hour)
			all = append(all, newTranscript(t, db, a.SID, svc.SID, func(tr *convoseal.Transcript) {
				tr.MediaStartTime = &start
				tr.SourceSID = fmt.Sprintf("RE%032d", i%2)
				if i%2 == 1 {
					tr.LanguageCode = "es-ES"
				}
			}))
		}
		// Three more created at the same instant: the SID breaks the tie.
		same := time.Date(2025, 2, 2, 2, 2, 2, 0, time.UTC)
		saved := db.now
		db.now = func() time.Time { return same }
		for range 3 {
			all = append(all, newTranscript(t, db, a.SID, s1.SID, nil))
		}
		db.now = saved
		if _, ok, err := db.StartTranscript(ctx, all[4].SID); err != nil || !ok {
			t.Fatal(ok, err)
		}

		// The expected order: newest first, then SID descending.
		want := append([]*convoseal.Transcript(nil), all...)
		sort.Slice(want, func(i, j int) bool {
			if !want[i].DateCreated.Equal(want[j].DateCreated) {
				return want[i].DateCreated.After(want[j].DateCreated)
			}
			return want[i].SID > want[j].SID
		})
		for _, size := range []int{1, 2, 5, 12, 50} {
			var got []string
			p := Page{Size: size}
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("paging does not end")
				}
				page, err := db.ListTranscripts(ctx, a.SID, TranscriptFilter{}, p)
				must(t, err)
				for _, tr := range page {
					got = append(got, tr.SID)
				}
				if len(page) < size {
					break
				}
				last := page[len(page)-1]
				p.After = Cursor(last.DateCreated, last.SID)
				if !ValidCursor(p.After) {
					t.Fatalf("ValidCursor(%q) = false", p.After)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("size %d: %d transcripts, want %d", size, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i].SID {
					t.Fatalf("size %d: position %d is %s, want %s", size, i, got[i], want[i].SID)
				}
			}
		}
		if ValidCursor("garbage") || ValidCursor("2025-01-01T00:00:00.000000Z|XX123") {
			t.Fatal("ValidCursor accepted garbage")
		}
		if l, err := db.ListTranscripts(ctx, a.SID, TranscriptFilter{}, Page{Size: 5, After: "no-bar"}); err != nil || len(l) != 0 {
			t.Fatalf("malformed cursor: %d, %v", len(l), err)
		}

		count := func(f TranscriptFilter) int {
			t.Helper()
			l, err := db.ListTranscripts(ctx, a.SID, f, Page{Size: 100})
			must(t, err)
			return len(l)
		}
		after, before := base.Add(2*time.Hour), base.Add(6*time.Hour)
		mid := all[5].DateCreated
		midSecond := mid.Truncate(time.Second)
		midSecondBefore := midSecond.Add(-time.Second)
		checks := []struct {
			name string
			f    TranscriptFilter
			want int
		}{
			{"service s2", TranscriptFilter{ServiceSID: s2.SID}, 3},
			{"service s1", TranscriptFilter{ServiceSID: s1.SID}, 9},
			{"status in-progress", TranscriptFilter{Status: convoseal.StatusInProgress}, 1},
			{"status queued", TranscriptFilter{Status: convoseal.StatusQueued}, 11},
			{"language es-ES", TranscriptFilter{LanguageCode: "es-ES"}, 4},
			{"language en-US", TranscriptFilter{LanguageCode: "en-US"}, 8},
			{"source", TranscriptFilter{SourceSID: fmt.Sprintf("RE%032d", 1)}, 4},
			{"after start", TranscriptFilter{AfterStartTime: &after}, 6},
			{"before start", TranscriptFilter{BeforeStartTime: &before}, 6},
			{"start window", TranscriptFilter{AfterStartTime: &after, BeforeStartTime: &before}, 3},
			// Compared to the second date_created is shown to: the first
			// nine share mid's second (the clock steps a millisecond), so
			// none is after it and all are before its next second.
			{"created before", TranscriptFilter{BeforeDateCreated: &mid}, 9},
			{"created after", TranscriptFilter{AfterDateCreated: &mid}, 3},
			{"created after the second before", TranscriptFilter{AfterDateCreated: &midSecondBefore}, 12},
			{"created before its own second", TranscriptFilter{BeforeDateCreated: &midSecond}, 0},
			{"combined", TranscriptFilter{ServiceSID: s1.SID, LanguageCode: "es-ES", AfterStartTime: &after}, 2},
		}
		for _, c := range checks {
			if got := count(c.f); got != c.want {
				t.Errorf("%s: %d transcripts, want %d", c.name, got, c.want)
			}
		}
		got, err := db.GetTranscript(ctx, a.SID, all[2].SID)
		must(t, err)
		if got.MediaStartTime == nil || !got.MediaStartTime.Equal(base.Add(2*time.Hour)) || got.LanguageCode != "en-US" || string(got.Channel) != string(all[2].Channel) || got.CustomerKey != "ck" {
			t.Fatalf("GetTranscript = %+v", got)
		}
		if got, _ := db.GetTranscript(ctx, a.SID, all[10].SID); got.MediaStartTime != nil {
			t.Fatalf("no start time came back as %v", got.MediaStartTime)
		}
	})
}

func TestTranscriptLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		clock(db)
		a := newAccount(t, db)
		svc := newService(t, db, a.SID, "s", "")
		tr := newTranscript(t, db, a.SID, svc.SID, nil)
		if tr.Status != convoseal.StatusQueued || !tr.Redaction || tr.DataLogging || tr.LanguageCode != "en-US" {
			t.Fatalf("created = %+v", tr)
		}
		st, ok, err := db.StartTranscript(ctx, tr.SID)
		if err != nil || !ok || st.Status != convoseal.StatusInProgress {
			t.Fatalf("StartTranscript = %v, %v, %v", st, ok, err)
		}
		if _, ok, _ := db.StartTranscript(ctx, tr.SID); !ok {
			t.Fatal("restarting an in-progress transcript (a retried job) = false")
		}
		arts := []convoseal.Artifact{
			{Kind: convoseal.ArtifactSentences, BlobKey: "k1", Size: 10},
			{Kind: convoseal.ArtifactSentences, Redacted: true, BlobKey: "k2", Size: 20},
			{Kind: convoseal.ArtifactOperatorResult, OperatorSID: "LY1", BlobKey: "old", Size: 1},
			{Kind: convoseal.ArtifactOperatorResult, OperatorSID: "LY1", BlobKey: "k3", Size: 1 << 40}, // replaces the row above
		}
		thens := 0
		then := func(tx *sql.Tx) error {
			thens++
			url, method, err := WebhookTarget(ctx, tx, svc.SID)
			if err != nil || url != "https://example.com/hook" || method != "POST" {
				return fmt.Errorf("WebhookTarget = %q %q %v", url, method, err)
			}
			return nil
		}
		ok, err = db.CompleteTranscript(ctx, tr.SID, 42, arts, then)
		if err != nil || !ok || thens != 1 {
			t.Fatalf("CompleteTranscript = %v, %v (then ran %d times)", ok, err, thens)
		}
		ok, err = db.CompleteTranscript(ctx, tr.SID, 7, arts[:1], then)
		if err != nil || ok || thens != 1 {
			t.Fatalf("second CompleteTranscript = %v, %v (then ran %d times)", ok, err, thens)
		}
		must(t, db.FailTranscript(ctx, tr.SID, "too late", then))
		got, _ := db.GetTranscript(ctx, a.SID, tr.SID)
		if got.Status != convoseal.StatusCompleted || got.Duration != 42 || got.FailureReason != "" || thens != 1 {
			t.Fatalf("after Fail following Complete: %+v (then ran %d times)", got, thens)
		}
		if t2, ok, err := db.StartTranscript(ctx, tr.SID); err != nil || ok || t2 == nil || t2.Status != convoseal.StatusCompleted {
			t.Fatalf("StartTranscript on completed = %v, %v, %v", t2, ok, err)
		}
		list, err := db.ListArtifacts(ctx, tr.SID)
		must(t, err)
		if len(list) != 3 {
			t.Fatalf("artifacts = %+v", list)
		}
		byKey := map[string]convoseal.Artifact{}
		for _, a := range list {
			byKey[fmt.Sprint(a.Kind, a.OperatorSID, a.Redacted)] = a
		}
		if byKey["operator-resultLY1false"].BlobKey != "k3" || byKey["operator-resultLY1false"].Size != 1<<40 ||
			byKey["sentencestrue"].BlobKey != "k2" || byKey["sentencesfalse"].BlobKey != "k1" {
			t.Fatalf("artifacts = %+v", list)
		}

		// Failing a queued transcript; completing it afterwards does nothing.
		tr2 := newTranscript(t, db, a.SID, svc.SID, nil)
		thens = 0
		failThen := func(*sql.Tx) error { thens++; return nil }
		must(t, db.FailTranscript(ctx, tr2.SID, "gave up", failThen))
		must(t, db.FailTranscript(ctx, tr2.SID, "again", failThen))
		if ok, err := db.CompleteTranscript(ctx, tr2.SID, 1, arts, nil); err != nil || ok {
			t.Fatalf("Complete after Fail = %v, %v", ok, err)
		}
		got, _ = db.GetTranscript(ctx, a.SID, tr2.SID)
		if got.Status != convoseal.StatusFailed || got.FailureReason != "gave up" || thens != 1 {
			t.Fatalf("failed transcript = %+v, then ran %d times", got, thens)
		}
		if l, _ := db.ListArtifacts(ctx, tr2.SID); len(l) != 0 {
			t.Fatalf("a failed transcript got artifacts: %v", l)
		}
		// then's error rolls the status change back.
		tr3 := newTranscript(t, db, a.SID, svc.SID, nil)
		if err := db.FailTranscript(ctx, tr3.SID, "x", func(*sql.Tx) error { return errors.New("no") }); err == nil {
			t.Fatal("then's error was dropped")
		}
		if got, _ := db.GetTranscript(ctx, a.SID, tr3.SID); got.Status != convoseal.StatusQueued {
			t.Fatalf("status after a failed then = %s", got.Status)
		}

		// Delete removes the transcript and its artifact rows.
		if l, _ := db.ListArtifacts(ctx, tr.SID); len(l) != 3 {
			t.Fatalf("%d artifacts before delete, want 3", len(l))
		}
		if err := db.DeleteTranscript(ctx, a.SID, tr.SID); err != nil {
			t.Fatalf("DeleteTranscript: %v", err)
		}
		_, err = db.GetTranscript(ctx, a.SID, tr.SID)
		wantStatus(t, "deleted transcript", err, 404)
		if l, _ := db.ListArtifacts(ctx, tr.SID); len(l) != 0 {
			t.Fatalf("artifacts left: %v", l)
		}
		err = db.DeleteTranscript(ctx, a.SID, tr.SID)
		wantStatus(t, "delete again", err, 404)
		if ok, err := db.CompleteTranscript(ctx, tr.SID, 1, arts, nil); err != nil || ok {
			t.Fatalf("Complete after delete = %v, %v", ok, err)
		}
		if t4, ok, err := db.StartTranscript(ctx, tr.SID); err != nil || ok || t4 != nil {
			t.Fatalf("Start after delete = %v, %v, %v", t4, ok, err)
		}
		_, err = db.TranscriptForJob(ctx, tr.SID)
		wantStatus(t, "TranscriptForJob after delete", err, 404)
		if _, err := db.TranscriptForJob(ctx, tr2.SID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTenantScoping(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		clock(db)
		a, b := newAccount(t, db), newAccount(t, db)
		key := newKey(t, db, a.SID)
		svc := newService(t, db, a.SID, "s", key.SID)
		op := &convoseal.Operator{SID: convoseal.NewSID(convoseal.PrefixOperator), AccountSID: a.SID, FriendlyName: "mine",
			OperatorType: "generative", Availability: "general-availability", Config: []byte(`{}`)}
		must(t, db.CreateOperator(ctx, op))
		must(t, db.AttachOperator(ctx, a.SID, svc.SID, op.SID))
		tr := newTranscript(t, db, a.SID, svc.SID, nil)
		noop := func(*convoseal.Service) error { return nil }
		B := b.SID

		_, err := db.GetPublicKey(ctx, B, key.SID)
		wantStatus(t, "GetPublicKey", err, 404)
		_, err = db.UpdatePublicKeyName(ctx, B, key.SID, "x")
		wantStatus(t, "UpdatePublicKeyName", err, 404)
		wantStatus(t, "DeletePublicKey", db.DeletePublicKey(ctx, B, key.SID), 404)
		_, err = db.GetService(ctx, B, svc.SID)
		wantStatus(t, "GetService", err, 404)
		_, err = db.UpdateService(ctx, B, svc.SID, 0, noop)
		wantStatus(t, "UpdateService", err, 404)
		wantStatus(t, "DeleteService", db.DeleteService(ctx, B, svc.SID), 404)
		wantStatus(t, "AttachOperator", db.AttachOperator(ctx, B, svc.SID, op.SID), 404)
		wantStatus(t, "DetachOperator", db.DetachOperator(ctx, B, svc.SID, op.SID), 404)
		_, err = db.GetOperator(ctx, B, op.SID)
		wantStatus(t, "GetOperator", err, 404)
		_, err = db.UpdateOperator(ctx, B, op.SID, 0, func(*convoseal.Operator) error { return nil })
		wantStatus(t, "UpdateOperator", err, 404)
		wantStatus(t, "DeleteOperator", db.DeleteOperator(ctx, B, op.SID), 404)
		_, err = db.GetTranscript(ctx, B, tr.SID)
		wantStatus(t, "GetTranscript", err, 404)
		err = db.DeleteTranscript(ctx, B, tr.SID)
		wantStatus(t, "DeleteTranscript", err, 404)
		theirs := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: B, ServiceSID: svc.SID, Channel: []byte(`{}`)}
		wantStatus(t, "CreateTranscript on another's Service", db.CreateTranscript(ctx, theirs, nil, noEnqueue), 404)
		bsvc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: B, UniqueName: "b", LanguageCode: "en-US", WebhookHTTPMethod: "POST", EncryptionCredentialSID: key.SID}
		wantStatus(t, "CreateService with another's key", db.CreateService(ctx, bsvc), 400)
		for what, n := range map[string]func() (int, error){
			"ListPublicKeys": func() (int, error) { l, err := db.ListPublicKeys(ctx, B, Page{Size: 10}); return len(l), err },
			"ListServices":   func() (int, error) { l, err := db.ListServices(ctx, B, Page{Size: 10}); return len(l), err },
			"ListOperators": func() (int, error) {
				l, err := db.ListOperators(ctx, B, CustomOperators, "", Page{Size: 10})
				return len(l), err
			},
			"ListTranscripts": func() (int, error) {
				l, err := db.ListTranscripts(ctx, B, TranscriptFilter{ServiceSID: svc.SID}, Page{Size: 10})
				return len(l), err
			},
		} {
			if got, err := n(); err != nil || got != 0 {
				t.Errorf("%s for B = %d, %v", what, got, err)
			}
		}
		// A's rows are all still there and unchanged.
		if k, err := db.GetPublicKey(ctx, a.SID, key.SID); err != nil || k.FriendlyName != "key" {
			t.Fatalf("A's key: %v, %v", k, err)
		}
		if s, err := db.GetService(ctx, a.SID, svc.SID); err != nil || s.Version != 1 || len(s.OperatorSIDs) != 1 {
			t.Fatalf("A's Service: %v, %v", s, err)
		}
		if _, err := db.GetOperator(ctx, a.SID, op.SID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetTranscript(ctx, a.SID, tr.SID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDataLogging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		a := newAccount(t, db)
		s1 := newService(t, db, a.SID, "s1", "")
		s2 := newService(t, db, a.SID, "s2", "")
		if l, err := db.DataLoggingServices(ctx); err != nil || len(l) != 0 {
			t.Fatalf("DataLoggingServices = %v, %v", l, err)
		}
		s, err := db.SetDataLogging(ctx, s2.SID, true)
		must(t, err)
		if !s.DataLogging || s.Version != 2 {
			t.Fatalf("SetDataLogging = %+v", s)
		}
		if l, err := db.DataLoggingServices(ctx); err != nil || len(l) != 1 || l[0] != s2.SID {
			t.Fatalf("DataLoggingServices = %v, %v", l, err)
		}
		tr := newTranscript(t, db, a.SID, s2.SID, nil)
		if got, _ := db.GetTranscript(ctx, a.SID, tr.SID); !got.DataLogging {
			t.Fatal("transcript did not take the Service's data logging")
		}
		_, err = db.SetDataLogging(ctx, s2.SID, false)
		must(t, err)
		if l, _ := db.DataLoggingServices(ctx); len(l) != 0 {
			t.Fatalf("after switching off: %v", l)
		}
		if got, _ := db.GetService(ctx, a.SID, s1.SID); got.DataLogging {
			t.Fatal("s1 changed")
		}
		_, err = db.SetDataLogging(ctx, convoseal.NewSID(convoseal.PrefixService), true)
		wantStatus(t, "unknown Service", err, 404)
	})
}

func TestBadText(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		a := &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), FriendlyName: "nul\x00byte", AuthTokenHash: []byte("h")}
		err := db.CreateAccount(ctx, a)
		if db.Dialect() == DialectPostgres {
			wantStatus(t, "NUL in text on PostgreSQL", err, 400)
			_, err = db.GetAccount(ctx, "AC\xff")
			wantStatus(t, "invalid UTF-8 in a lookup", err, 400)
		} else {
			must(t, err) // SQLite keeps it
		}
	})
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?x=1": "postgres://u@h:5432/db?x=1",
		"postgres://u@h/db":                 "postgres://u@h/db",
		"host=h password=secret":            "the configured database",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
