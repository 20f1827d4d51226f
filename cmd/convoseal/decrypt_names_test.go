package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestDecryptOutputNames: with -o DIR, each location's file is named after
// its transcript, kind, operator and variant, so several never collide; the
// directory is made (0700) when missing, also for a single input given as
// "dir/".
func TestDecryptOutputNames(t *testing.T) {
	f := newFixture(t)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-amz-meta-x-amz-key", f.keyB64)
		w.Header().Set("x-amz-meta-x-amz-iv", f.ivB64)
		w.Write(f.body)
	}))
	t.Cleanup(s.Close)
	const (
		ac = "AC00000000000000000000000000000001"
		gt = "GT00000000000000000000000000000002"
		ly = "LY00000000000000000000000000000003"
		l2 = "LY00000000000000000000000000000004"
	)
	base := s.URL + "/blobs/" + ac + "/" + gt
	urls := []string{
		base + "/sentences/redacted?exp=1&sig=abc",
		base + "/sentences/unredacted?exp=1&sig=abc",
		base + "/operator-results/" + ly + "/unredacted?exp=1&sig=abc",
		base + "/operator-results/" + l2 + "/unredacted?exp=1&sig=abc",
		s.URL + "/bucket/prefix/" + ac + "/" + gt + "/operator-results/" + ly + "/redacted?X-Amz-Signature=abc",
	}
	dir := filepath.Join(t.TempDir(), "results", "new")
	runCLI(t, nil, append([]string{"decrypt", "-o", dir, "--private-key", f.keys.Private}, urls...)...).must(t, 0)
	if m := mode(t, dir); m != 0o700 {
		t.Fatalf("output directory mode %o, want 700", m)
	}
	want := []string{
		gt + "-operator-" + ly + "-redacted.json",
		gt + "-operator-" + ly + "-unredacted.json",
		gt + "-operator-" + l2 + "-unredacted.json",
		gt + "-sentences-redacted.json",
		gt + "-sentences-unredacted.json",
	}
	if got := dirNames(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("files %v, want %v", got, want)
	}

	// The same kind of name twice (paths that are not convoseal's) still
	// gives one file each.
	dir2 := filepath.Join(t.TempDir(), "other")
	runCLI(t, nil, "decrypt", "-o", dir2, "--private-key", f.keys.Private, s.URL+"/x/unredacted", s.URL+"/y/unredacted").must(t, 0)
	if got := dirNames(t, dir2); len(got) != 2 {
		t.Fatalf("two inputs gave files %v", got)
	}

	// One input with -o dir/: a file in that (new) directory.
	dir3 := filepath.Join(t.TempDir(), "one") + "/"
	runCLI(t, nil, "decrypt", "-o", dir3, "--private-key", f.keys.Private, urls[0]).must(t, 0)
	if got := dirNames(t, dir3); len(got) != 1 || got[0] != gt+"-sentences-redacted.json" {
		t.Fatalf("one input into dir/ gave %v", got)
	}
	// One input with -o naming an existing directory: a file in it.
	dir4 := t.TempDir()
	runCLI(t, nil, "decrypt", "-o", dir4, "--private-key", f.keys.Private, urls[2]).must(t, 0)
	if got := dirNames(t, dir4); len(got) != 1 || got[0] != gt+"-operator-"+ly+"-unredacted.json" {
		t.Fatalf("one input into an existing directory gave %v", got)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
