package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/interop"
	"github.com/convoseal/convoseal/internal/pull"
)

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-01-31":                time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		"2026-01-31T12:30:00Z":      time.Date(2026, 1, 31, 12, 30, 0, 0, time.UTC),
		"2026-01-31T14:30:00+02:00": time.Date(2026, 1, 31, 12, 30, 0, 0, time.UTC),
		"2026-01-31T12:30:00.5Z":    time.Date(2026, 1, 31, 12, 30, 0, 5e8, time.UTC),
	} {
		if got, err := parseSince(in); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "2026-13-01", "31/01/2026"} {
		if _, err := parseSince(bad); exitCodeOf(err) != exitUsage {
			t.Errorf("parseSince(%q): %v, want a usage error", bad, err)
		}
	}
}

func TestPullUsage(t *testing.T) {
	key := interop.GenerateKeys(t, 2048).Private
	env := []string{"TWILIO_ACCOUNT_SID=AC" + strings.Repeat("0", 32), "TWILIO_AUTH_TOKEN=secret-token-123"}
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--private-key", key}, "-o DIR", exitUsage},
		{[]string{"--private-key", key, "-o", dir, "--jsonl"}, "exclude each other", exitUsage},
		{[]string{"--private-key", key, "-o", dir, "--state", "x"}, "--state goes with --jsonl", exitUsage},
		{[]string{"--private-key", key, "-o", dir, "--service", "GA../x"}, "--service", exitUsage},
		{[]string{"--private-key", key, "-o", dir, "--since", "soon"}, "--since", exitUsage},
		{[]string{"--private-key", key, "-o", dir, "--parallel", "0"}, "--parallel", exitUsage},
		{[]string{"-o", dir}, "--private-key is required", exitUsage},
		{[]string{"--private-key", filepath.Join(dir, "missing.pem"), "-o", dir}, "private key", exitKey},
	} {
		r := runCLI(t, append(env, "CONVOSEAL_PRIVATE_KEY="), append([]string{"pull"}, tc.args...)...)
		r.must(t, tc.code, tc.want)
		if strings.Contains(r.stderr, "secret-token-123") {
			t.Fatalf("the Auth Token is in the output: %s", r.stderr)
		}
	}
	// A directory pulled with the other variant is refused, not mixed.
	st := pull.NewState(false)
	if err := st.Save(filepath.Join(dir, pull.StateFileName)); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, env, "pull", "--private-key", key, "-o", dir, "--url", "http://127.0.0.1:1")
	r.must(t, exitFailure, "--redacted=false")
}

// TestPullUnreachable: the API cannot be reached; the pull says so in its
// summary and exits 1, without the token.
func TestPullUnreachable(t *testing.T) {
	key := interop.GenerateKeys(t, 2048).Private
	dir := filepath.Join(t.TempDir(), "out")
	r := runCLI(t, []string{"TWILIO_ACCOUNT_SID=AC" + strings.Repeat("0", 32), "TWILIO_AUTH_TOKEN=secret-token-123"},
		"pull", "--private-key", key, "-o", dir, "--url", "http://127.0.0.1:1", "--retries", "0", "--no-progress")
	r.must(t, exitFailure, "listing stopped early", "pulled       0")
	if strings.Contains(r.stderr, "secret-token-123") {
		t.Fatalf("the Auth Token is in the output: %s", r.stderr)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("output directory: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, pull.StateFileName)); errors.Is(err, os.ErrNotExist) {
		t.Fatal("no state file written")
	} else if mode(t, filepath.Join(dir, pull.StateFileName)) != 0o600 {
		t.Fatal("state file not 0600")
	}
}

// TestPullLocked: a second pull into a directory in use is refused before it
// touches anything (a temporary file of the running one stays).
func TestPullLocked(t *testing.T) {
	key := interop.GenerateKeys(t, 2048).Private
	dir := t.TempDir()
	lock, err := pull.Lock(filepath.Join(dir, pull.LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	tmp := filepath.Join(dir, ".x.convoseal-tmp-0123")
	os.WriteFile(tmp, nil, 0o600)
	r := runCLI(t, []string{"TWILIO_ACCOUNT_SID=AC" + strings.Repeat("0", 32), "TWILIO_AUTH_TOKEN=t"},
		"pull", "--private-key", key, "-o", dir, "--url", "http://127.0.0.1:1")
	r.must(t, exitFailure, "another convoseal pull is using")
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("the running pull's temporary file was removed: %v", err)
	}
}
