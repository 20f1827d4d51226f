package s3blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/blob/blobtest"
	s3blob "github.com/convoseal/convoseal/internal/blob/s3"
)

// Environment of the tests that need an S3 server (see scripts/versitygw.sh).
const (
	envEndpoint  = "CONVOSEAL_TEST_S3_ENDPOINT"
	envAccessKey = "CONVOSEAL_TEST_S3_ACCESS_KEY"
	envSecretKey = "CONVOSEAL_TEST_S3_SECRET_KEY"
	envRegion    = "CONVOSEAL_TEST_S3_REGION" // optional, default us-east-1
	// envRequire=1 makes a missing server a failure instead of a skip, so
	// that a test script cannot silently skip these tests.
	envRequire = "CONVOSEAL_REQUIRE_S3"
)

// serverConfig returns the configuration of the test S3 server (without a
// bucket), or skips the test if there is none (fails if envRequire=1).
func serverConfig(t *testing.T) s3blob.Config {
	t.Helper()
	cfg := s3blob.Config{
		Endpoint:  os.Getenv(envEndpoint),
		AccessKey: os.Getenv(envAccessKey),
		SecretKey: os.Getenv(envSecretKey),
		Region:    os.Getenv(envRegion),
		PathStyle: true,
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Endpoint == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		msg := "no S3 server: " + envEndpoint + ", " + envAccessKey + " and " + envSecretKey + ` must be set; run
	eval "$(scripts/versitygw.sh start)"; go test ./internal/blob/s3; scripts/versitygw.sh stop`
		if os.Getenv(envRequire) == "1" {
			t.Fatal(msg + "\n(" + envRequire + "=1 makes this test mandatory)")
		}
		t.Skip(msg)
	}
	return cfg
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// newBucket creates a bucket with a unique name on the test server and
// returns a configuration using it; the bucket and its objects are deleted
// when the test ends.
func newBucket(t *testing.T) s3blob.Config {
	t.Helper()
	cfg := serverConfig(t)
	cfg.Bucket = "convoseal-test-" + randomHex(8)
	st, err := s3blob.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := st.Client()
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &cfg.Bucket}); err != nil {
		t.Fatalf("CreateBucket %s: %v", cfg.Bucket, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &cfg.Bucket})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Logf("cleanup: listing %s: %v", cfg.Bucket, err)
				return
			}
			for _, o := range page.Contents {
				if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &cfg.Bucket, Key: o.Key}); err != nil {
					t.Logf("cleanup: deleting %s/%s: %v", cfg.Bucket, aws.ToString(o.Key), err)
				}
			}
		}
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &cfg.Bucket}); err != nil {
			t.Logf("cleanup: deleting bucket %s: %v", cfg.Bucket, err)
		}
	})
	return cfg
}

func newStore(t *testing.T, cfg s3blob.Config) *s3blob.Store {
	t.Helper()
	st, err := s3blob.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// conformanceSkips returns the blobtest subtests the server cannot pass:
// an S3 server that maps keys to files and directories (versitygw's posix
// backend) cannot store both "a/b" and "a/b/c" (convoseal's own keys never
// need that), so NestedKeys is skipped there; AWS S3 runs it.
func conformanceSkips(t *testing.T, cfg s3blob.Config) []string {
	t.Helper()
	st := newStore(t, cfg)
	if err := st.Put(t.Context(), "probe/a", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := st.Put(t.Context(), "probe/a/b", nil, nil)
	if err := st.DeletePrefix(t.Context(), "probe/"); err != nil {
		t.Fatal(err)
	}
	var ae smithy.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae) && ae.ErrorCode() == "ObjectParentIsFile":
		t.Logf("the server cannot store both a/b and a/b/c (a POSIX namespace): skipping NestedKeys (%v)", err)
		return []string{"NestedKeys"}
	default:
		t.Fatal(err)
		return nil
	}
}

func TestConformance(t *testing.T) {
	// Every subtest gets its own prefix in one bucket…
	t.Run("Prefixed", func(t *testing.T) {
		cfg := newBucket(t)
		var n atomic.Int64
		blobtest.TestStore(t, func(t *testing.T) blob.Store {
			c := cfg
			c.Prefix = "run-" + randomHex(4) + "/t" + strings.Repeat("0", int(n.Add(1))%3)
			return newStore(t, c)
		}, conformanceSkips(t, cfg)...)
	})
	// …or its own bucket, without a prefix.
	t.Run("Bucket", func(t *testing.T) {
		blobtest.TestStore(t, func(t *testing.T) blob.Store { return newStore(t, newBucket(t)) },
			conformanceSkips(t, newBucket(t))...)
	})
}

// get downloads u with plain net/http.
func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func envelopeMeta() map[string]string {
	return map[string]string{
		"x-amz-key":      "d3JhcHBlZC1rZXktZm9yLQ==",
		"x-amz-iv":       "AAECAwQFBgcICQoL",
		"x-amz-cek-alg":  "AES/GCM/NoPadding",
		"x-amz-wrap-alg": "RSA-OAEP-SHA256",
		"x-amz-tag-len":  "128",
		"x-amz-matdesc":  `{"credential_sid":"CR00000000000000000000000000000001","fingerprint":"sha256:ab"}`,
	}
}

func checkMeta(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: metadata %v, want %v", what, got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: metadata %v, want %v", what, got, want)
			return
		}
	}
}

func TestMultipart(t *testing.T) {
	cfg := newBucket(t)
	cfg.Prefix = "mp"
	cfg.PartSize = s3blob.MinPartSize
	st := newStore(t, cfg)
	ctx := t.Context()
	const key = "AC00000000000000000000000000000001/GT00000000000000000000000000000001/sentences/unredacted"
	meta := envelopeMeta()

	for _, size := range []int{12 << 20, 10 << 20, 5 << 20} { // 3 parts, 2 full parts, 1 part
		body := randomBytes(size)
		if err := st.Put(ctx, key, body, meta); err != nil {
			t.Fatalf("Put %d bytes: %v", size, err)
		}
		got, gotMeta, err := st.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("Get after a multipart Put of %d bytes: got %d bytes or different content", size, len(got))
		}
		checkMeta(t, "Get after a multipart Put", gotMeta, meta)

		// It was a multipart upload: S3 ETags of those end in -<parts>.
		head, err := st.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &cfg.Bucket, Key: aws.String("mp/" + key)})
		if err != nil {
			t.Fatal(err)
		}
		if etag := aws.ToString(head.ETag); !strings.Contains(etag, "-") {
			t.Errorf("ETag %s of a %d-byte object does not look like a multipart upload's", etag, size)
		}

		u, err := st.Location(ctx, key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		resp, dl := get(t, u)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(dl, body) {
			t.Fatalf("download: status %d, %d bytes (want %d)", resp.StatusCode, len(dl), len(body))
		}
		if v := resp.Header.Get("x-amz-meta-x-amz-key"); v != meta["x-amz-key"] {
			t.Errorf("download x-amz-meta-x-amz-key: %q, want %q", v, meta["x-amz-key"])
		}
		if v := resp.Header.Get("x-amz-meta-x-amz-iv"); v != meta["x-amz-iv"] {
			t.Errorf("download x-amz-meta-x-amz-iv: %q, want %q", v, meta["x-amz-iv"])
		}
	}

	// A small Put replaces the multipart object entirely.
	if err := st.Put(ctx, key, []byte("small"), map[string]string{"x-amz-key": "k2"}); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := st.Get(ctx, key)
	if err != nil || string(got) != "small" {
		t.Fatalf("Get after replacing: %q, %v", got, err)
	}
	checkMeta(t, "Get after replacing", gotMeta, map[string]string{"x-amz-key": "k2"})

	// No upload is left in progress.
	ups, err := st.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &cfg.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left in progress", len(ups.Uploads))
	}

	// A canceled multipart Put fails and leaves neither object nor upload.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := st.Put(cctx, "canceled", randomBytes(6<<20), nil); err == nil {
		t.Error("multipart Put with a canceled context succeeded")
	}
	if _, _, err := st.Get(ctx, "canceled"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get after a canceled Put: %v, want ErrNotFound", err)
	}
}

func TestLocationExpiredIs403(t *testing.T) {
	cfg := newBucket(t)
	st := newStore(t, cfg)
	ctx := t.Context()
	if err := st.Put(ctx, "AC1/GT1/x", []byte("secret"), envelopeMeta()); err != nil {
		t.Fatal(err)
	}
	u, err := st.Location(ctx, "AC1/GT1/x", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "X-Amz-Expires=1&") && !strings.HasSuffix(u, "X-Amz-Expires=1") {
		t.Errorf("URL %s does not expire after 1s", u)
	}
	if resp, body := get(t, u); resp.StatusCode != http.StatusOK || string(body) != "secret" {
		t.Fatalf("fresh URL: status %d, body %q", resp.StatusCode, body)
	}
	time.Sleep(2100 * time.Millisecond)
	resp, body := get(t, u)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("expired URL: status %d, want 403", resp.StatusCode)
	}
	if bytes.Contains(body, []byte("secret")) || resp.Header.Get("x-amz-meta-x-amz-key") != "" {
		t.Errorf("expired URL leaked the object")
	}
	t.Logf("expired URL: %d %s", resp.StatusCode, bytes.TrimSpace(body))
}

func TestPrefixIsolation(t *testing.T) {
	cfg := newBucket(t)
	ctx := t.Context()
	a, b, none := cfg, cfg, cfg
	a.Prefix, b.Prefix = "tenant", "tenant2/"
	sa, sb, sn := newStore(t, a), newStore(t, b), newStore(t, none)
	if err := sa.Put(ctx, "k/1", []byte("a"), nil); err != nil {
		t.Fatal(err)
	}
	if err := sb.Put(ctx, "k/1", []byte("b"), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		st   *s3blob.Store
		want []string
	}{{sa, []string{"k/1"}}, {sb, []string{"k/1"}}, {sn, []string{"tenant/k/1", "tenant2/k/1"}}} {
		got, err := c.st.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("List: got %q, want %q", got, c.want)
		}
	}
	if body, _, err := sa.Get(ctx, "k/1"); err != nil || string(body) != "a" {
		t.Errorf("Get under prefix tenant: %q, %v", body, err)
	}
	if err := sa.DeletePrefix(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if body, _, err := sb.Get(ctx, "k/1"); err != nil || string(body) != "b" {
		t.Errorf("DeletePrefix under tenant/ reached tenant2/: %q, %v", body, err)
	}
}

func TestDeletePrefixManyObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	cfg := newBucket(t)
	st := newStore(t, cfg)
	ctx := t.Context()
	const n = 1005 // more than one DeleteObjects batch
	sem := make(chan struct{}, 16)
	errs := make(chan error, n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- st.Put(ctx, fmt.Sprintf("AC1/GT%04d/x", i), nil, nil)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Put(ctx, "AC2/keep", []byte("k"), nil); err != nil {
		t.Fatal(err)
	}
	if err := st.DeletePrefix(ctx, "AC1/"); err != nil {
		t.Fatal(err)
	}
	keys, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "AC2/keep" {
		t.Errorf("after DeletePrefix: %d keys left (%.5q…), want only AC2/keep", len(keys), keys)
	}
}

func TestDefaultCredentialChain(t *testing.T) {
	cfg := newBucket(t)
	// Isolate the chain from the machine's AWS files and instance metadata.
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_ACCESS_KEY_ID", cfg.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cfg.SecretKey)
	cfg.AccessKey, cfg.SecretKey = "", ""
	st := newStore(t, cfg)
	if err := st.Ping(t.Context()); err != nil {
		t.Fatalf("Ping with credentials from the environment: %v", err)
	}
	if err := st.Put(t.Context(), "a", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if err := newStore(t, cfg).Ping(t.Context()); err == nil {
		t.Error("Ping with a wrong secret key from the environment succeeded")
	}
}

func TestPingMissingBucket(t *testing.T) {
	cfg := serverConfig(t)
	cfg.Bucket = "convoseal-missing-" + randomHex(8)
	if err := newStore(t, cfg).Ping(t.Context()); err == nil {
		t.Error("Ping of a missing bucket succeeded")
	}
}

func TestNewRefuses(t *testing.T) {
	ok := s3blob.Config{Bucket: "bucket", Endpoint: "http://127.0.0.1:1", Region: "us-east-1", AccessKey: "a", SecretKey: "s"}
	if _, err := s3blob.New(t.Context(), ok); err != nil {
		t.Fatalf("New(%+v): %v", ok, err)
	}
	for name, mod := range map[string]func(*s3blob.Config){
		"no bucket":         func(c *s3blob.Config) { c.Bucket = "" },
		"bucket with slash": func(c *s3blob.Config) { c.Bucket = "a/b" },
		"uppercase bucket":  func(c *s3blob.Config) { c.Bucket = "Bucket" },
		"prefix with ..":    func(c *s3blob.Config) { c.Prefix = "a/../b" },
		"prefix //":         func(c *s3blob.Config) { c.Prefix = "a//b" },
		"absolute prefix":   func(c *s3blob.Config) { c.Prefix = "/a" },
		"small part size":   func(c *s3blob.Config) { c.PartSize = s3blob.MinPartSize - 1 },
		"huge part size":    func(c *s3blob.Config) { c.PartSize = s3blob.MaxPartSize + 1 },
		"negative part":     func(c *s3blob.Config) { c.PartSize = -1 },
		"endpoint scheme":   func(c *s3blob.Config) { c.Endpoint = "ftp://x" },
		"endpoint relative": func(c *s3blob.Config) { c.Endpoint = "127.0.0.1:7070" },
		"endpoint userinfo": func(c *s3blob.Config) { c.Endpoint = "http://u:p@x" },
		"secret only":       func(c *s3blob.Config) { c.AccessKey = "" },
		"access only":       func(c *s3blob.Config) { c.SecretKey = "" },
	} {
		c := ok
		mod(&c)
		if _, err := s3blob.New(t.Context(), c); err == nil {
			t.Errorf("%s: New(%+v) succeeded", name, c)
		}
	}
}

func TestParseURL(t *testing.T) {
	good := []struct {
		in   string
		want s3blob.Config
	}{
		{"s3://bucket", s3blob.Config{Bucket: "bucket"}},
		{"s3://bucket/", s3blob.Config{Bucket: "bucket"}},
		{"s3://my.bucket-1/convoseal", s3blob.Config{Bucket: "my.bucket-1", Prefix: "convoseal"}},
		{"s3://bucket/a/b/", s3blob.Config{Bucket: "bucket", Prefix: "a/b"}},
		{"s3://bucket/prefix?endpoint=http://127.0.0.1:7070&region=us-east-1&path_style=true",
			s3blob.Config{Bucket: "bucket", Prefix: "prefix", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", PathStyle: true}},
		{"s3://bucket?endpoint=https%3A%2F%2Fs3.example.com%3A9000&path_style=false&part_size=8388608",
			s3blob.Config{Bucket: "bucket", Endpoint: "https://s3.example.com:9000", PartSize: 8 << 20}},
		{"s3://bucket?path_style=1&region=eu-west-3", s3blob.Config{Bucket: "bucket", Region: "eu-west-3", PathStyle: true}},
	}
	for _, c := range good {
		got, err := s3blob.ParseURL(c.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseURL(%q):\n got %+v\nwant %+v", c.in, got, c.want)
		}
		if _, err := s3blob.New(t.Context(), got); err != nil {
			t.Errorf("New(ParseURL(%q)): %v", c.in, err)
		}
	}
	bad := []string{
		"",
		"bucket/prefix",
		"http://bucket/prefix",
		"s3:bucket",
		"s3:///prefix",
		"s3://b",
		"s3://Bucket",
		"s3://bucket_name",
		"s3://-bucket",
		"s3://bucket:9000/p",
		"s3://key:secret@bucket/p",
		"s3://bucket/a//b",
		"s3://bucket/a/../b",
		"s3://bucket//a",
		"s3://bucket/a%2Fb",
		"s3://bucket/a b",
		"s3://bucket/p#frag",
		"s3://bucket?endpoint=127.0.0.1:7070",
		"s3://bucket?endpoint=ftp://x",
		"s3://bucket?endpoint=http://u:p@x",
		"s3://bucket?path_style=yes",
		"s3://bucket?part_size=1024",
		"s3://bucket?part_size=x",
		"s3://bucket?region=",
		"s3://bucket?region=a&region=b",
		"s3://bucket?regoin=us-east-1",
		"s3://bucket?access_key=AK",
		"s3://bucket?%zz",
	}
	for _, in := range bad {
		if cfg, err := s3blob.ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", in, cfg)
		}
	}
}
