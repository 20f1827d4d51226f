package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	s3blob "github.com/convoseal/convoseal/internal/blob/s3"
	"github.com/convoseal/convoseal/internal/interop"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// clusterBackend is where a cluster installation keeps its state: its own
// PostgreSQL database and S3 bucket on the test servers.
type clusterBackend struct {
	dbURL  string // the installation's database
	dbName string
	bucket string
	prefix string // key prefix of the artifacts in the bucket, with "/"
	s3     *s3.Client
	s3URL  string  // the S3 endpoint
	admin  *sql.DB // the test server's maintenance connection
	front  *http.Server
}

// blobPrefix is the key prefix of a cluster installation's artifacts.
const blobPrefix = "artifacts"

// clusterEnv returns the test Postgres URL and S3 settings, skipping (or,
// with CONVOSEAL_REQUIRE_CLUSTER=1, failing) when they are not there.
func clusterEnv(t *testing.T) (dbURL string, s3cfg s3blob.Config) {
	t.Helper()
	dbURL = os.Getenv("CONVOSEAL_TEST_DATABASE_URL")
	s3cfg = s3blob.Config{Endpoint: os.Getenv("CONVOSEAL_TEST_S3_ENDPOINT"), Region: os.Getenv("CONVOSEAL_TEST_S3_REGION"),
		AccessKey: os.Getenv("CONVOSEAL_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("CONVOSEAL_TEST_S3_SECRET_KEY"), PathStyle: true}
	if dbURL == "" || s3cfg.Endpoint == "" {
		msg := "no PostgreSQL or S3 server: run scripts/test (it starts both), or eval \"$(scripts/postgres.sh start)\" and \"$(scripts/versitygw.sh start)\""
		if os.Getenv("CONVOSEAL_REQUIRE_CLUSTER") == "1" || e2eBackend() == "cluster" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if s3cfg.Region == "" {
		s3cfg.Region = "us-east-1"
	}
	return dbURL, s3cfg
}

// StartCluster starts apis API processes and workers worker processes over
// a fresh database and bucket, whatever the backend the environment selects.
//
// The tests that call it run in the default (embedded) pass only: the
// cluster pass would repeat them unchanged.
func StartCluster(t *testing.T, apis, workers int, extra ...string) *Server {
	t.Helper()
	skipInClusterPass(t)
	return startCluster(t, ServerOptions{Extra: extra}, apis, workers)
}

// startCluster makes a fresh database and bucket and starts apis API
// processes and workers worker processes sharing them and one KEK, behind a
// round-robin front proxy.
func startCluster(t *testing.T, o ServerOptions, apis, workers int) *Server {
	t.Helper()
	interop.RequireTools(t)
	dbURL, s3cfg := clusterEnv(t)
	name := fmt.Sprintf("e2e_%d", time.Now().UnixNano())

	admin, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name

	s3cfg.Bucket = strings.ReplaceAll(name, "_", "-")
	st, err := s3blob.New(context.Background(), s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(s3cfg.Bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	blobURL := fmt.Sprintf("s3://%s/%s?endpoint=%s&region=%s&path_style=true", s3cfg.Bucket, blobPrefix, s3cfg.Endpoint, s3cfg.Region)

	s := newServer(t, o)
	if err := os.MkdirAll(s.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	s.cluster = &clusterBackend{s3URL: s3cfg.Endpoint, dbURL: u.String(), dbName: name, bucket: s3cfg.Bucket, prefix: blobPrefix + "/", s3: st.Client(), admin: admin}

	// The front proxy stands where a load balancer would: one public URL,
	// requests spread over the API processes in turn.
	ln := listen(t, o.Port)
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.URL = fmt.Sprintf("http://localhost:%d", s.Port)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			api := s.APIs[int(s.next.Add(1))%len(s.APIs)]
			r.SetURL(&url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", api.Port)})
			r.Out.Host = r.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "front proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	s.cluster.front = &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go s.cluster.front.Serve(ln)
	t.Cleanup(func() { s.cluster.front.Close() })

	env := append([]string{"AWS_ACCESS_KEY_ID=" + s3cfg.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3cfg.SecretKey}, o.Env...)
	common := []string{"--database", s.cluster.dbURL, "--blob", blobURL, "--kek-file", s.KEKFile(), "--public-url", s.URL}
	add := func(role string, i int) *Process {
		args := append(append([]string{"--role", role, "--data", filepath.Join(s.Data, fmt.Sprintf("%s-%d", role, i))}, common...), o.Extra...)
		return s.newProcess(role, 0, args, env)
	}
	for i := range apis {
		s.APIs = append(s.APIs, add("api", i))
	}
	for i := range workers {
		s.Workers = append(s.Workers, add("worker", i))
	}
	s.Restart()
	t.Cleanup(func() { s.Stop() })
	return s
}

// skipInClusterPass skips a cluster-only test in the cluster pass.
func skipInClusterPass(t *testing.T) {
	if e2eBackend() == "cluster" {
		t.Skip("a cluster test: it runs in the default pass")
	}
}

// listen listens on 127.0.0.1:port (0: any free port).
func listen(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// SealedSources counts the sealed inline sources the installation's database
// holds (rows of transcript_sources: a transcript submitted inline keeps one
// until it completes, fails or is deleted).
func (s *Server) SealedSources(t *testing.T) int {
	t.Helper()
	var db *sql.DB
	var err error
	if s.cluster == nil {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(s.Data, "convoseal.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	} else {
		db, err = sql.Open("pgx", s.cluster.dbURL)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM transcript_sources").Scan(&n); err != nil {
		t.Fatalf("counting sealed sources: %v", err)
	}
	return n
}

// LocationBase is how download locations begin: the public URL (local
// blobs, served by convoseal) or the bucket at the S3 endpoint (presigned).
func (s *Server) LocationBase() string {
	if s.cluster == nil {
		return s.URL + "/"
	}
	return s.cluster.s3URL + "/" + s.cluster.bucket + "/" + s.cluster.prefix
}

// Blobs lists the keys of the stored objects (local blob files, or the
// objects in the bucket), sorted; unfinished S3 multipart uploads are listed
// as "<key>#unfinished-multipart-upload".
func (s *Server) Blobs(t *testing.T) []string {
	t.Helper()
	var keys []string
	if s.cluster == nil {
		root := filepath.Join(s.Data, "blobs")
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if !d.IsDir() {
				// Local objects are files named <key>@ (temporary files have
				// other names, and are listed as they are).
				rel, _ := filepath.Rel(root, p)
				keys = append(keys, strings.TrimSuffix(filepath.ToSlash(rel), "@"))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walking blobs: %v", err)
		}
		sort.Strings(keys)
		return keys
	}
	ctx := context.Background()
	p := s3.NewListObjectsV2Paginator(s.cluster.s3, &s3.ListObjectsV2Input{Bucket: aws.String(s.cluster.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("listing the bucket: %v", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, s.cluster.key(*o.Key))
		}
	}
	ups, err := s.cluster.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.cluster.bucket)})
	if err != nil {
		t.Fatalf("listing multipart uploads: %v", err)
	}
	for _, u := range ups.Uploads {
		keys = append(keys, s.cluster.key(*u.Key)+"#unfinished-multipart-upload")
	}
	sort.Strings(keys)
	return keys
}

// key is the blob key of an object key; an object outside the prefix is
// returned whole, marked.
func (c *clusterBackend) key(objKey string) string {
	if k, ok := strings.CutPrefix(objKey, c.prefix); ok {
		return k
	}
	return "(outside " + c.prefix + ") " + objKey
}

// BlobsUnder lists the keys beginning with prefix.
func (s *Server) BlobsUnder(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	for _, k := range s.Blobs(t) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// ReadBlob returns what is stored for key, as it rests in the store: the
// local file, or the S3 object's user metadata ("name: value" lines)
// followed by its body. ok is false if there is no such object.
func (s *Server) ReadBlob(t *testing.T, key string) (stored []byte, ok bool) {
	t.Helper()
	if s.cluster == nil {
		b, err := os.ReadFile(filepath.Join(s.Data, "blobs", filepath.FromSlash(key)+"@"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return b, true
	}
	out, err := s.cluster.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.cluster.bucket), Key: aws.String(s.cluster.prefix + key)})
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	var names []string
	for k := range out.Metadata {
		names = append(names, k)
	}
	sort.Strings(names)
	var b []byte
	for _, k := range names {
		b = fmt.Appendf(b, "%s: %s\n", k, out.Metadata[k])
	}
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, body...), true
}

// storageRoot is a directory where an installation's state rests on disk.
type storageRoot struct {
	Name string // how scanned files are named: Name + "/" + path below Dir
	Dir  string
	Want []string // name prefixes that must be among the files found
}

// StorageRoots are the directories holding what the installation stored,
// beyond its own data directory and logs (which are under
// filepath.Dir(s.Data)): for a cluster, its database's files and the
// server's write-ahead log, and its bucket's directory in the S3 server.
// checkpoint asks PostgreSQL to write its buffers to those files first.
func (s *Server) StorageRoots(t *testing.T, checkpoint bool) []storageRoot {
	t.Helper()
	if s.cluster == nil {
		return nil
	}
	c := s.cluster
	if checkpoint {
		if _, err := c.admin.Exec("CHECKPOINT"); err != nil {
			t.Fatalf("CHECKPOINT: %v", err)
		}
	}
	var dataDir string
	var oid int64
	if err := c.admin.QueryRow("SELECT current_setting('data_directory')").Scan(&dataDir); err != nil {
		t.Fatalf("PostgreSQL data directory: %v", err)
	}
	if err := c.admin.QueryRow("SELECT oid FROM pg_database WHERE datname = $1", c.dbName).Scan(&oid); err != nil {
		t.Fatalf("database oid: %v", err)
	}
	s3dir := os.Getenv("VERSITYGW_DIR")
	if s3dir == "" {
		t.Fatal("VERSITYGW_DIR is not set: start versitygw with scripts/versitygw.sh")
	}
	return []storageRoot{
		{Name: "postgres/database", Dir: filepath.Join(dataDir, "base", fmt.Sprint(oid)), Want: []string{"postgres/database/"}},
		{Name: "postgres/pg_wal", Dir: filepath.Join(dataDir, "pg_wal"), Want: []string{"postgres/pg_wal/"}},
		{Name: "s3/" + c.bucket, Dir: filepath.Join(s3dir, "data", c.bucket), Want: []string{"s3/" + c.bucket + "/" + blobPrefix + "/"}},
	}
}
