package blob

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// errNotDir is what the file system answers when a key's directory is a file
// (which convoseal never creates).
var errNotDir error = syscall.ENOTDIR

// Local is a [Store] in a local directory, for single-machine deployments.
// It serves its own [Store.Location] URLs with [Local.Handler].
//
// # Layout
//
// Key segments map to directories and files beneath the directory given to
// [NewLocal]: the object "AC1/GT2/sentences/unredacted" is the file
// "AC1/GT2/sentences/unredacted@". The "@" suffix, which no key segment can
// contain, lets the objects "a/b" ("a/b@") and "a/b/c" ("a/b/c@") coexist as
// they do in S3. Temporary files are named ".tmp+<random>" ("+" is not a key
// byte either), so they are never mistaken for objects. Directories are 0700,
// files 0600. All access goes through an [os.Root], so no name can resolve
// outside the directory, even through a symbolic link.
//
// # Object file format
//
// One file holds both the metadata and the body, so that replacing an object
// is one atomic rename and no reader can pair a body with another Put's
// metadata:
//
//	"CVSBLOB1 " <metadata length> " " <body length> "\n"   (decimal ASCII)
//	<metadata: a JSON object of strings, keys sorted>
//	<body: the bytes given to Put>
//
// Nothing else is stored: no key, no time stamp, no plaintext. A file whose
// size does not match its header is reported as corrupt.
//
// # Writes
//
// Put writes a temporary file in the object's directory, fsyncs it, renames
// it over the object and fsyncs the directory (and the parent of every
// directory it created). A crash leaves either the old object or the new one,
// plus at worst an orphaned temporary file, which List ignores. Delete and
// DeletePrefix remove directories left empty.
type Local struct {
	// ErrorLog, if not nil, receives the errors that [Local.Handler] hides
	// from clients behind a generic 500 response (they name keys, never
	// plaintext). Set it before serving.
	ErrorLog *slog.Logger

	root       *os.Root
	baseURL    string // without trailing slash
	signingKey []byte
	now        func() time.Time // clock hook for tests

	// mu keeps directory pruning (Delete, DeletePrefix: write lock) from
	// removing a directory between Put creating it and Put creating a file
	// in it (read lock).
	mu sync.RWMutex
}

var _ Store = (*Local)(nil)

const (
	objectSuffix = "@"
	tempPrefix   = ".tmp+"
	fileMagic    = "CVSBLOB1"
	// maxStoredMeta bounds the metadata length accepted from a file header
	// (JSON escaping can make it longer than MaxMetadataSize).
	maxStoredMeta = 8 * MaxMetadataSize
)

// NewLocal opens (creating it with mode 0700 if needed) a local store in dir.
// Location URLs start with publicBaseURL (an absolute http or https URL, at
// which [Local.Handler] must be reachable so that its path "/blobs/…" is
// served) and are signed with signingKey (at least 32 bytes; see
// [LoadOrCreateKey]). An existing dir is used as it is. Call [Local.Close] when
// done.
func NewLocal(dir string, publicBaseURL string, signingKey []byte) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: the local store directory is not set")
	}
	if len(signingKey) < 32 {
		return nil, fmt.Errorf("blob: the URL signing key is %d bytes, want at least 32", len(signingKey))
	}
	u, err := url.Parse(publicBaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("blob: public base URL %q is not an absolute http(s) URL without query or fragment", publicBaseURL)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob: creating the local store directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: opening the local store directory: %w", err)
	}
	return &Local{
		root:       root,
		baseURL:    strings.TrimRight(publicBaseURL, "/"),
		signingKey: bytes.Clone(signingKey),
		now:        time.Now,
	}, nil
}

// Close releases the store's directory handle.
func (l *Local) Close() error { return l.root.Close() }

// objectName is the file name of the object under a valid key.
func objectName(key string) string { return key + objectSuffix }

// Put implements [Store.Put].
func (l *Local) Put(ctx context.Context, key string, body []byte, meta map[string]string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ValidateMetadata(meta); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if meta == nil {
		meta = map[string]string{}
	}
	mj, err := json.Marshal(meta) // map keys are sorted
	if err != nil {
		return fmt.Errorf("blob: put %q: encoding metadata: %w", key, err)
	}
	header := fmt.Appendf(nil, "%s %d %d\n", fileMagic, len(mj), len(body))

	l.mu.RLock()
	defer l.mu.RUnlock()
	dir := path.Dir(key)
	if err := l.mkdirs(dir); err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	tmp, err := l.writeTemp(dir, header, mj, body)
	if errors.Is(err, fs.ErrNotExist) {
		// Another process pruned the directory we just created: retry once.
		if err = l.mkdirs(dir); err == nil {
			tmp, err = l.writeTemp(dir, header, mj, body)
		}
	}
	if err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := l.root.Rename(tmp, objectName(key)); err != nil {
		_ = l.root.Remove(tmp)
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := l.syncDir(dir); err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	return nil
}

// mkdirs creates dir (a slash-separated path of valid segments, or ".") and
// its parents with mode 0700, fsyncing the parent of each one it creates.
func (l *Local) mkdirs(dir string) error {
	if dir == "." {
		return nil
	}
	if fi, err := l.root.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := "."
	for seg := range strings.SplitSeq(dir, "/") {
		p := path.Join(parent, seg)
		err := l.root.Mkdir(p, 0o700)
		switch {
		case err == nil:
			if err := l.syncDir(parent); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
		default:
			return err
		}
		parent = p
	}
	return nil
}

// writeTemp writes the parts to a new temporary file in dir, fsyncs and
// closes it, and returns its name.
func (l *Local) writeTemp(dir string, parts ...[]byte) (string, error) {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	name := path.Join(dir, tempPrefix+hex.EncodeToString(rnd[:]))
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		_ = f.Close()
		_ = l.root.Remove(name)
		return "", err
	}
	for _, p := range parts {
		if _, err := f.Write(p); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = l.root.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it are durable.
func (l *Local) syncDir(dir string) error {
	d, err := l.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// object is an open object file positioned at the start of the body.
type object struct {
	f       *os.File
	r       *bufio.Reader
	meta    map[string]string
	bodyLen int64
}

// open opens the object under key and reads its header and metadata. The
// caller closes o.f.
func (l *Local) open(key string) (*object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	f, err := l.root.Open(objectName(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
		}
		return nil, fmt.Errorf("blob: get %q: %w", key, err)
	}
	o, err := readHeader(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("blob: get %q: %w", key, err)
	}
	return o, nil
}

var errCorrupt = errors.New("the object file is corrupt")

// readHeader reads the header and metadata of an object file and checks
// them against the file's size.
func readHeader(f *os.File) (*object, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", errCorrupt)
	}
	r := bufio.NewReaderSize(f, 32<<10)
	line, err := r.ReadSlice('\n')
	if err != nil || len(line) > 64 {
		return nil, fmt.Errorf("%w: bad header", errCorrupt)
	}
	fields := strings.Fields(string(line))
	if len(fields) != 3 || fields[0] != fileMagic {
		return nil, fmt.Errorf("%w: bad header", errCorrupt)
	}
	metaLen, err1 := strconv.ParseInt(fields[1], 10, 64)
	bodyLen, err2 := strconv.ParseInt(fields[2], 10, 64)
	if err1 != nil || err2 != nil || metaLen < 2 || metaLen > maxStoredMeta || bodyLen < 0 ||
		int64(len(line))+metaLen+bodyLen != fi.Size() {
		return nil, fmt.Errorf("%w: header does not match the file size", errCorrupt)
	}
	mj := make([]byte, metaLen)
	if _, err := io.ReadFull(r, mj); err != nil {
		return nil, err
	}
	meta := map[string]string{}
	if err := json.Unmarshal(mj, &meta); err != nil {
		return nil, fmt.Errorf("%w: bad metadata", errCorrupt)
	}
	if err := ValidateMetadata(meta); err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return &object{f: f, r: r, meta: meta, bodyLen: bodyLen}, nil
}

// Get implements [Store.Get].
func (l *Local) Get(ctx context.Context, key string) ([]byte, map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	o, err := l.open(key)
	if err != nil {
		return nil, nil, err
	}
	defer o.f.Close()
	body := make([]byte, o.bodyLen)
	if _, err := io.ReadFull(o.r, body); err != nil {
		return nil, nil, fmt.Errorf("blob: get %q: %w", key, err)
	}
	return body, o.meta, nil
}

// Delete implements [Store.Delete].
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.remove(key); err != nil {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	return nil
}

// remove deletes the object under key, if any, and then the directories it
// leaves empty. The caller holds l.mu for writing.
func (l *Local) remove(key string) error {
	err := l.root.Remove(objectName(key))
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir):
		return nil
	case err != nil:
		return err
	}
	dir := path.Dir(key)
	if err := l.syncDir(dir); err != nil {
		return err
	}
	for dir != "." {
		if l.root.Remove(dir) != nil {
			break // not empty (or gone): stop pruning
		}
		dir = path.Dir(dir)
		if err := l.syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// DeletePrefix implements [Store.DeletePrefix].
func (l *Local) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: refusing to delete with an empty prefix", ErrInvalidKey)
	}
	if err := ValidatePrefix(prefix); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	keys, err := l.list(ctx, prefix)
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := l.remove(k); err != nil {
			errs = append(errs, fmt.Errorf("blob: delete %q: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// List implements [Store.List].
func (l *Local) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.list(ctx, prefix)
}

// list walks the directory holding the complete segments of prefix and
// returns the matching keys, sorted.
func (l *Local) list(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	base := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	var keys []string
	err := fs.WalkDir(l.root.FS(), base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == base && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir)) {
				return fs.SkipAll // no such directory: no keys
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == base {
			if !d.IsDir() {
				return fs.SkipAll
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if validateSegment(name, true) != nil {
				return fs.SkipDir // not ours
			}
			return nil
		}
		stem, ok := strings.CutSuffix(name, objectSuffix)
		if !ok || !d.Type().IsRegular() || validateSegment(stem, true) != nil {
			return nil // temporary file, or not ours
		}
		if key := strings.TrimSuffix(p, objectSuffix); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("blob: list %q: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// Ping implements [Store.Ping]: it creates and removes a temporary file in
// the store's directory, so a full or read-only file system fails it.
func (l *Local) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := l.writeTemp(".")
	if err != nil {
		return fmt.Errorf("blob: the local store is not writable: %w", err)
	}
	if err := l.root.Remove(name); err != nil {
		return fmt.Errorf("blob: the local store is not writable: %w", err)
	}
	return nil
}
