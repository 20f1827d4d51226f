package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const testKey = "AC0123456789abcdef0123456789abcdef/GT0123456789abcdef0123456789abcdef/sentences/unredacted"

var testSigningKey = bytes.Repeat([]byte{0x5a}, 32)

// newTestLocal returns a store in a fresh directory (which NewLocal creates)
// and that directory.
func newTestLocal(t *testing.T, baseURL string) (*Local, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blobs")
	l, err := NewLocal(dir, baseURL, testSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, dir
}

func TestNewLocalErrors(t *testing.T) {
	dir := t.TempDir()
	for _, base := range []string{"", "example.com", "ftp://example.com", "http://", "https://example.com/?a=b",
		"https://example.com/#x", "https://user:pw@example.com", "://bad"} {
		if _, err := NewLocal(dir, base, testSigningKey); err == nil {
			t.Errorf("NewLocal with base URL %q succeeded", base)
		}
	}
	if _, err := NewLocal(dir, "https://example.com", testSigningKey[:31]); err == nil {
		t.Error("NewLocal with a 31-byte signing key succeeded")
	}
	if _, err := NewLocal("", "https://example.com", testSigningKey); err == nil {
		t.Error("NewLocal with no directory succeeded")
	}
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocal(f, "https://example.com", testSigningKey); err == nil {
		t.Error("NewLocal on a regular file succeeded")
	}
}

func TestFileModesAndFormat(t *testing.T) {
	l, dir := newTestLocal(t, "https://cs.example")
	ctx := t.Context()
	body := []byte("\x00ciphertext\nand tag\xff")
	meta := map[string]string{"x-amz-key": "a2V5", "x-amz-iv": "aXY=", "x-amz-matdesc": `{"a":"<&>"}`}
	if err := l.Put(ctx, testKey, body, meta); err != nil {
		t.Fatal(err)
	}
	if err := l.Put(ctx, "top", nil, nil); err != nil {
		t.Fatal(err)
	}

	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = fs.ModeDir | 0o700
		} else {
			files = append(files, strings.TrimPrefix(p, dir+string(filepath.Separator)))
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{filepath.FromSlash(testKey + "@"), "top@"}
	if fmt.Sprint(files) != fmt.Sprint(wantFiles) {
		t.Errorf("files: got %q, want %q", files, wantFiles)
	}

	// The file holds the header, the metadata and the body: nothing else.
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(testKey+"@")))
	if err != nil {
		t.Fatal(err)
	}
	mj := `{"x-amz-iv":"aXY=","x-amz-key":"a2V5","x-amz-matdesc":"{\"a\":\"\u003c\u0026\u003e\"}"}`
	want := "CVSBLOB1 " + strconv.Itoa(len(mj)) + " " + strconv.Itoa(len(body)) + "\n" + mj + string(body)
	if string(raw) != want {
		t.Errorf("object file:\n got %q\nwant %q", raw, want)
	}
	raw, err = os.ReadFile(filepath.Join(dir, "top@"))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != "CVSBLOB1 2 0\n{}" {
		t.Errorf("empty object file: got %q", raw)
	}
}

// TestNoTempFilesRemain checks that successful Puts (including replacements)
// and Pings leave no temporary file, and that a temporary file left by a
// crash is ignored.
func TestNoTempFilesRemain(t *testing.T) {
	l, dir := newTestLocal(t, "https://cs.example")
	ctx := t.Context()
	for i := range 20 {
		key := fmt.Sprintf("AC1/GT%d/x", i%5)
		if err := l.Put(ctx, key, bytes.Repeat([]byte{byte(i)}, 1000*i), map[string]string{"i": strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
		if err := l.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, "@") {
			t.Errorf("unexpected file %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// A crash between creating and renaming a temporary file leaves one behind.
	orphan := filepath.Join(dir, "AC1", "GT1", tempPrefix+"0123")
	if err := os.WriteFile(orphan, []byte("CVSBLOB1 2 1\n{}x"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := l.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "[AC1/GT0/x AC1/GT1/x AC1/GT2/x AC1/GT3/x AC1/GT4/x]"; fmt.Sprint(keys) != want {
		t.Errorf("List with an orphaned temporary file: got %v, want %s", keys, want)
	}
	if _, meta, err := l.Get(ctx, "AC1/GT1/x"); err != nil || meta["i"] != "16" {
		t.Errorf("Get: %v, %v", meta, err)
	}
}

// TestConcurrentPutConsistent has many goroutines replace one object while
// others read it: every read must see the body and metadata of one Put.
func TestConcurrentPutConsistent(t *testing.T) {
	l, dir := newTestLocal(t, "https://cs.example")
	ctx := t.Context()
	bodyOf := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 20_000+997*i) }
	metaOf := func(i int) map[string]string {
		return map[string]string{"writer": strconv.Itoa(i), "x-amz-iv": strings.Repeat(strconv.Itoa(i), i+1)}
	}
	check := func(body []byte, meta map[string]string) error {
		i, err := strconv.Atoi(meta["writer"])
		if err != nil || len(meta) != 2 || meta["x-amz-iv"] != metaOf(i)["x-amz-iv"] || !bytes.Equal(body, bodyOf(i)) {
			return fmt.Errorf("inconsistent object: metadata %v with a %d-byte body", meta, len(body))
		}
		return nil
	}
	if err := l.Put(ctx, testKey, bodyOf(0), metaOf(0)); err != nil {
		t.Fatal(err)
	}

	const writers, rounds = 24, 5
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	done := make(chan struct{})
	for i := 1; i <= writers; i++ {
		wg.Go(func() {
			for range rounds {
				if err := l.Put(ctx, testKey, bodyOf(i), metaOf(i)); err != nil {
					errs <- err
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				body, meta, err := l.Get(ctx, testKey)
				if err == nil {
					err = check(body, meta)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Meanwhile, objects next to it come and go (pruning directories must
	// not break Puts).
	wg.Go(func() {
		for i := range 50 {
			k := fmt.Sprintf("AC0123456789abcdef0123456789abcdef/GT%d/sentences/x", i%3)
			if err := l.Put(ctx, k, []byte("x"), nil); err != nil {
				errs <- err
			}
			if err := l.DeletePrefix(ctx, "AC0123456789abcdef0123456789abcdef/GT"+strconv.Itoa(i%3)+"/"); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	body, meta, err := l.Get(ctx, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(body, meta); err != nil {
		t.Fatal(err)
	}
	keys, err := l.List(ctx, "")
	if err != nil || len(keys) != 1 || keys[0] != testKey {
		t.Fatalf("List after concurrent Puts: %v, %v", keys, err)
	}
	// No temporary files remain.
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if n != 1 {
		t.Errorf("%d files in the store, want 1", n)
	}
}

func TestDeletePrunesDirectories(t *testing.T) {
	l, dir := newTestLocal(t, "https://cs.example")
	ctx := t.Context()
	for _, k := range []string{"a/b/c/d", "a/b/e", "x/y"} {
		if err := l.Put(ctx, k, []byte(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Delete(ctx, "a/b/c/d"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "b", "c")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty directory a/b/c remains: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "b", "e@")); err != nil {
		t.Errorf("a/b/e: %v", err)
	}
	if err := l.DeletePrefix(ctx, "a/"); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, "x/y"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("store directory after deleting everything: %v, %v", entries, err)
	}
}

// TestRootEscape checks that a symbolic link inside the store cannot make a
// key reach outside it.
func TestRootEscape(t *testing.T) {
	l, dir := newTestLocal(t, "https://cs.example")
	ctx := t.Context()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "x@"), []byte("CVSBLOB1 2 6\n{}secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "AC1")); err != nil {
		t.Skipf("cannot make a symbolic link: %v", err)
	}
	if err := l.Put(ctx, "AC1/y", []byte("x"), nil); err == nil {
		t.Error("Put through a symbolic link out of the store succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "y@")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Put wrote outside the store: %v", err)
	}
	if body, _, err := l.Get(ctx, "AC1/x"); err == nil {
		t.Errorf("Get through a symbolic link out of the store returned %q", body)
	}
	if err := l.Delete(ctx, "AC1/x"); err == nil {
		if _, err := os.Stat(filepath.Join(outside, "x@")); err != nil {
			t.Errorf("Delete removed a file outside the store")
		}
	}
	if keys, _ := l.List(ctx, ""); len(keys) != 0 {
		t.Errorf("List followed a symbolic link out of the store: %v", keys)
	}
}

func TestCorruptObject(t *testing.T) {
	l, dir := newTestLocal(t, "https://cs.example")
	ctx := t.Context()
	if err := l.Put(ctx, "a", []byte("body"), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "a@")
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{
		string(raw[:len(raw)-1]),       // truncated
		string(raw) + "x",              // extended
		"",                             // empty
		"CVSBLOB2 2 4\n{}body",         // unknown format
		"CVSBLOB1 2 4 {}body",          // no header line
		"CVSBLOB1 9 1\n[\"a\",\"b\"]x", // metadata not an object of strings
		"CVSBLOB1 9 0\n{\"K\":\"v\"}",  // invalid metadata
		"CVSBLOB1 -2 8\n{}body",        // negative length
	} {
		if err := os.WriteFile(name, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := l.Get(ctx, "a")
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get of corrupt file %q: got %v, want an error", c, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	l, _ := newTestLocal(t, "https://cs.example")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Put(ctx, "a", nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: %v", err)
	}
	if _, _, err := l.Get(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v", err)
	}
	if _, err := l.List(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("List: %v", err)
	}
	if err := l.DeletePrefix(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("DeletePrefix: %v", err)
	}
	if err := l.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping: %v", err)
	}
}
