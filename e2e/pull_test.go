package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// pullCorpus is what the pull tests submitted: per transcript the hash of its
// sentence texts, joined by newlines.
type pullCorpus struct {
	service string
	ops     map[string]bool // the operators attached (LY…)
	hashes  map[string]string
}

// pullTextHash hashes sentence texts as the pull tests compare them.
func pullTextHash(texts []string) string {
	sum := sha256.Sum256([]byte(strings.Join(texts, "\n")))
	return hex.EncodeToString(sum[:])
}

// seedPull creates n transcripts of inline documents on the Service svc
// (through the API, concurrently) and waits until all are completed. Each
// has three sentences of text known to the test.
func seedPull(t *testing.T, s *Server, svc string, n int, corpus *pullCorpus) {
	t.Helper()
	if corpus.hashes == nil {
		corpus.hashes = map[string]string{}
	}
	before := s.Metric(t, `convoseal_transcripts_finished_total{status="completed"}`)
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var (
		mu       sync.Mutex
		firstErr error
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	words := strings.Fields("order refund invoice delivery account balance plan upgrade router signal bill visit appointment parcel")
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var texts []string
				var sents []sentenceIn
				for j := range 3 {
					txt := fmt.Sprintf("Pull test %s sentence %d: the customer asked about the %s and the %s, code %d.",
						svc[len(svc)-6:], j, words[rand.IntN(len(words))], words[rand.IntN(len(words))], rand.IntN(1_000_000))
					texts = append(texts, txt)
					sents = append(sents, sentenceIn{MediaChannel: 1 + j%2, StartTime: float64(j), EndTime: float64(j) + 0.9, Transcript: txt, Confidence: 0.9})
				}
				ch, _ := json.Marshal(Channel(DataURL(map[string]any{"sentences": sents})))
				form := url.Values{"ServiceSid": {svc}, "Channel": {string(ch)}}
				sid, err := postTranscript(hc, s, form)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					corpus.hashes[sid] = pullTextHash(texts)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		done := s.Metric(t, `convoseal_transcripts_finished_total{status="completed"}`) - before
		if failed := s.Metric(t, `convoseal_transcripts_finished_total{status="failed"}`); failed > 0 {
			t.Fatalf("%v transcripts failed in the pipeline", failed)
		}
		if int(done) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %v of %d transcripts completed in 3 minutes", done, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// postTranscript creates one transcript (retrying a 429 or 503) and returns its SID.
func postTranscript(hc *http.Client, s *Server, form url.Values) (string, error) {
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v2/Transcripts", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(s.AccountSID, s.AuthToken)
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		var out struct {
			SID     string `json:"sid"`
			Message string `json:"message"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if (resp.StatusCode == 429 || resp.StatusCode == 503) && attempt < 50 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if (resp.StatusCode != 201 && resp.StatusCode != 202) || out.SID == "" {
			return "", fmt.Errorf("create transcript: %d %s", resp.StatusCode, out.Message)
		}
		return out.SID, nil
	}
}

// pullCmd is `convoseal pull` for the server's account, with args.
func pullCmd(s *Server, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, append([]string{"pull", "--url", s.URL}, args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVOSEAL_PRIVATE_KEY=") && !strings.HasPrefix(kv, "TWILIO_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "TWILIO_ACCOUNT_SID="+s.AccountSID, "TWILIO_AUTH_TOKEN="+s.AuthToken)
	return cmd
}

// pullSummary is the figures of a pull's summary.
type pullSummary struct {
	pulled, skipped, failed, pending, artifacts int
	bytes                                       int64
}

var summaryLine = regexp.MustCompile(`(?m)^  (pulled|skipped|failed|pending|artifacts)\s+(\d+)`)
var summaryBytes = regexp.MustCompile(`(?m)^  downloaded .*\((\d+) bytes\)`)

func parsePullSummary(t *testing.T, stderr string) pullSummary {
	t.Helper()
	var p pullSummary
	m := summaryLine.FindAllStringSubmatch(stderr, -1)
	if len(m) < 5 {
		t.Fatalf("no summary in the pull's output:\n%s", stderr)
	}
	for _, g := range m {
		v, _ := strconv.Atoi(g[2])
		switch g[1] {
		case "pulled":
			p.pulled = v
		case "skipped":
			p.skipped = v
		case "failed":
			p.failed = v
		case "pending":
			p.pending = v
		case "artifacts":
			p.artifacts = v
		}
	}
	if b := summaryBytes.FindStringSubmatch(stderr); b != nil {
		p.bytes, _ = strconv.ParseInt(b[1], 10, 64)
	}
	return p
}

// runPull runs a pull to the end and returns its standard output, error
// output and summary; it fails the test on a non-zero exit.
func runPull(t *testing.T, s *Server, args ...string) (stdout []byte, stderr string, sum pullSummary) {
	t.Helper()
	cmd := pullCmd(s, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("convoseal pull %v: %v\n%s", args, err, tail(errb.String(), 4000))
	}
	return out.Bytes(), errb.String(), parsePullSummary(t, errb.String())
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// requestCount sums the API's request counter over the routes whose label
// contains one of routes (all processes, every method and status).
func requestCount(t *testing.T, s *Server, routes ...string) float64 {
	t.Helper()
	return s.MetricSum(t, func(series string) bool {
		if !strings.HasPrefix(series, "convoseal_http_request_duration_seconds_count{") {
			return false
		}
		for _, r := range routes {
			if strings.Contains(series, `route="`+r) {
				return true
			}
		}
		return false
	})
}

// checkPullDir checks every folder of a pull: the transcripts of corpus and
// nothing else, sentences hashing to the submitted text, one parseable result
// per attached operator bound to its transcript and operator, transcript.json
// describing exactly these files, modes 0600/0700, and no temporary file.
func checkPullDir(t *testing.T, dir string, corpus *pullCorpus) {
	t.Helper()
	seen := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if strings.Contains(d.Name(), ".convoseal-tmp-") {
			t.Errorf("temporary file left behind: %s", path)
		}
		if d.IsDir() && path != dir && info.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", path, info.Mode().Perm())
		}
		if !d.IsDir() && info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sid := e.Name()
		want, ok := corpus.hashes[sid]
		if !ok {
			t.Errorf("folder %s is not one of the submitted transcripts", sid)
			continue
		}
		seen++
		if err := checkPullFolder(filepath.Join(dir, sid), sid, want, corpus.ops); err != nil {
			if bad++; bad <= 10 {
				t.Errorf("%s: %v", sid, err)
			}
		}
	}
	if bad > 10 {
		t.Errorf("… %d folders wrong in all", bad)
	}
	if seen != len(corpus.hashes) {
		t.Errorf("%d transcript folders, want %d", seen, len(corpus.hashes))
	}
}

type pulledMeta struct {
	SID    string `json:"sid"`
	Pulled struct {
		Artifacts []struct {
			File           string `json:"file"`
			SHA256         string `json:"sha256"`
			KeyFingerprint string `json:"key_fingerprint"`
		} `json:"artifacts"`
	} `json:"pulled"`
}

func checkPullFolder(dir, sid, wantHash string, ops map[string]bool) error {
	sent, err := os.ReadFile(filepath.Join(dir, "sentences.json"))
	if err != nil {
		return err
	}
	if err := checkSentences(sent, sid, wantHash); err != nil {
		return fmt.Errorf("sentences.json: %w", err)
	}
	results, err := os.ReadDir(filepath.Join(dir, "operator-results"))
	if err != nil {
		return err
	}
	if len(results) != len(ops) {
		return fmt.Errorf("%d operator results, want %d", len(results), len(ops))
	}
	files := map[string][]byte{"sentences.json": sent}
	for _, r := range results {
		b, err := os.ReadFile(filepath.Join(dir, "operator-results", r.Name()))
		if err != nil {
			return err
		}
		var res struct {
			TranscriptSID string          `json:"transcript_sid"`
			OperatorSID   string          `json:"operator_sid"`
			OperatorType  string          `json:"operator_type"`
			Result        json.RawMessage `json:"-"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: not JSON: %w", r.Name(), err)
		}
		if res.TranscriptSID != sid || res.OperatorSID+".json" != r.Name() || !ops[res.OperatorSID] || res.OperatorType == "" {
			return fmt.Errorf("%s: bound to transcript %q, operator %q (type %q)", r.Name(), res.TranscriptSID, res.OperatorSID, res.OperatorType)
		}
		files["operator-results/"+r.Name()] = b
	}
	mb, err := os.ReadFile(filepath.Join(dir, "transcript.json"))
	if err != nil {
		return err
	}
	var m pulledMeta
	if err := json.Unmarshal(mb, &m); err != nil {
		return fmt.Errorf("transcript.json: %w", err)
	}
	if m.SID != sid || len(m.Pulled.Artifacts) != len(files) {
		return fmt.Errorf("transcript.json: sid %s, %d artifacts, want %d", m.SID, len(m.Pulled.Artifacts), len(files))
	}
	for _, a := range m.Pulled.Artifacts {
		sum := sha256.Sum256(files[a.File])
		if files[a.File] == nil || hex.EncodeToString(sum[:]) != a.SHA256 || a.KeyFingerprint == "" {
			return fmt.Errorf("transcript.json: artifact %s does not match its file", a.File)
		}
	}
	return nil
}

// checkSentences checks a decrypted sentences document against the hash of
// the submitted texts.
func checkSentences(doc []byte, sid, wantHash string) error {
	var d struct {
		TranscriptSID string `json:"transcript_sid"`
		Sentences     []struct {
			Transcript string `json:"transcript"`
		} `json:"sentences"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	if d.TranscriptSID != sid {
		return fmt.Errorf("transcript_sid %q", d.TranscriptSID)
	}
	var texts []string
	for _, s := range d.Sentences {
		texts = append(texts, s.Transcript)
	}
	if pullTextHash(texts) != wantHash {
		return fmt.Errorf("the texts differ from those submitted (%d sentences)", len(texts))
	}
	return nil
}

// TestPull: 2,000 transcripts, each with sentences and three operator
// results, sealed with the customer's key. A pull killed (SIGKILL) once it
// has done a third, then run again, ends with every folder complete and
// correct, without downloading again what the killed run finished; a second
// pull downloads nothing (no /Encrypted request, no location GET); the
// files match the documented Python script's decryption of a sample; and
// --jsonl with --state gives the same documents, once.
func TestPull(t *testing.T) {
	// 2,000 on both backends: on the cluster pass (Postgres + S3, 2 API and
	// 3 worker processes) seeding takes ≈ 19 s and the whole test ≈ 60 s on
	// this 2-core machine, as on the embedded one.
	const n = 2000
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc := lcService(t, c, "pull", cred)
	corpus := &pullCorpus{service: svc, ops: map[string]bool{}}
	for _, name := range []string{"Sentiment Analysis", "Escalation Request", "PII Extraction"} {
		op := prebuilt(t, s, name)
		attach(t, s, svc, op)
		corpus.ops[op] = true
	}
	start := time.Now()
	seedPull(t, s, svc, n, corpus)
	t.Logf("seeded %d transcripts in %s", n, time.Since(start).Round(time.Millisecond))

	dir := filepath.Join(t.TempDir(), "pulled")
	args := []string{"--private-key", kf.Private, "--service", svc, "-o", dir}

	// A run interrupted (SIGINT) once a sixth is done stops cleanly: exit
	// 130, a summary, and a state naming at least what it reported done.
	start = time.Now()
	fast := append(append([]string(nil), args...), "--parallel", "2", "--progress-interval", "50ms")
	interrupted, log := pullSignalled(t, s, os.Interrupt, func(done, skipped int) bool { return 6*done >= n }, fast...)
	if interrupted.code != 130 || !strings.Contains(log, "interrupted; the state is saved") {
		t.Fatalf("SIGINT: exit %d\n%s", interrupted.code, tail(log, 2000))
	}
	sum := parsePullSummary(t, log)
	var st struct {
		Scopes map[string]struct {
			Done map[string]string `json:"done"`
		} `json:"scopes"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".convoseal-pull.state")); err != nil || json.Unmarshal(b, &st) != nil || len(st.Scopes[svc].Done) != sum.pulled || sum.pulled < interrupted.done {
		t.Fatalf("after SIGINT: state %v (%d done), summary %+v, progress said %d", err, len(st.Scopes[svc].Done), sum, interrupted.done)
	}
	t.Logf("interrupted after %s with %d pulled", time.Since(start).Round(time.Millisecond), sum.pulled)

	// A run killed outright (SIGKILL) once a third is done, counting those
	// it skipped as pulled before.
	start = time.Now()
	killed, log := pullSignalled(t, s, os.Kill, func(done, skipped int) bool { return done > 0 && 3*(done+skipped) >= n }, fast...)
	if killed.code != -1 || killed.skipped < sum.pulled {
		t.Fatalf("SIGKILL: exit %d, %d skipped (%d pulled before)\n%s", killed.code, killed.skipped, sum.pulled, tail(log, 2000))
	}
	killedAt := killed.done + killed.skipped
	var partial, complete int
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "transcript.json")); err == nil {
			complete++
		} else if e.IsDir() {
			partial++
		}
	}
	t.Logf("killed after %s at %d/%d done: %d complete and %d partial folders", time.Since(start).Round(time.Millisecond), killedAt, n, complete, partial)
	if complete < killedAt {
		t.Fatalf("%d complete folders, but the killed run reported %d done", complete, killedAt)
	}

	// Run again: finishes, re-downloading nothing the killed run completed.
	encBefore := requestCount(t, s, "/v2/Transcripts/{sid}/Sentences/Encrypted")
	start = time.Now()
	_, stderr, sum := runPull(t, s, args...)
	t.Logf("resumed pull: %s: %+v", time.Since(start).Round(time.Millisecond), sum)
	if sum.failed != 0 || sum.pulled+sum.skipped != n || sum.skipped < complete {
		t.Fatalf("resumed pull: %+v; want %d in all, at least %d skipped\n%s", sum, n, complete, tail(stderr, 3000))
	}
	// (A few more would be retries of a request the busy server refused.)
	if got := requestCount(t, s, "/v2/Transcripts/{sid}/Sentences/Encrypted") - encBefore; int(got) < sum.pulled || int(got) > sum.pulled+10 {
		t.Errorf("the resumed pull fetched %v sentences locations for %d transcripts pulled", got, sum.pulled)
	}
	if sum.artifacts != 4*sum.pulled || sum.bytes <= 0 {
		t.Errorf("resumed pull: %d artifacts, %d bytes for %d transcripts", sum.artifacts, sum.bytes, sum.pulled)
	}
	checkPullDir(t, dir, corpus)
	if _, err := os.Stat(filepath.Join(dir, ".convoseal-pull.state")); err != nil {
		t.Fatalf("no state file: %v", err)
	}

	// A second run downloads nothing.
	counted := []string{"/v2/Transcripts/{sid}/Sentences/Encrypted", "/v2/Transcripts/{sid}/OperatorResults/Encrypted", "/blobs/"}
	before := requestCount(t, s, counted...)
	_, stderr, sum = runPull(t, s, args...)
	if got := requestCount(t, s, counted...) - before; got != 0 || sum.pulled != 0 || sum.skipped != n || sum.bytes != 0 {
		t.Fatalf("second pull: %v /Encrypted and location requests, summary %+v\n%s", got, sum, stderr)
	}

	// The documented script decrypts a sample to the same bytes.
	sids := make([]string, 0, len(corpus.hashes))
	for sid := range corpus.hashes {
		sids = append(sids, sid)
	}
	for _, sid := range sids[:2] {
		for opSID, r := range decryptResultsRaw(t, s, kf.Private, sid) {
			got, err := os.ReadFile(filepath.Join(dir, sid, "operator-results", opSID+".json"))
			if err != nil || !bytes.Equal(got, r) {
				t.Errorf("%s/%s: the pulled file differs from the documented script's decryption (%v)", sid, opSID, err)
			}
		}
	}
	enc, err := c.IntelligenceV2.FetchEncryptedSentences(sids[0], &intelligence.FetchEncryptedSentencesParams{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, sids[0], "sentences.json")); !bytes.Equal(got, SeedDecrypt(t, kf.Private, *enc.Location)) {
		t.Errorf("%s: sentences.json differs from the documented script's decryption", sids[0])
	}

	// JSON Lines with a state file: every transcript once, then nothing.
	state := filepath.Join(t.TempDir(), "jsonl.state")
	jargs := []string{"--private-key", kf.Private, "--service", svc, "--jsonl", "--state", state, "--no-progress"}
	out, _, sum := runPull(t, s, jargs...)
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if len(lines) != n || sum.pulled != n {
		t.Fatalf("--jsonl: %d lines, summary %+v; want %d", len(lines), sum, n)
	}
	got := map[string]bool{}
	for _, l := range lines {
		var rec struct {
			Transcript struct {
				SID string `json:"sid"`
			} `json:"transcript"`
			Sentences       json.RawMessage   `json:"sentences"`
			OperatorResults []json.RawMessage `json:"operator_results"`
		}
		if err := json.Unmarshal(l, &rec); err != nil {
			t.Fatalf("--jsonl: a line is not JSON: %v", err)
		}
		sid := rec.Transcript.SID
		if got[sid] {
			t.Fatalf("--jsonl: %s twice", sid)
		}
		got[sid] = true
		if err := checkSentences(rec.Sentences, sid, corpus.hashes[sid]); err != nil || len(rec.OperatorResults) != 3 {
			t.Fatalf("--jsonl: %s: %v, %d operator results", sid, err, len(rec.OperatorResults))
		}
	}
	out, _, sum = runPull(t, s, jargs...)
	if len(bytes.TrimSpace(out)) != 0 || sum.pulled != 0 || sum.skipped != n {
		t.Fatalf("second --jsonl pull: %d bytes out, summary %+v", len(out), sum)
	}
}

// signalled is how a signalled pull ended: its exit code (-1: killed by
// the signal) and the done and skipped counts of its last progress line.
type signalled struct {
	code, done, skipped int
}

var progressLine = regexp.MustCompile(`^pull: (\d+)/\S+ transcripts, \d+ failed, (\d+) skipped`)

// pullSignalled starts a pull, sends it sig once a progress line satisfies
// when, and returns how it ended and everything it wrote to standard error.
// It fails the test if the pull ended before the signal.
func pullSignalled(t *testing.T, s *Server, sig os.Signal, when func(done, skipped int) bool, args ...string) (signalled, string) {
	t.Helper()
	cmd := pullCmd(s, args...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var r signalled
	var log strings.Builder
	sent := false
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if m := progressLine.FindStringSubmatch(sc.Text()); m != nil && !sent {
			r.done, _ = strconv.Atoi(m[1])
			r.skipped, _ = strconv.Atoi(m[2])
			if when(r.done, r.skipped) {
				cmd.Process.Signal(sig)
				sent = true
			}
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !sent || !errors.As(err, &ee) {
		t.Fatalf("the pull ended before it was sent %v (exit %v):\n%s", sig, err, tail(log.String(), 3000))
	}
	r.code = ee.ExitCode()
	return r, log.String()
}

// decryptResultsRaw decrypts a transcript's operator results with the
// documented script, keyed by operator SID, as the exact plaintext bytes.
func decryptResultsRaw(t *testing.T, s *Server, key, transcriptSID string) map[string][]byte {
	t.Helper()
	enc, err := s.Twilio().IntelligenceV2.FetchEncryptedOperatorResults(transcriptSID, &intelligence.FetchEncryptedOperatorResultsParams{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, loc := range *enc.Locations {
		pt := SeedDecrypt(t, key, loc)
		var r struct {
			OperatorSID string `json:"operator_sid"`
		}
		if err := json.Unmarshal(pt, &r); err != nil || r.OperatorSID == "" {
			t.Fatalf("operator result is not JSON with an operator_sid: %v", err)
		}
		out[r.OperatorSID] = pt
	}
	if len(out) != 3 {
		t.Fatalf("%s: %d operator results", transcriptSID, len(out))
	}
	return out
}

// TestPullKeyRotation: the Service's key is changed half-way; one pull given
// both private keys (one as a file, one in $CONVOSEAL_PRIVATE_KEY) decrypts
// the transcripts sealed under each. A pull given only the old key fails the
// newer ones with a reason, exits non-zero, and leaves them to the next run.
func TestPullKeyRotation(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	kf1, cred1 := RegisterKey(t, c)
	svc := lcService(t, c, "rotate", cred1)
	corpus := &pullCorpus{service: svc, ops: map[string]bool{}}
	op := prebuilt(t, s, "Sentiment Analysis")
	attach(t, s, svc, op)
	corpus.ops[op] = true
	const half = 15
	seedPull(t, s, svc, half, corpus)

	kf2, cred2 := RegisterKey(t, c)
	if code, body := s.Do(t, http.MethodPost, "/v2/Services/"+svc, url.Values{"EncryptionCredentialSid": {cred2}}); code != 200 || body["encryption_credential_sid"] != cred2 {
		t.Fatalf("update the Service's key: %d %v", code, body)
	}
	seedPull(t, s, svc, half, corpus)

	dir := filepath.Join(t.TempDir(), "pulled")
	args := []string{"--private-key", kf1.Private, "--service", svc, "-o", dir, "--no-progress"}
	cmd := pullCmd(s, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("a pull with the old key only: %v, want exit 1\n%s", err, out)
	}
	sum := parsePullSummary(t, string(out))
	t.Logf("with the old key only:\n%s", tail(string(out), 900))
	if sum.pulled != half || sum.failed != half || strings.Count(string(out), "failed GT") != half || strings.Contains(string(out), "Signature=") {
		t.Fatalf("a pull with the old key only: %+v\n%s", sum, out)
	}

	key2, err := os.ReadFile(kf2.Private)
	if err != nil {
		t.Fatal(err)
	}
	cmd = pullCmd(s, args...)
	cmd.Env = append(cmd.Env, "CONVOSEAL_PRIVATE_KEY="+string(key2))
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("a pull with both keys: %v\n%s", err, out)
	}
	if sum := parsePullSummary(t, string(out)); sum.pulled != half || sum.skipped != half || sum.failed != 0 {
		t.Fatalf("a pull with both keys after one with the old: %+v\n%s", sum, out)
	}
	checkPullDir(t, dir, corpus)

	// One pull with both keys into a new directory takes all, and each
	// folder names the key that opened it: both were used.
	dir2 := filepath.Join(t.TempDir(), "pulled2")
	_, _, sum = runPull(t, s, "--private-key", kf1.Private, "--private-key", kf2.Private, "--service", svc, "-o", dir2, "--no-progress")
	if sum.pulled != 2*half || sum.failed != 0 {
		t.Fatalf("one pull with both keys: %+v", sum)
	}
	checkPullDir(t, dir2, corpus)
	fingerprints := map[string]int{}
	for sid := range corpus.hashes {
		b, err := os.ReadFile(filepath.Join(dir2, sid, "transcript.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m pulledMeta
		json.Unmarshal(b, &m)
		for _, a := range m.Pulled.Artifacts {
			fingerprints[a.KeyFingerprint]++
		}
	}
	if len(fingerprints) != 2 {
		t.Fatalf("artifacts opened with %d distinct keys, want 2: %v", len(fingerprints), fingerprints)
	}
	for fp, k := range fingerprints {
		if k != 2*half { // sentences and one result per transcript, half the transcripts
			t.Errorf("key %s opened %d artifacts, want %d", fp, k, 2*half)
		}
	}
}

// TestPullPending: transcripts still in progress are counted as pending and
// pulled by a later run, although newer ones were pulled before them (they
// complete out of creation order); nothing is downloaded twice.
func TestPullPending(t *testing.T) {
	release := make(chan struct{})
	var held atomic.Int32
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"sentences": []sentenceIn{{1, 0, 1, "held " + r.URL.Path, 0.9, nil}}})
	}))
	defer media.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc := lcService(t, c, "pending", cred)
	corpus := &pullCorpus{service: svc, ops: map[string]bool{}, hashes: map[string]string{}}
	op := prebuilt(t, s, "Sentiment Analysis")
	attach(t, s, svc, op)
	corpus.ops[op] = true
	// The held ones are created first (the oldest), and wait in the pipeline,
	// holding two of serve's four workers (--workers); the others complete.
	var heldSIDs []string
	for i := range 2 {
		sid := lcCreate(t, c, svc, fmt.Sprintf("%s/call-%d.json", media.URL, i))
		heldSIDs = append(heldSIDs, sid)
		corpus.hashes[sid] = pullTextHash([]string{fmt.Sprintf("held /call-%d.json", i)})
	}
	for deadline := time.Now().Add(30 * time.Second); held.Load() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the pipeline did not fetch the held media")
		}
	}
	time.Sleep(1100 * time.Millisecond) // the others are created in a later second
	seedPull(t, s, svc, 5, corpus)

	dir := filepath.Join(t.TempDir(), "pulled")
	// Without the margin for late commits, only the pending transcripts
	// keep the watermark down.
	args := []string{"--private-key", kf.Private, "--service", svc, "-o", dir, "--no-progress", "--late-commit-margin", "0"}
	_, out, sum := runPull(t, s, args...)
	if sum.pulled != 5 || sum.pending != 2 || sum.failed != 0 {
		t.Fatalf("with two in progress: %+v\n%s", sum, out)
	}
	close(release)
	for _, sid := range heldSIDs {
		if tr := WaitTranscript(t, c, sid, 30*time.Second); *tr.Status != "completed" {
			t.Fatalf("%s is %s", sid, *tr.Status)
		}
	}
	before := requestCount(t, s, "/v2/Transcripts/{sid}/Sentences/Encrypted")
	_, out, sum = runPull(t, s, args...)
	if sum.pulled != 2 || sum.skipped != 5 || sum.pending != 0 {
		t.Fatalf("after they completed: %+v\n%s", sum, out)
	}
	if got := requestCount(t, s, "/v2/Transcripts/{sid}/Sentences/Encrypted") - before; got != 2 {
		t.Fatalf("%v sentences locations fetched, want 2", got)
	}
	checkPullDir(t, dir, corpus)
}
