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

// TestServicesSwitches: `services llm|keep-media SID on|off` switches the
// Service's setting in the embedded database (--data or $CONVOSEAL_DATA) and,
// with --database, in PostgreSQL; llm says what on means for a customer-key
// Service; both refuse bad arguments and unknown Services.
func TestServicesSwitches(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(t *testing.T, db *store.DB, account string, flags, env []string)
	}{
		{"llm", checkServicesLLM},
		{"keep-media", checkServicesKeepMedia},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
			tc.check(t, db, account, []string{"--data", data}, []string{"CONVOSEAL_DATA=" + data})

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
			tc.check(t, pg, a.SID, []string{"--database", url}, []string{"CONVOSEAL_DATABASE=" + url})
		})
	}
}

// checkServicesLLM runs `services llm` against db with flags, then with env.
func checkServicesLLM(t *testing.T, db *store.DB, account string, flags, env []string) {
	t.Helper()
	ctx := context.Background()
	key := &convoseal.PublicKey{SID: convoseal.NewSID(convoseal.PrefixPublicKey), AccountSID: account, PEM: "-----PEM-----", Fingerprint: "fp"}
	if err := db.CreatePublicKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	keyed := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: account, UniqueName: "keyed",
		LanguageCode: "en-US", EncryptionCredentialSID: key.SID}
	plain := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: account, UniqueName: "plain", LanguageCode: "en-US"}
	for _, s := range []*convoseal.Service{keyed, plain} {
		if err := db.CreateService(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	state := func(s *convoseal.Service) bool {
		t.Helper()
		got, err := db.GetService(ctx, account, s.SID)
		if err != nil {
			t.Fatal(err)
		}
		return got.LanguageModel
	}
	if state(keyed) || !state(plain) {
		t.Fatalf("defaults: customer key %v, server key %v", state(keyed), state(plain))
	}
	llm := func(env []string, args ...string) result {
		return runCLI(t, env, append([]string{"services", "llm"}, args...)...)
	}
	r := llm(nil, append(append([]string(nil), flags...), keyed.SID, "on")...)
	r.must(t, 0)
	if !strings.Contains(r.stdout, "language model ON") || !strings.Contains(r.stdout, "customer's key "+key.SID) || !state(keyed) {
		t.Fatalf("on: %q, stored %v", r.stdout, state(keyed))
	}
	r = llm(env, keyed.SID[:2]+strings.ToUpper(keyed.SID[2:]), "off") // upper-case hex, as some consoles show it
	r.must(t, 0)
	if !strings.Contains(r.stdout, "language model OFF") || state(keyed) {
		t.Fatalf("off: %q, stored %v", r.stdout, state(keyed))
	}
	llm(env, plain.SID, "off").must(t, 0)
	if state(plain) {
		t.Fatal("server-key Service still on after off")
	}
	llm(env, keyed.SID, "yes").must(t, exitUsage, "on or off")
	llm(env, "GA123", "on").must(t, exitUsage, "not a Service SID")
	llm(env, keyed.SID).must(t, exitUsage)
	llm(env, convoseal.NewSID(convoseal.PrefixService), "on").must(t, exitFailure, "not found")
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
