package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/internal/store/storetest"
)

// TestServicesKeepMedia: `services keep-media SID on|off` switches a
// Service's keep_media in the embedded database (--data or $CONVOSEAL_DATA)
// and, with --database, in PostgreSQL; it refuses bad arguments and unknown
// Services.
func TestServicesKeepMedia(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	newKEK(t, filepath.Join(data, "kek"))
	r := runCLI(t, nil, "accounts", "create", "--data", data)
	r.must(t, 0)
	account, _ := credentialsFrom(t, r.stdout)
	db, err := store.OpenSQLite(ctx, filepath.Join(data, "convoseal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkServicesKeepMedia(t, db, account, []string{"--data", data}, []string{"CONVOSEAL_DATA=" + data})

	url, ok := storetest.PostgresURL(t)
	if !ok {
		t.Skipf("PostgreSQL half: $%s not set", storetest.URLEnv)
	}
	pg, err := store.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	a := &convoseal.Account{SID: convoseal.NewSID(convoseal.PrefixAccount), AuthTokenHash: []byte("h"), AuthTokenSealed: "s"}
	if err := pg.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	checkServicesKeepMedia(t, pg, a.SID, []string{"--database", url}, []string{"CONVOSEAL_DATABASE=" + url})
}

// checkServicesKeepMedia runs `services keep-media` against db with flags,
// then with env.
func checkServicesKeepMedia(t *testing.T, db *store.DB, account string, flags, env []string) {
	t.Helper()
	ctx := context.Background()
	svc := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: account, UniqueName: "media", LanguageCode: "en-US"}
	if err := db.CreateService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	state := func() bool {
		t.Helper()
		got, err := db.GetService(ctx, account, svc.SID)
		if err != nil {
			t.Fatal(err)
		}
		return got.KeepMedia
	}
	if state() {
		t.Fatal("keep_media is on by default")
	}
	keep := func(env []string, args ...string) result {
		return runCLI(t, env, append([]string{"services", "keep-media"}, args...)...)
	}
	r := keep(nil, append(append([]string(nil), flags...), svc.SID, "on")...)
	r.must(t, 0)
	if !strings.Contains(r.stdout, "keep media ON") || !strings.Contains(r.stdout, "server key") || !state() {
		t.Fatalf("on: %q, stored %v", r.stdout, state())
	}
	r = keep(env, svc.SID[:2]+strings.ToUpper(svc.SID[2:]), "off")
	r.must(t, 0)
	if !strings.Contains(r.stdout, "keep media OFF") || state() {
		t.Fatalf("off: %q, stored %v", r.stdout, state())
	}
	keep(env, svc.SID, "yes").must(t, exitUsage, "on or off")
	keep(env, "GA123", "on").must(t, exitUsage, "not a Service SID")
	keep(env, svc.SID).must(t, exitUsage)
	keep(env, convoseal.NewSID(convoseal.PrefixService), "on").must(t, exitFailure, "not found")
}
