// Package blobtest is the conformance suite for implementations of
// [blob.Store]: every backend runs [TestStore] to show that it behaves like
// the others.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/blob"
)

// TestStore runs the conformance suite against stores made by newStore, which
// is called once per subtest and must return an empty store. Location URLs
// must be downloadable with a plain net/http GET (for a local store, give it
// the URL of an httptest server serving its handler).
//
// The suite expects a GET of the Location of a missing object to answer 404
// (an S3 backend's credentials need s3:ListBucket for that, or S3 answers
// 403). One subtest sleeps about two seconds to let a URL expire.
//
// Subtests named in skip are skipped: for a test server that cannot pass
// them for a reason the caller states (an S3 server on a POSIX file system
// cannot hold both "a/b" and "a/b/c", so it skips "NestedKeys").
func TestStore(t *testing.T, newStore func(t *testing.T) blob.Store, skip ...string) {
	tests := []struct {
		name string
		f    func(*testing.T, blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyBody", testEmptyBody},
		{"Replace", testReplace},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"NestedKeys", testNestedKeys},
		{"List", testList},
		{"Walk", testWalk},
		{"DeletePrefix", testDeletePrefix},
		{"InvalidKeys", testInvalidKeys},
		{"InvalidMetadata", testInvalidMetadata},
		{"ConcurrentPut", testConcurrentPut},
		{"CanceledContext", testCanceledContext},
		{"Location", testLocation},
		{"LocationNotFound", testLocationNotFound},
		{"LocationTampered", testLocationTampered},
		{"LocationExpiry", testLocationExpiry},
		{"LocationExpired", testLocationExpired},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if slices.Contains(skip, tt.name) {
				t.Skip("skipped by the caller")
			}
			tt.f(t, newStore(t))
		})
	}
}

// Keys shaped like convoseal's.
const (
	keyA = "AC00000000000000000000000000000001/GT00000000000000000000000000000001/sentences/unredacted"
	keyB = "AC00000000000000000000000000000001/GT00000000000000000000000000000001/sentences/redacted"
	keyC = "AC00000000000000000000000000000001/GT00000000000000000000000000000010/sentences/unredacted"
	keyD = "AC00000000000000000000000000000002/GT00000000000000000000000000000001/operator-results/LY00000000000000000000000000000001"

	// gtPrefix ends within the GT segment, matching keyA, keyB and keyC.
	gtPrefix = "AC00000000000000000000000000000001/GT000000000000000000000000000000"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// envelopeMeta is metadata shaped like a seal.Envelope's.
func envelopeMeta(tag string) map[string]string {
	return map[string]string{
		"x-amz-key":      "d3JhcHBlZC1rZXktZm9yLQ==" + tag,
		"x-amz-iv":       "AAECAwQFBgcICQoL",
		"x-amz-cek-alg":  "AES/GCM/NoPadding",
		"x-amz-wrap-alg": "RSA-OAEP-SHA256",
		"x-amz-tag-len":  "128",
		"x-amz-matdesc":  `{"credential_sid":"CR00000000000000000000000000000001","fingerprint":"sha256:` + tag + `"}`,
	}
}

func put(t *testing.T, s blob.Store, key string, body []byte, meta map[string]string) {
	t.Helper()
	if err := s.Put(t.Context(), key, body, meta); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s blob.Store, key string, body []byte, meta map[string]string) {
	t.Helper()
	gotBody, gotMeta, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(gotBody, body) {
		t.Errorf("Get(%q) body: got %d bytes, want %d (or different content)", key, len(gotBody), len(body))
	}
	if gotMeta == nil {
		t.Errorf("Get(%q) metadata is nil, want a map", key)
	}
	if !mapsEqual(gotMeta, meta) {
		t.Errorf("Get(%q) metadata: got %v, want %v", key, gotMeta, meta)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func mustList(t *testing.T, s blob.Store, prefix string, want ...string) {
	t.Helper()
	got, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("List(%q):\n got %q\nwant %q", prefix, got, want)
	}
}

func mustNotFound(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if _, _, err := s.Get(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get(%q): got error %v, want ErrNotFound", key, err)
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	body := randomBytes(t, 100_000)
	body[0], body[1] = 0, '\n' // binary-safe
	meta := envelopeMeta("a")
	put(t, s, keyA, body, meta)
	mustGet(t, s, keyA, body, meta)

	// The store keeps no reference to the caller's slice and map, nor the
	// caller to the store's.
	want := bytes.Clone(body)
	body[2]++
	meta["x-amz-iv"] = "changed"
	got, gotMeta, err := s.Get(t.Context(), keyA)
	if err != nil {
		t.Fatal(err)
	}
	got[3]++
	gotMeta["x-amz-key"] = "changed"
	mustGet(t, s, keyA, want, envelopeMeta("a"))

	// Nil metadata is allowed.
	put(t, s, keyB, []byte("x"), nil)
	mustGet(t, s, keyB, []byte("x"), map[string]string{})
}

func testEmptyBody(t *testing.T, s blob.Store) {
	put(t, s, keyA, nil, envelopeMeta("e"))
	mustGet(t, s, keyA, nil, envelopeMeta("e"))
	resp, got := download(t, s, keyA, time.Hour)
	if resp.StatusCode != http.StatusOK || len(got) != 0 {
		t.Fatalf("download of an empty object: status %d, %d bytes", resp.StatusCode, len(got))
	}
	if cl := resp.Header.Get("Content-Length"); cl != "0" {
		t.Errorf("Content-Length: got %q, want 0", cl)
	}
}

func testReplace(t *testing.T, s blob.Store) {
	put(t, s, keyA, []byte("first"), map[string]string{"x-amz-key": "k1", "x-amz-iv": "iv1", "only-first": "1"})
	meta2 := map[string]string{"x-amz-key": "k2", "x-amz-iv": "iv2"}
	put(t, s, keyA, []byte("second, longer"), meta2)
	mustGet(t, s, keyA, []byte("second, longer"), meta2) // metadata replaced, not merged
	put(t, s, keyA, []byte("2nd"), meta2)                // shorter body: no leftover bytes
	mustGet(t, s, keyA, []byte("2nd"), meta2)
	put(t, s, keyA, []byte("2nd"), meta2) // idempotent
	mustGet(t, s, keyA, []byte("2nd"), meta2)
	mustList(t, s, "", keyA)
}

func testNotFound(t *testing.T, s blob.Store) {
	mustNotFound(t, s, keyA)
	put(t, s, keyA, []byte("a"), nil)
	mustNotFound(t, s, keyA+"x")
	mustNotFound(t, s, keyA+"/x")
	mustNotFound(t, s, "AC00000000000000000000000000000001/GT00000000000000000000000000000001") // a "directory"
	if err := s.Delete(t.Context(), keyB); err != nil {
		t.Errorf("Delete of a missing object: %v", err)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, keyA, []byte("a"), envelopeMeta("a"))
	put(t, s, keyB, []byte("b"), envelopeMeta("b"))
	if err := s.Delete(t.Context(), keyA); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustNotFound(t, s, keyA)
	mustGet(t, s, keyB, []byte("b"), envelopeMeta("b"))
	if err := s.Delete(t.Context(), keyA); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if err := s.Delete(t.Context(), keyB); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustList(t, s, "")
	// The key can be used again.
	put(t, s, keyA, []byte("again"), nil)
	mustGet(t, s, keyA, []byte("again"), map[string]string{})
}

func testNestedKeys(t *testing.T, s blob.Store) {
	// As in S3, "a/b" and "a/b/c" are independent objects.
	put(t, s, "a/b", []byte("ab"), map[string]string{"n": "1"})
	put(t, s, "a/b/c", []byte("abc"), map[string]string{"n": "2"})
	put(t, s, "a", []byte("a"), map[string]string{"n": "0"})
	mustGet(t, s, "a", []byte("a"), map[string]string{"n": "0"})
	mustGet(t, s, "a/b", []byte("ab"), map[string]string{"n": "1"})
	mustGet(t, s, "a/b/c", []byte("abc"), map[string]string{"n": "2"})
	mustList(t, s, "", "a", "a/b", "a/b/c")
	if err := s.Delete(t.Context(), "a/b"); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "a/b/c", []byte("abc"), map[string]string{"n": "2"})
	mustList(t, s, "a", "a", "a/b/c")
}

func testList(t *testing.T, s blob.Store) {
	mustList(t, s, "")
	mustList(t, s, "AC00000000000000000000000000000001/")
	for _, k := range []string{keyD, keyC, keyB, keyA, "._-/x.y"} {
		put(t, s, k, []byte(k), nil)
	}
	mustList(t, s, "", "._-/x.y", keyB, keyA, keyC, keyD)
	mustList(t, s, "AC00000000000000000000000000000001/", keyB, keyA, keyC)
	mustList(t, s, "AC00000000000000000000000000000001/GT00000000000000000000000000000001/", keyB, keyA)
	mustList(t, s, gtPrefix, keyB, keyA, keyC)
	mustList(t, s, "AC00000000000000000000000000000001/GT00000000000000000000000000000001/sentences/un", keyA)
	mustList(t, s, keyA, keyA)
	mustList(t, s, "AC0000000000000000000000000000000", keyB, keyA, keyC, keyD)
	mustList(t, s, "AC00000000000000000000000000000003/")
	mustList(t, s, "AC00000000000000000000000000000003")
	mustList(t, s, keyA+"/")
	mustList(t, s, ".", "._-/x.y")
}

// walk returns what Walk(prefix) visits.
func walk(t *testing.T, s blob.Store, prefix string) []blob.ObjectInfo {
	t.Helper()
	var got []blob.ObjectInfo
	if err := s.Walk(t.Context(), prefix, func(o blob.ObjectInfo) error {
		got = append(got, o)
		return nil
	}); err != nil {
		t.Fatalf("Walk(%q): %v", prefix, err)
	}
	return got
}

func walkKeys(objs []blob.ObjectInfo) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// testWalk: Walk visits what List returns, in the same (key) order, with
// modification times; it stops at the callback's error; and the callback
// may change the store.
func testWalk(t *testing.T, s blob.Store) {
	if got := walk(t, s, ""); len(got) != 0 {
		t.Errorf("Walk of an empty store: %v", got)
	}
	// "w/x-1" < "w/x.z" < "w/x/y" in key order, though a directory "x"
	// sorts before files "x-1" and "x.z".
	keys := []string{keyD, keyC, keyB, keyA, "._-/x.y", "w/x/y", "w/x-1", "w/x.z"}
	before := time.Now()
	for _, k := range keys {
		put(t, s, k, []byte(k), nil)
	}
	after := time.Now()
	for _, prefix := range []string{"", "AC00000000000000000000000000000001/", gtPrefix, "w/x", "w/x/", keyA, "AC00000000000000000000000000000003/"} {
		want, err := s.List(t.Context(), prefix)
		if err != nil {
			t.Fatal(err)
		}
		got := walk(t, s, prefix)
		if gk := walkKeys(got); !slices.Equal(gk, want) && (len(gk) != 0 || len(want) != 0) {
			t.Errorf("Walk(%q):\n got %q\nwant %q (List)", prefix, gk, want)
		}
		for _, o := range got {
			// S3 keeps whole seconds, and its clock is not ours.
			if o.Modified.Before(before.Add(-2*time.Minute)) || o.Modified.After(after.Add(2*time.Minute)) {
				t.Errorf("Walk(%q): %s modified %v, not between %v and %v", prefix, o.Key, o.Modified, before, after)
			}
		}
	}
	if got := walkKeys(walk(t, s, "w/")); !slices.Equal(got, []string{"w/x-1", "w/x.z", "w/x/y"}) {
		t.Errorf("Walk(\"w/\") order: %q", got)
	}

	errStop := errors.New("stop")
	calls := 0
	err := s.Walk(t.Context(), "", func(blob.ObjectInfo) error { calls++; return errStop })
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("Walk with a failing callback: %d calls, error %v; want 1 call and the callback's error", calls, err)
	}
	for _, p := range []string{"/", "a//", "../", "a\\"} {
		if err := s.Walk(t.Context(), p, func(blob.ObjectInfo) error { return nil }); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Walk(%q): got %v, want ErrInvalidKey", p, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Walk(ctx, "", func(blob.ObjectInfo) error { return nil }); err == nil {
		t.Error("Walk with a canceled context succeeded")
	}

	// The callback may delete what it visits.
	var visited []string
	if err := s.Walk(t.Context(), "", func(o blob.ObjectInfo) error {
		visited = append(visited, o.Key)
		return s.Delete(t.Context(), o.Key)
	}); err != nil {
		t.Fatalf("Walk deleting: %v", err)
	}
	if len(visited) != len(keys) {
		t.Errorf("Walk deleting visited %q, want all %d keys", visited, len(keys))
	}
	mustList(t, s, "")
}

func testDeletePrefix(t *testing.T, s blob.Store) {
	for _, k := range []string{keyA, keyB, keyC, keyD} {
		put(t, s, k, []byte(k), nil)
	}
	// A prefix ending in "/" stays within its segment: GT…01/ is not GT…010/.
	if err := s.DeletePrefix(t.Context(), "AC00000000000000000000000000000001/GT00000000000000000000000000000001/"); err != nil {
		t.Fatal(err)
	}
	mustList(t, s, "", keyC, keyD)
	mustNotFound(t, s, keyA)
	mustNotFound(t, s, keyB)

	put(t, s, keyA, []byte("a"), nil)
	if err := s.DeletePrefix(t.Context(), gtPrefix); err != nil {
		t.Fatal(err)
	}
	mustList(t, s, "", keyD)

	if err := s.DeletePrefix(t.Context(), "AC00000000000000000000000000000009/"); err != nil {
		t.Errorf("DeletePrefix matching nothing: %v", err)
	}
	if err := s.DeletePrefix(t.Context(), ""); !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("DeletePrefix(\"\"): got %v, want ErrInvalidKey", err)
	}
	mustList(t, s, "", keyD)
	if err := s.DeletePrefix(t.Context(), "../"); !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("DeletePrefix(\"../\"): got %v, want ErrInvalidKey", err)
	}
	if err := s.DeletePrefix(t.Context(), keyD); err != nil {
		t.Fatal(err)
	}
	mustList(t, s, "")
}

// InvalidKeys are keys every Store must refuse with ErrInvalidKey.
var InvalidKeys = []string{
	"",
	"/",
	"/abs",
	"/etc/passwd",
	"a/",
	"a//b",
	"./a",
	"a/./b",
	"..",
	"../a",
	"a/../b",
	"a/..",
	"a\\b",
	"..\\a",
	"a\x00b",
	"a b",
	"a\nb",
	"a?b",
	"a#b",
	"a%2Fb",
	"a@",
	"a+b",
	"é",
	strings.Repeat("a", blob.MaxKeyLen+1),
	strings.Repeat("a/", blob.MaxKeyLen/2) + "a",
	strings.Repeat("a", blob.MaxSegmentLen+1),
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for _, k := range InvalidKeys {
		name := fmt.Sprintf("%.40q", k)
		if err := s.Put(ctx, k, []byte("x"), nil); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%s): got %v, want ErrInvalidKey", name, err)
		}
		if _, _, err := s.Get(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%s): got %v, want ErrInvalidKey", name, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%s): got %v, want ErrInvalidKey", name, err)
		}
		if _, err := s.Location(ctx, k, time.Minute); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Location(%s): got %v, want ErrInvalidKey", name, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "../", "a/../", "a\\", "a\x00", strings.Repeat("a", blob.MaxKeyLen+1)} {
		if _, err := s.List(ctx, p); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("List(%q): got %v, want ErrInvalidKey", p, err)
		}
		if err := s.DeletePrefix(ctx, p); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("DeletePrefix(%q): got %v, want ErrInvalidKey", p, err)
		}
	}
	// The longest valid key works.
	long := strings.Repeat(strings.Repeat("a", 127)+"/", 4)[:blob.MaxKeyLen-1] + "b"
	if err := blob.ValidateKey(long); err != nil {
		t.Fatalf("test bug: %v", err)
	}
	put(t, s, long, []byte("x"), nil)
	mustGet(t, s, long, []byte("x"), map[string]string{})
	mustList(t, s, "", long)
}

func testInvalidMetadata(t *testing.T, s blob.Store) {
	bad := []map[string]string{
		{"": "v"},
		{"X-Amz-Key": "v"},
		{"a b": "v"},
		{"a:b": "v"},
		{"k": "a\r\nx-injected: 1"},
		{"k": "a\nb"},
		{"k": "nul\x00"},
		{"k": "é"},
		{"k": " padded"},
		{"k": strings.Repeat("v", blob.MaxMetadataSize)},
	}
	for _, m := range bad {
		if err := s.Put(t.Context(), keyA, []byte("x"), m); !errors.Is(err, blob.ErrInvalidMetadata) {
			t.Errorf("Put with metadata %q: got %v, want ErrInvalidMetadata", m, err)
		}
	}
	mustNotFound(t, s, keyA)
	ok := map[string]string{"k": strings.Repeat("v", blob.MaxMetadataSize-1)} // exactly the limit
	put(t, s, keyA, []byte("x"), ok)
	mustGet(t, s, keyA, []byte("x"), ok)
}

func testConcurrentPut(t *testing.T, s blob.Store) {
	const n = 16
	bodyOf := func(i int) []byte {
		return bytes.Repeat([]byte{byte('a' + i)}, 1000*(i+1))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			meta := envelopeMeta(strconv.Itoa(i))
			meta["writer"] = strconv.Itoa(i)
			errs <- s.Put(context.Background(), keyA, bodyOf(i), meta)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Put: %v", err)
		}
	}
	body, meta, err := s.Get(t.Context(), keyA)
	if err != nil {
		t.Fatal(err)
	}
	i, err := strconv.Atoi(meta["writer"])
	if err != nil || i < 0 || i >= n {
		t.Fatalf("metadata after concurrent Puts: %v", meta)
	}
	want := envelopeMeta(strconv.Itoa(i))
	want["writer"] = strconv.Itoa(i)
	if !mapsEqual(meta, want) || !bytes.Equal(body, bodyOf(i)) {
		t.Fatalf("after concurrent Puts, body (%d bytes) and metadata %v are not from the same Put", len(body), meta)
	}
	mustList(t, s, "", keyA)
}

func testCanceledContext(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, keyA, []byte("x"), nil); err == nil {
		t.Error("Put with a canceled context succeeded")
	}
	mustNotFound(t, s, keyA)
}

// download GETs the Location of key with plain net/http.
func download(t *testing.T, s blob.Store, key string, expiry time.Duration) (*http.Response, []byte) {
	t.Helper()
	u, err := s.Location(t.Context(), key, expiry)
	if err != nil {
		t.Fatalf("Location(%q): %v", key, err)
	}
	return fetch(t, http.MethodGet, u)
}

func fetch(t *testing.T, method, u string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	if err != nil {
		t.Fatalf("bad location URL %q: %v", u, err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return resp, body
}

// amzMeta returns the x-amz-meta-* headers of resp as metadata.
func amzMeta(resp *http.Response) map[string]string {
	m := map[string]string{}
	for k, vs := range resp.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-meta-") {
			m[strings.TrimPrefix(lk, "x-amz-meta-")] = strings.Join(vs, ",")
		}
	}
	return m
}

func testLocation(t *testing.T, s blob.Store) {
	body := randomBytes(t, 70_000)
	meta := envelopeMeta("loc")
	put(t, s, keyA, body, meta)
	u, err := s.Location(t.Context(), keyA, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(u)
	if err != nil || !pu.IsAbs() || (pu.Scheme != "http" && pu.Scheme != "https") {
		t.Fatalf("Location %q is not an absolute http(s) URL", u)
	}
	resp, got := fetch(t, http.MethodGet, u)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET location: status %d, body %q", resp.StatusCode, got)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("GET location: got %d bytes, want the %d stored", len(got), len(body))
	}
	if gm := amzMeta(resp); !mapsEqual(gm, meta) {
		t.Errorf("GET location: x-amz-meta-* headers %v, want %v", gm, meta)
	}
	if v := resp.Header.Get("x-amz-meta-x-amz-key"); v != meta["x-amz-key"] {
		t.Errorf("x-amz-meta-x-amz-key: got %q, want %q", v, meta["x-amz-key"])
	}
	if v := resp.Header.Get("x-amz-meta-x-amz-iv"); v != meta["x-amz-iv"] {
		t.Errorf("x-amz-meta-x-amz-iv: got %q, want %q", v, meta["x-amz-iv"])
	}
	// The URL can be used more than once, and sees a replaced object.
	put(t, s, keyA, []byte("v2"), map[string]string{"x-amz-key": "k2", "x-amz-iv": "iv2"})
	resp, got = fetch(t, http.MethodGet, u)
	if resp.StatusCode != http.StatusOK || string(got) != "v2" || resp.Header.Get("x-amz-meta-x-amz-key") != "k2" {
		t.Errorf("GET location after replace: status %d, body %q, key %q", resp.StatusCode, got, resp.Header.Get("x-amz-meta-x-amz-key"))
	}
	if len(amzMeta(resp)) != 2 {
		t.Errorf("GET location after replace: x-amz-meta-* headers %v, want only the new ones", amzMeta(resp))
	}
}

func testLocationNotFound(t *testing.T, s blob.Store) {
	resp, _ := download(t, s, keyA, time.Minute)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET location of a missing object: status %d, want 404", resp.StatusCode)
	}
	put(t, s, keyA, []byte("x"), nil)
	u, err := s.Location(t.Context(), keyA, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context(), keyA); err != nil {
		t.Fatal(err)
	}
	resp, _ = fetch(t, http.MethodGet, u)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET location of a deleted object: status %d, want 404", resp.StatusCode)
	}
}

func testLocationTampered(t *testing.T, s blob.Store) {
	put(t, s, keyA, []byte("secret a"), envelopeMeta("a"))
	put(t, s, keyB, []byte("secret b"), envelopeMeta("b"))
	u, err := s.Location(t.Context(), keyA, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	// Pointing a URL at another object must not work.
	other := *pu
	other.Path = strings.Replace(pu.Path, "/unredacted", "/redacted", 1)
	other.RawPath = ""
	if other.Path == pu.Path {
		t.Fatalf("test bug: location path %q does not end with the key", pu.Path)
	}
	resp, body := fetch(t, http.MethodGet, other.String())
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET of a location pointed at another key: status %d, want 403", resp.StatusCode)
	}
	if bytes.Contains(body, []byte("secret")) || len(amzMeta(resp)) != 0 {
		t.Errorf("GET of a location pointed at another key leaked the object")
	}
	// Nor does one without its query.
	bare := *pu
	bare.RawQuery = ""
	if resp, _ := fetch(t, http.MethodGet, bare.String()); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET of a location without its query: status %d, want 403", resp.StatusCode)
	}
}

func testLocationExpiry(t *testing.T, s blob.Store) {
	put(t, s, keyA, []byte("x"), nil)
	for _, d := range []time.Duration{0, -time.Second, blob.MaxLocationExpiry + time.Second} {
		if _, err := s.Location(t.Context(), keyA, d); err == nil {
			t.Errorf("Location with expiry %v succeeded", d)
		}
	}
	if _, err := s.Location(t.Context(), keyA, blob.MaxLocationExpiry); err != nil {
		t.Errorf("Location with the longest expiry: %v", err)
	}
}

func testLocationExpired(t *testing.T, s blob.Store) {
	put(t, s, keyA, []byte("secret"), envelopeMeta("x"))
	u, err := s.Location(t.Context(), keyA, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	resp, body := fetch(t, http.MethodGet, u)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET of an expired location: status %d, want 403", resp.StatusCode)
	}
	if bytes.Contains(body, []byte("secret")) || len(amzMeta(resp)) != 0 {
		t.Errorf("GET of an expired location leaked the object")
	}
	if !bytes.Contains(bytes.ToLower(body), []byte("expired")) {
		t.Errorf("GET of an expired location: body %q does not say it expired", body)
	}
}

func testPing(t *testing.T, s blob.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	mustList(t, s, "") // Ping leaves nothing behind
}
