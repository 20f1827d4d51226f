package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3blob "github.com/convoseal/convoseal/internal/blob/s3"
	"github.com/convoseal/convoseal/internal/interop"
	_ "github.com/jackc/pgx/v5/stdlib"
	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// Cluster is convoseal as many processes over PostgreSQL and an S3 server.
type Cluster struct {
	APIs, Workers []*Server
	Bucket        string
	s3            *s3.Client
	next          atomic.Int64
}

// clusterEnv returns the test Postgres URL and S3 settings, skipping (or,
// with CONVOSEAL_REQUIRE_CLUSTER=1, failing) when they are not there.
func clusterEnv(t *testing.T) (dbURL string, s3cfg s3blob.Config) {
	t.Helper()
	dbURL = os.Getenv("CONVOSEAL_TEST_DATABASE_URL")
	s3cfg = s3blob.Config{Endpoint: os.Getenv("CONVOSEAL_TEST_S3_ENDPOINT"), Region: os.Getenv("CONVOSEAL_TEST_S3_REGION"),
		AccessKey: os.Getenv("CONVOSEAL_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("CONVOSEAL_TEST_S3_SECRET_KEY"), PathStyle: true}
	if dbURL == "" || s3cfg.Endpoint == "" {
		msg := "no PostgreSQL or S3 server: run scripts/test (it starts both), or eval \"$(scripts/postgres.sh start)\" and \"$(scripts/versitygw.sh start)\""
		if os.Getenv("CONVOSEAL_REQUIRE_CLUSTER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if s3cfg.Region == "" {
		s3cfg.Region = "us-east-1"
	}
	return dbURL, s3cfg
}

// StartCluster makes a fresh database and bucket and starts apis API
// processes and workers worker processes sharing them and one KEK.
func StartCluster(t *testing.T, apis, workers int, extra ...string) *Cluster {
	t.Helper()
	interop.RequireTools(t)
	dbURL, s3cfg := clusterEnv(t)
	name := fmt.Sprintf("e2e_%d", time.Now().UnixNano())

	admin, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	dbURL = strings.Replace(dbURL, "/"+strings.Split(strings.SplitN(dbURL, "/", 4)[3], "?")[0], "/"+name, 1)

	s3cfg.Bucket = strings.ReplaceAll(name, "_", "-")
	st, err := s3blob.New(context.Background(), s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(s3cfg.Bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	blobURL := fmt.Sprintf("s3://%s/artifacts?endpoint=%s&region=%s&path_style=true", s3cfg.Bucket, s3cfg.Endpoint, s3cfg.Region)
	env := []string{"AWS_ACCESS_KEY_ID=" + s3cfg.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3cfg.SecretKey}

	shared := t.TempDir() // one KEK for the installation, as the operator distributes it
	c := &Cluster{Bucket: s3cfg.Bucket, s3: st.Client()}
	start := func(role string, i int) *Server {
		args := append([]string{"--database", dbURL, "--blob", blobURL, "--role", role, "--kek-file", filepath.Join(shared, "kek")}, extra...)
		return StartServer(t, ServerOptions{Data: filepath.Join(shared, fmt.Sprintf("%s-%d", role, i)), Extra: args, Env: env, Account: filepath.Join(shared, "account")})
	}
	c.APIs = append(c.APIs, start("api", 0)) // the first makes the KEK and the account
	for i := 1; i < apis; i++ {
		c.APIs = append(c.APIs, start("api", i))
	}
	for i := range workers {
		c.Workers = append(c.Workers, start("worker", i))
	}
	return c
}

// spread sends each request to the next API process.
type spread struct{ c *Cluster }

func (s spread) RoundTrip(r *http.Request) (*http.Response, error) {
	api := s.c.APIs[int(s.c.next.Add(1))%len(s.c.APIs)]
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = "http", fmt.Sprintf("localhost:%d", api.Port)
	r.Host = r.URL.Host
	return http.DefaultTransport.RoundTrip(r)
}

// Twilio is the official client, its requests spread over the API processes.
func (c *Cluster) Twilio() *twilio.RestClient {
	a := c.APIs[0]
	cl := &client.Client{Credentials: client.NewCredentials(a.AccountSID, a.AuthToken),
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: spread{c}}}
	cl.SetAccountSid(a.AccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Username: a.AccountSID, Password: a.AuthToken, Client: cl})
}

// Objects lists the bucket.
func (c *Cluster) Objects(t *testing.T) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: aws.String(c.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	return keys
}

// TestClusterEndToEnd runs the customer's journey — key, encrypted Service
// with operators and redaction, transcript, encrypted sentences and operator
// results decrypted by the documented script — on 2 API and 3 worker
// processes over PostgreSQL and a real S3 server (versitygw); locations are S3
// presigned URLs carrying the x-amz-meta-x-amz-* headers from the store.
func TestClusterEndToEnd(t *testing.T) {
	cl := StartCluster(t, 2, 3)
	c := cl.Twilio()
	kf, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("cluster").
		SetEncryptionCredentialSid(cred).SetAutoRedaction(true))
	if err != nil {
		t.Fatal(err)
	}
	escalation := prebuilt(t, cl.APIs[0], "Escalation Request")
	phrases := customOperator(t, cl.APIs[1], "refunds", "phrase-matching", map[string]any{"phrases": []string{"refund"}})
	attach(t, cl.APIs[0], *svc.Sid, escalation, phrases)

	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": refundCall}))))
	if err != nil {
		t.Fatal(err)
	}
	if done := WaitTranscript(t, c, *tr.Sid, 60*time.Second); *done.Status != "completed" {
		t.Fatalf("transcript %s", *done.Status)
	}
	enc, err := c.IntelligenceV2.FetchEncryptedSentences(*tr.Sid, (&intelligence.FetchEncryptedSentencesParams{}).SetRedacted(false))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(*enc.Location, "X-Amz-Signature=") {
		t.Fatalf("location is not an S3 presigned URL: %s", *enc.Location)
	}
	assertSentences(t, SeedDecrypt(t, kf.Private, *enc.Location), *tr.Sid, refundCall)
	res := decryptResults(t, cl.APIs[0], kf.Private, *tr.Sid, true)
	if r := res[escalation]; r.PredictedLabel == nil || *r.PredictedLabel != "yes" {
		t.Errorf("escalation: %+v", r)
	}
	if r := res[phrases]; r.UtteranceMatch == nil || !*r.UtteranceMatch {
		t.Errorf("phrases: %+v", r)
	}
	// Exactly the artifacts of this transcript are in the bucket: sentences
	// and two operator results, each in two variants; no sealed source left.
	objs := cl.Objects(t)
	if len(objs) != 6 {
		t.Fatalf("bucket holds %d objects, want 6: %v", len(objs), objs)
	}
	if err := c.IntelligenceV2.DeleteTranscript(*tr.Sid); err != nil {
		t.Fatal(err)
	}
	if objs := cl.Objects(t); len(objs) != 0 {
		t.Fatalf("objects left after delete: %v", objs)
	}
}

// TestClusterWorkerKilled: transcripts in flight while a random worker is
// killed (SIGKILL) and restarted every 3 s all complete exactly once,
// all decrypt, and the bucket holds no orphans.
func TestClusterWorkerKilled(t *testing.T) {
	n := 60
	if v := os.Getenv("CONVOSEAL_CHAOS_TRANSCRIPTS"); v != "" {
		fmt.Sscan(v, &n)
	}
	var served atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		time.Sleep(time.Second) // long enough to be killed mid-job
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"sentences": []sentenceIn{{1, 0, 1, "document " + r.URL.Path, 0.9, nil}}})
	}))
	defer slow.Close()
	cl := StartCluster(t, 2, 3, "--workers", "2", "--allow-private-media", "--job-timeout", "5s")
	c := cl.Twilio()
	kf, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("chaos").SetEncryptionCredentialSid(cred))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s cluster up", time.Now().Format("15:04:05.000"))
	sids := map[string]string{} // transcript → expected text
	for i := range n {
		path := fmt.Sprintf("/doc-%d", i)
		tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).SetChannel(Channel(slow.URL + path)))
		if err != nil {
			t.Fatal(err)
		}
		sids[*tr.Sid] = "document " + path
	}
	// Chaos: kill -9 a random worker every 3 s and restart it, until all done.
	done := make(chan struct{})
	var kills atomic.Int64
	chaos := make(chan error, 1)
	go func() {
		defer close(chaos)
		for {
			select {
			case <-done:
				return
			case <-time.After(3 * time.Second):
			}
			w := cl.Workers[rand.IntN(len(cl.Workers))]
			t.Logf("%s killing worker on port %d", time.Now().Format("15:04:05.000"), w.Port)
			w.Kill()
			kills.Add(1)
			if err := w.tryStart(w.env); err != nil {
				chaos <- err
				return
			}
		}
	}()
	t.Logf("%s created %d transcripts", time.Now().Format("15:04:05.000"), n)
	deadline := time.Now().Add(4*time.Minute + time.Duration(n)*500*time.Millisecond)
	for sid := range sids {
		for {
			tr, err := c.IntelligenceV2.FetchTranscript(sid)
			if err != nil {
				t.Fatal(err)
			}
			if *tr.Status == "completed" {
				break
			}
			if *tr.Status == "failed" || time.Now().After(deadline) {
				close(done)
				t.Fatalf("%s is %s", sid, *tr.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	close(done)
	if err := <-chaos; err != nil {
		t.Fatalf("restarting a killed worker: %v", err)
	}
	t.Logf("%d transcripts completed with %d worker kills; media served %d times", n, kills.Load(), served.Load())
	var all []string
	for sid := range sids {
		all = append(all, sid)
	}
	opened := lcOpenAll(t, c, kf.Private, all) // the documented script, one Python process
	for sid, want := range sids {
		doc := opened[sid]
		if len(doc.Sentences) != 1 || doc.Sentences[0].Transcript != want {
			t.Fatalf("%s decrypted to %+v", sid, doc.Sentences)
		}
	}
	if kills.Load() == 0 {
		t.Fatal("no worker was killed while transcripts were in flight: the test proved nothing")
	}
	objs := cl.Objects(t)
	if len(objs) != n {
		t.Fatalf("bucket holds %d objects for %d transcripts (orphans or missing): %v", len(objs), n, objs)
	}
	for _, o := range objs {
		parts := strings.Split(o, "/")
		if len(parts) != 5 || sids[parts[2]] == "" || parts[3] != "sentences" {
			t.Fatalf("unexpected object %s", o)
		}
	}
}
