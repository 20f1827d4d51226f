package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

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
	escalation := prebuilt(t, cl, "Escalation Request")
	phrases := customOperator(t, cl, "refunds", "phrase-matching", map[string]any{"phrases": []string{"refund"}})
	attach(t, cl, *svc.Sid, escalation, phrases)

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
	res := decryptResults(t, cl, kf.Private, *tr.Sid, true)
	if r := res[escalation]; r.PredictedLabel == nil || *r.PredictedLabel != "yes" {
		t.Errorf("escalation: %+v", r)
	}
	if r := res[phrases]; r.OperatorType != "extract" || r.ExtractMatch == nil || !*r.ExtractMatch {
		t.Errorf("phrases: %+v", r)
	}
	// Exactly the artifacts of this transcript are in the bucket: sentences
	// and two operator results, each in two variants; no sealed source left.
	objs := cl.Blobs(t)
	if len(objs) != 6 {
		t.Fatalf("bucket holds %d objects, want 6: %v", len(objs), objs)
	}
	if n := cl.SealedSources(t); n != 0 {
		t.Fatalf("database holds %d sealed sources after the transcript completed", n)
	}
	if err := c.IntelligenceV2.DeleteTranscript(*tr.Sid); err != nil {
		t.Fatal(err)
	}
	if objs := cl.Blobs(t); len(objs) != 0 {
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
	cl := StartCluster(t, 2, 3, "--workers", "2") // default --job-timeout (5 min): a dead worker's jobs are rescued by liveness, not by timeout
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
			if err := w.Start(); err != nil {
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
	// Completed exactly once: listed once each, and no process logged a
	// second completion of any transcript.
	listed, err := c.IntelligenceV2.ListTranscript((&intelligence.ListTranscriptParams{}).SetPageSize(50))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, x := range listed {
		seen[*x.Sid]++
	}
	for sid := range sids {
		if seen[sid] != 1 {
			t.Errorf("%s listed %d times", sid, seen[sid])
		}
	}
	log := cl.Log()
	completions := lcCompletedLogLines(log)
	for sid := range sids {
		if completions[sid] > 1 {
			t.Errorf("%s completed %d times", sid, completions[sid])
		}
	}
	t.Logf("%d transcripts listed; %d \"transcript completed\" log lines; %d rescues of a dead worker's jobs logged",
		len(listed), len(completions), strings.Count(string(log), "rescued jobs of a dead worker"))
	// The bucket, listed: one sentences object per transcript, nothing else.
	objs := cl.Blobs(t)
	if len(objs) != n {
		t.Fatalf("bucket holds %d objects for %d transcripts (orphans or missing): %v", len(objs), n, objs)
	}
	for _, o := range objs {
		parts := strings.Split(o, "/")
		if len(parts) != 4 || sids[parts[1]] == "" || parts[2] != "sentences" {
			t.Fatalf("unexpected object %s", o)
		}
	}
}

// TestClusterFirstStart: five processes started at once on a new database
// with no account configured make exactly one first account and one KEK;
// exactly one process prints the credentials and writes them (0600), and
// they work through the front proxy on every API process.
func TestClusterFirstStart(t *testing.T) {
	skipInClusterPass(t)
	s := startCluster(t, ServerOptions{NoAccount: true}, 2, 3)
	var made []string
	for _, p := range s.Processes() {
		dir := p.Args[slices.Index(p.Args, "--data")+1]
		f := filepath.Join(dir, "credentials")
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f, fi.Mode().Perm())
		}
		made = append(made, string(b))
		for _, l := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(l, "=")
			switch k {
			case "CONVOSEAL_ACCOUNT_SID":
				s.AccountSID = v
			case "CONVOSEAL_AUTH_TOKEN":
				s.AuthToken = v
			}
		}
	}
	if len(made) != 1 {
		t.Fatalf("%d processes wrote credentials, want exactly 1", len(made))
	}
	if n := strings.Count(string(s.Log()), "Created the first account"); n != 1 {
		t.Errorf("the credentials were printed %d times, want once", n)
	}
	out, err := s.CLI("accounts", "list").Output()
	if err != nil || strings.Count(string(out), "AC") != 1 || !strings.Contains(string(out), s.AccountSID) {
		t.Fatalf("accounts list: %v\n%s", err, out)
	}
	for range len(s.APIs) * 2 { // the proxy takes turns
		code, _ := s.Do(t, http.MethodGet, "/v2/Services", nil)
		if code != 200 {
			t.Fatalf("the first account's credentials: %d", code)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(s.Data, ".kek-*")); len(left) > 0 {
		t.Errorf("temporary KEK files left: %v", left)
	}
}
