package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/interop"
	twilio "github.com/twilio/twilio-go"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// This file checks durability: transcripts submitted before a crash
// (SIGKILL) or a graceful shutdown (SIGTERM) all complete, exactly once,
// after a restart. The helpers prefixed lc ("lifecycle") are shared with
// canary_test.go.

// lcSentence is one sentence of a submitted transcript document.
type lcSentence struct {
	MediaChannel int      `json:"media_channel"`
	StartTime    float64  `json:"start_time"`
	EndTime      float64  `json:"end_time"`
	Transcript   string   `json:"transcript"`
	Words        []lcWord `json:"words,omitempty"`
}

type lcWord struct {
	Word      string  `json:"word"`
	StartTime float64 `json:"start_time"`
	EndTime   float64 `json:"end_time"`
}

// lcDoc is a transcript document as submitted.
type lcDoc struct {
	Sentences []lcSentence `json:"sentences"`
}

// lcOpened is a decrypted sentences artifact.
type lcOpened struct {
	TranscriptSID string `json:"transcript_sid"`
	Sentences     []struct {
		SID           string          `json:"sid"`
		SentenceIndex int             `json:"sentence_index"`
		MediaChannel  int             `json:"media_channel"`
		StartTime     json.RawMessage `json:"start_time"`
		EndTime       json.RawMessage `json:"end_time"`
		Transcript    string          `json:"transcript"`
	} `json:"sentences"`
}

// lcMedia is a media server for transcript documents that counts requests
// and can answer slowly, so that jobs are still fetching when the server is
// stopped or killed.
type lcMedia struct {
	srv   *httptest.Server
	delay time.Duration

	mu       sync.Mutex
	docs     map[string]lcServed
	started  map[string]int // requests received
	served   map[string]int // responses written
	aborted  map[string]int // requests whose client went away while waiting
	inflight int
}

type lcServed struct {
	contentType string
	body        []byte
}

func newLCMedia(t *testing.T, delay time.Duration) *lcMedia {
	m := &lcMedia{delay: delay, docs: map[string]lcServed{}, started: map[string]int{}, served: map[string]int{}, aborted: map[string]int{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *lcMedia) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	d, ok := m.docs[r.URL.Path]
	m.started[r.URL.Path]++
	m.inflight++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.inflight--
		m.mu.Unlock()
	}()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if m.delay > 0 {
		select {
		case <-time.After(m.delay):
		case <-r.Context().Done():
			m.mu.Lock()
			m.aborted[r.URL.Path]++
			m.mu.Unlock()
			return
		}
	}
	w.Header().Set("Content-Type", d.contentType)
	w.Write(d.body)
	m.mu.Lock()
	m.served[r.URL.Path]++
	m.mu.Unlock()
}

// add publishes body at path and returns its URL.
func (m *lcMedia) add(path, contentType string, body []byte) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[path] = lcServed{contentType: contentType, body: body}
	return m.srv.URL + path
}

func (m *lcMedia) addJSON(path string, doc lcDoc) string {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return m.add(path, "application/json", b)
}

func (m *lcMedia) counts(path string) (started, served, aborted int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started[path], m.served[path], m.aborted[path]
}

func (m *lcMedia) inFlight() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inflight
}

// lcService creates a Service, with the credential as its
// EncryptionCredentialSid unless credentialSID is empty.
func lcService(t *testing.T, c *twilio.RestClient, uniqueName, credentialSID string) string {
	t.Helper()
	p := &intelligence.CreateServiceParams{}
	p.SetUniqueName(uniqueName)
	if credentialSID != "" {
		p.SetEncryptionCredentialSid(credentialSID)
	}
	svc, err := c.IntelligenceV2.CreateService(p)
	if err != nil {
		t.Fatalf("create service %s: %v", uniqueName, err)
	}
	if credentialSID != "" && (svc.EncryptionCredentialSid == nil || *svc.EncryptionCredentialSid != credentialSID) {
		t.Fatalf("service %s: encryption_credential_sid = %v, want %s", uniqueName, svc.EncryptionCredentialSid, credentialSID)
	}
	return *svc.Sid
}

// lcCreate submits a transcript and returns its SID.
func lcCreate(t *testing.T, c *twilio.RestClient, serviceSID, mediaURL string) string {
	t.Helper()
	p := &intelligence.CreateTranscriptParams{}
	p.SetServiceSid(serviceSID).SetChannel(Channel(mediaURL))
	tr, err := c.IntelligenceV2.CreateTranscript(p)
	if err != nil {
		t.Fatalf("create transcript (%.40s…): %v", mediaURL, err)
	}
	if tr.Sid == nil || tr.Status == nil {
		t.Fatalf("create transcript: no sid or status in %+v", tr)
	}
	return *tr.Sid
}

// lcOpenAll decrypts the Sentences/Encrypted location of every transcript
// with the documented Python script and returns the plaintexts. Starting
// Python and importing cryptography takes most of a second on a busy
// machine, so one Python process runs the unchanged script once per
// artifact (re-executing the module with that artifact's four environment
// values) instead of one process per artifact as SeedDecrypt does; the first
// artifact also goes through SeedDecrypt itself, to keep the two honest.
func lcOpenAll(t *testing.T, c *twilio.RestClient, privateKey string, sids []string) map[string]lcOpened {
	t.Helper()
	dir := t.TempDir()
	type job struct {
		Key        string `json:"ENCRYPTED_KEY_B64"`
		IV         string `json:"IV_B64"`
		File       string `json:"CIPHERTEXT_FILE"`
		PrivateKey string `json:"PRIVATE_KEY_FILE"`
	}
	jobs := make([]job, len(sids))
	var direct []byte
	for i, sid := range sids {
		enc, err := c.IntelligenceV2.FetchEncryptedSentences(sid, &intelligence.FetchEncryptedSentencesParams{})
		if err != nil {
			t.Fatalf("Sentences/Encrypted of %s: %v", sid, err)
		}
		if enc.Location == nil || *enc.Location == "" {
			t.Fatalf("Sentences/Encrypted of %s: no location", sid)
		}
		if i == 0 {
			direct = SeedDecrypt(t, privateKey, *enc.Location)
		}
		body, key, iv := Download(t, *enc.Location)
		if key == "" || iv == "" {
			t.Fatalf("location of %s lacks x-amz-meta-x-amz-key / x-amz-meta-x-amz-iv", sid)
		}
		f := filepath.Join(dir, sid+".bin")
		if err := os.WriteFile(f, body, 0o600); err != nil {
			t.Fatal(err)
		}
		jobs[i] = job{Key: key, IV: iv, File: f, PrivateKey: privateKey}
	}
	jobsFile := filepath.Join(dir, "jobs.json")
	b, _ := json.Marshal(jobs)
	if err := os.WriteFile(jobsFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("..", "internal", "interop", "seed_decrypt.py"))
	if err != nil {
		t.Fatal(err)
	}
	runner := filepath.Join(dir, "run_seed_decrypt.py")
	if err := os.WriteFile(runner, []byte(lcSeedRunner), 0o600); err != nil {
		t.Fatal(err)
	}
	interop.Run(t, nil, "python3", runner, script, jobsFile)

	out := map[string]lcOpened{}
	for i, sid := range sids {
		plain, err := os.ReadFile(jobs[i].File + ".json")
		if err != nil {
			t.Fatalf("the documented script wrote no plaintext for %s: %v", sid, err)
		}
		if i == 0 && !bytes.Equal(plain, direct) {
			t.Fatalf("%s: the batch run and SeedDecrypt disagree", sid)
		}
		var doc lcOpened
		if err := json.Unmarshal(plain, &doc); err != nil {
			t.Fatalf("decrypted sentences of %s are not the documented JSON: %v", sid, err)
		}
		out[sid] = doc
	}
	return out
}

// lcSeedRunner executes the documented script (argv[1]) once per job of the
// JSON file argv[2], with that job's environment.
const lcSeedRunner = `import importlib.util, json, os, sys
for job in json.load(open(sys.argv[2])):
    os.environ.update(job)
    spec = importlib.util.spec_from_file_location("seed_decrypt", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.DecryptScript.main()
`

// lcCheckSentences compares a decrypted artifact with what was submitted.
func lcCheckSentences(t *testing.T, sid string, got lcOpened, want lcDoc) {
	t.Helper()
	if got.TranscriptSID != sid {
		t.Errorf("%s: decrypted transcript_sid = %q", sid, got.TranscriptSID)
	}
	if len(got.Sentences) != len(want.Sentences) {
		t.Errorf("%s: decrypted %d sentences, submitted %d", sid, len(got.Sentences), len(want.Sentences))
		return
	}
	for i, s := range got.Sentences {
		w := want.Sentences[i]
		if s.Transcript != w.Transcript || s.MediaChannel != w.MediaChannel || s.SentenceIndex != i {
			t.Errorf("%s: sentence %d = {index %d, channel %d, %q}, want {index %d, channel %d, %q}",
				sid, i, s.SentenceIndex, s.MediaChannel, s.Transcript, i, w.MediaChannel, w.Transcript)
		}
		if !strings.HasPrefix(s.SID, "GX") {
			t.Errorf("%s: sentence %d sid %q", sid, i, s.SID)
		}
	}
}

// lcTracker follows transcript statuses across polls and restarts and fails
// the test when one goes backwards or a completed one changes.
type lcTracker struct {
	rank      map[string]int    // highest status rank seen
	completed map[string]string // date_updated when first seen completed
	last      map[string]string // latest status
}

var lcRank = map[string]int{"queued": 1, "in-progress": 2, "completed": 3, "failed": 3}

func newLCTracker() *lcTracker {
	return &lcTracker{rank: map[string]int{}, completed: map[string]string{}, last: map[string]string{}}
}

// poll lists the transcripts with a raw request (one page) and records them.
func (tr *lcTracker) poll(t *testing.T, s *Server, want int) map[string]int {
	t.Helper()
	code, body := s.Do(t, http.MethodGet, "/v2/Transcripts", url.Values{"PageSize": {"100"}})
	if code != http.StatusOK {
		t.Fatalf("GET /v2/Transcripts: %d %v", code, body)
	}
	list, _ := body["transcripts"].([]any)
	if len(list) != want {
		t.Fatalf("GET /v2/Transcripts lists %d transcripts, want %d", len(list), want)
	}
	counts := map[string]int{}
	bad := false
	for _, v := range list {
		m, _ := v.(map[string]any)
		sid, _ := m["sid"].(string)
		status, _ := m["status"].(string)
		updated, _ := m["date_updated"].(string)
		r, ok := lcRank[status]
		if !ok {
			t.Fatalf("%s: unexpected status %q", sid, status)
		}
		if r < tr.rank[sid] {
			t.Errorf("%s: status went back from %s to %s", sid, tr.last[sid], status)
			bad = true
		}
		if prev, ok := tr.completed[sid]; ok && (status != "completed" || updated != prev) {
			t.Errorf("%s: completed at %s, now %s with date_updated %s", sid, prev, status, updated)
			bad = true
		}
		if status == "completed" {
			if _, ok := tr.completed[sid]; !ok {
				tr.completed[sid] = updated
			}
		}
		tr.rank[sid] = max(tr.rank[sid], r)
		tr.last[sid] = status
		counts[status]++
	}
	if bad {
		t.FailNow()
	}
	return counts
}

// lcWaitFor polls until cond holds, failing at the deadline.
func lcWaitFor(t *testing.T, what string, deadline time.Time, poll func() map[string]int, cond func(map[string]int) bool) map[string]int {
	t.Helper()
	for {
		c := poll()
		if cond(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; statuses %v", what, c)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// lcCheckBlobs asserts the blob directory holds exactly one sentences object
// per transcript and nothing else: no sealed source left behind (there, or in
// the database), no temporary file.
func lcCheckBlobs(t *testing.T, s *Server, sids []string) {
	t.Helper()
	if n := s.SealedSources(t); n != 0 {
		t.Errorf("database: %d sealed sources left after every transcript finished", n)
	}
	want := map[string]bool{}
	for _, sid := range sids {
		want[s.AccountSID+"/"+sid+"/sentences/unredacted"] = true
	}
	for _, f := range s.Blobs(t) {
		base := f[strings.LastIndex(f, "/")+1:]
		switch {
		case strings.HasPrefix(base, ".tmp+"):
			t.Errorf("blobs: leftover temporary file %s", f)
		case base == "source":
			t.Errorf("blobs: leftover sealed source %s", f)
		case want[f]:
			delete(want, f)
		default:
			t.Errorf("blobs: unexpected file %s", f)
		}
	}
	for f := range want {
		t.Errorf("blobs: missing %s", f)
	}
}

// lcCompletedLogLines counts the "transcript completed" log lines per SID.
func lcCompletedLogLines(b []byte) map[string]int {
	n := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Msg string `json:"msg"`
			SID string `json:"transcript_sid"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "transcript completed" {
			n[rec.SID]++
		}
	}
	return n
}

// lcTestDoc is the distinct document of submission i.
func lcTestDoc(tag string, i int) lcDoc {
	var d lcDoc
	for j := 0; j < 1+i%3; j++ {
		start := float64(j) * 2.5
		d.Sentences = append(d.Sentences, lcSentence{
			MediaChannel: 1 + j%2,
			StartTime:    start,
			EndTime:      start + 2,
			Transcript:   fmt.Sprintf("%s document %d sentence %d", tag, i, j),
		})
	}
	return d
}

func TestRestartAfterKill(t *testing.T) {
	interop.RequireTools(t)
	began := time.Now()
	deadline := began.Add(150 * time.Second)
	const n = 30

	media := newLCMedia(t, 1500*time.Millisecond)
	s := StartServer(t, ServerOptions{Extra: []string{"--workers", "2"}})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc := lcService(t, c, "restart-after-kill", cred)

	type sub struct {
		sid  string
		doc  lcDoc
		path string // media server path; "" for inline
	}
	subs := make([]sub, n)
	for i := range subs {
		d := lcTestDoc("kill", i)
		subs[i].doc = d
		var u string
		if i%3 == 1 { // a third inline, the rest slow over HTTP
			u = DataURL(d)
		} else {
			subs[i].path = fmt.Sprintf("/media/%02d.json", i)
			u = media.addJSON(subs[i].path, d)
		}
		subs[i].sid = lcCreate(t, c, svc, u)
	}
	t.Logf("submitted %d transcripts in %v", n, time.Since(began).Round(time.Millisecond))
	sids := make([]string, n)
	for i, x := range subs {
		sids[i] = x.sid
	}

	tr := newLCTracker()
	poll := func() map[string]int { return tr.poll(t, s, n) }

	// Kill 1: jobs in flight (a fetch waiting on the media server) and some
	// still queued.
	at := lcWaitFor(t, "a fetch in flight and transcripts queued", deadline, poll, func(c map[string]int) bool {
		return c["in-progress"] >= 1 && c["queued"] >= 1 && media.inFlight() >= 1
	})
	inflight := media.inFlight()
	s.Kill()
	t.Logf("kill 1 at %v: %v, %d fetches in flight", time.Since(began).Round(time.Millisecond), at, inflight)

	s.Restart()
	after := poll() // the state the new process starts from
	t.Logf("after restart 1: %v", after)
	if after["completed"] < at["completed"] {
		t.Fatalf("completed transcripts went from %d to %d across the kill", at["completed"], after["completed"])
	}

	// Kill 2: after a few more completions, again with a fetch in flight.
	base := after["completed"]
	at = lcWaitFor(t, "three more completions and a fetch in flight", deadline, poll, func(c map[string]int) bool {
		return c["completed"] >= base+3 && c["completed"] < n && c["in-progress"] >= 1 && media.inFlight() >= 1
	})
	inflight = media.inFlight()
	s.Kill()
	t.Logf("kill 2 at %v: %v, %d fetches in flight", time.Since(began).Round(time.Millisecond), at, inflight)

	s.Restart()
	t.Logf("after restart 2: %v", poll())

	final := lcWaitFor(t, "every transcript to finish", deadline, poll, func(c map[string]int) bool {
		return c["completed"]+c["failed"] == n
	})
	t.Logf("all finished at %v: %v", time.Since(began).Round(time.Millisecond), final)
	if final["completed"] != n {
		t.Fatalf("statuses at the end: %v, want %d completed", final, n)
	}

	// Listing through twilio-go with a small page size follows next_page_url.
	code, first := s.Do(t, http.MethodGet, "/v2/Transcripts", url.Values{"PageSize": {"7"}})
	meta, _ := first["meta"].(map[string]any)
	if next, _ := meta["next_page_url"].(string); code != 200 || next == "" {
		t.Fatalf("first page of 7: status %d, next_page_url %v", code, meta["next_page_url"])
	}
	listed, err := c.IntelligenceV2.ListTranscript((&intelligence.ListTranscriptParams{}).SetPageSize(7))
	if err != nil {
		t.Fatalf("ListTranscript: %v", err)
	}
	seen := map[string]int{}
	for _, x := range listed {
		seen[*x.Sid]++
		if *x.Status != "completed" {
			t.Errorf("%s listed as %s", *x.Sid, *x.Status)
		}
	}
	if len(listed) != n {
		t.Errorf("ListTranscript (PageSize 7) returned %d transcripts, want %d", len(listed), n)
	}
	for _, sid := range sids {
		if seen[sid] != 1 {
			t.Errorf("%s listed %d times, want once", sid, seen[sid])
		}
	}

	// Each decrypts, with the documented script, to exactly its own
	// sentences.
	opened := lcOpenAll(t, c, kf.Private, sids)
	for _, x := range subs {
		lcCheckSentences(t, x.sid, opened[x.sid], x.doc)
	}
	t.Logf("decrypted %d artifacts at %v", len(opened), time.Since(began).Round(time.Millisecond))

	// Storage: one sentences object each, no sealed source, no temp file.
	lcCheckBlobs(t, s, sids)

	// Completed exactly once: the log never records a second completion
	// (a line can be lost if the kill lands right after the commit).
	lines := lcCompletedLogLines(s.Log())
	logged := 0
	for _, sid := range sids {
		if lines[sid] > 1 {
			t.Errorf("%s: %d \"transcript completed\" log lines, want at most 1", sid, lines[sid])
		}
		logged += min(lines[sid], 1)
	}

	// Fetches: a job killed while fetching fetches again in the next
	// process; nothing else fetches twice.
	var report []string
	refetched := 0
	for _, x := range subs {
		if x.path == "" {
			continue
		}
		started, served, aborted := media.counts(x.path)
		if started == 0 {
			t.Errorf("%s (%s) was never fetched", x.sid, x.path)
		}
		if started > 1 {
			refetched++
		}
		if started > 3 || served < 1 {
			t.Errorf("%s (%s): %d requests, %d served; want 1 to 3 requests (one per process that worked it) and at least one served",
				x.sid, x.path, started, served)
		}
		report = append(report, fmt.Sprintf("%s:%d/%d/%d", strings.TrimPrefix(x.path, "/media/"), started, served, aborted))
	}
	t.Logf("media requests per document (received/served/aborted): %s", strings.Join(report, " "))
	t.Logf("%d documents fetched more than once; %d of %d completions logged; total %v",
		refetched, logged, n, time.Since(began).Round(time.Millisecond))
	if refetched == 0 {
		t.Errorf("no document was fetched twice: the kills did not interrupt a fetch, so the test proved less than it should")
	}
}

func TestGracefulShutdown(t *testing.T) {
	interop.RequireTools(t)
	began := time.Now()
	deadline := began.Add(90 * time.Second)
	const n = 8
	const shutdownTimeout = 10 * time.Second

	media := newLCMedia(t, 1500*time.Millisecond)
	s := StartServer(t, ServerOptions{Extra: []string{"--workers", "2", "--shutdown-timeout", shutdownTimeout.String()}})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc := lcService(t, c, "graceful-shutdown", cred)

	docs := map[string]lcDoc{}
	paths := map[string]string{}
	var sids []string
	for i := 0; i < n; i++ {
		d := lcTestDoc("term", i)
		p := fmt.Sprintf("/graceful/%02d.json", i)
		sid := lcCreate(t, c, svc, media.addJSON(p, d))
		docs[sid], paths[sid] = d, p
		sids = append(sids, sid)
	}

	tr := newLCTracker()
	poll := func() map[string]int { return tr.poll(t, s, n) }
	at := lcWaitFor(t, "two fetches in flight", deadline, poll, func(c map[string]int) bool {
		return c["in-progress"] >= 2 && media.inFlight() >= 2
	})
	var running []string
	for _, sid := range sids {
		if tr.last[sid] == "in-progress" {
			running = append(running, sid)
		}
	}

	stopAt := time.Now()
	s.Stop()
	took := time.Since(stopAt)
	if !s.Exited() {
		t.Fatal("convoseal did not exit after SIGTERM")
	}
	code := s.ExitCode()
	t.Logf("SIGTERM with %v (%d fetches in flight): exit code %d after %v", at, len(running), code, took.Round(time.Millisecond))
	if code != 0 {
		log := s.Log()
		t.Errorf("exit code %d after SIGTERM, want 0; log tail:\n%s", code, lcTail(log, 15))
	}
	if took > shutdownTimeout+2*time.Second {
		t.Errorf("shutdown took %v, more than --shutdown-timeout %v", took, shutdownTimeout)
	}

	// Graceful means the jobs that were running finished: their fetches were
	// answered, not abandoned, and they are completed the moment the next
	// process starts (a re-fetch would take 1.5 s).
	shutdownLog := s.Log()
	s.Restart()
	poll()
	unfinished := 0
	for _, sid := range running {
		if st := tr.last[sid]; st != "completed" {
			started, served, aborted := media.counts(paths[sid])
			t.Errorf("%s was in progress at SIGTERM and is %s right after restart (media requests %d, served %d, abandoned %d): "+
				"the shutdown did not let it finish", sid, st, started, served, aborted)
			unfinished++
		}
	}
	if unfinished > 0 {
		var evidence []string
		for _, l := range strings.Split(string(shutdownLog), "\n") {
			if strings.Contains(l, `"transcript failed"`) || strings.Contains(l, "Job errored") {
				evidence = append(evidence, l)
			}
		}
		t.Logf("what the stopped process logged about its jobs:\n%s", strings.Join(evidence, "\n"))
	}

	final := lcWaitFor(t, "every transcript to finish", deadline, poll, func(c map[string]int) bool {
		return c["completed"]+c["failed"] == n
	})
	if final["completed"] != n {
		t.Fatalf("statuses at the end: %v, want %d completed", final, n)
	}
	opened := lcOpenAll(t, c, kf.Private, sids)
	for _, sid := range sids {
		lcCheckSentences(t, sid, opened[sid], docs[sid])
		started, served, aborted := media.counts(paths[sid])
		if started != 1 || served != 1 || aborted != 0 {
			t.Errorf("%s: media requested %d times, served %d, abandoned %d; want each once (a graceful stop abandons nothing)",
				sid, started, served, aborted)
		}
	}
	lcCheckBlobs(t, s, sids)
	t.Logf("total %v", time.Since(began).Round(time.Millisecond))
}

// lcTail returns the last n lines of b.
func lcTail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
