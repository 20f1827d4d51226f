package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convoseal/convoseal/client"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sid(prefix string, i int) string { return fmt.Sprintf("%s%032x", prefix, i) }

// fakeSource serves transcripts newest first, honouring AfterDateCreated as
// the API does (strictly after, to the second).
type fakeSource struct {
	mu          sync.Mutex
	transcripts []client.Transcript
	fail        map[string]error // FetchSentences fails for these SIDs
	fetches     atomic.Int64
	listErrAt   int // >0: the listing fails after this many transcripts
	block       chan struct{}
	listed      []client.ListOptions
}

func (f *fakeSource) add(i int, created time.Time, status string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := sid("GT", i)
	f.transcripts = append(f.transcripts, client.Transcript{SID: s, ServiceSID: sid("GA", 1), Status: status, DateCreated: created})
	return s
}

func (f *fakeSource) setStatus(s, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.transcripts {
		if f.transcripts[i].SID == s {
			f.transcripts[i].Status = status
		}
	}
}

func (f *fakeSource) Transcripts(ctx context.Context, o client.ListOptions) iter.Seq2[client.Transcript, error] {
	f.mu.Lock()
	f.listed = append(f.listed, o)
	ts := append([]client.Transcript(nil), f.transcripts...)
	f.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].DateCreated.After(ts[j].DateCreated) })
	return func(yield func(client.Transcript, error) bool) {
		for i, t := range ts {
			if f.listErrAt > 0 && i == f.listErrAt {
				yield(client.Transcript{}, errors.New("HTTP 500"))
				return
			}
			if !o.AfterDateCreated.IsZero() && t.DateCreated.Before(o.AfterDateCreated.Truncate(time.Second).Add(time.Second)) {
				continue
			}
			if !yield(t, nil) {
				return
			}
		}
	}
}

func (f *fakeSource) FetchSentences(ctx context.Context, s string, redacted bool) (*client.Decrypted, error) {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.fetches.Add(1)
	if err := f.fail[s]; err != nil {
		return nil, err
	}
	return &client.Decrypted{Kind: "sentences", Plaintext: fmt.Appendf(nil, `{"transcript_sid":%q,"sentences":[]}`, s), SealedSize: 100, Fingerprint: "SHA256:x"}, nil
}

func (f *fakeSource) FetchOperatorResults(ctx context.Context, s string, redacted bool) ([]*client.Decrypted, error) {
	op := sid("LY", 7)
	return []*client.Decrypted{{Kind: "operator-result", OperatorSID: op, Plaintext: fmt.Appendf(nil, `{"transcript_sid":%q,"operator_sid":%q}`, s, op), SealedSize: 50}}, nil
}

func runPull(t *testing.T, src Source, dir string, o Options) *Summary {
	t.Helper()
	sink, _, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	o.Sink = sink
	o.StatePath = filepath.Join(dir, StateFileName)
	if o.State, err = LoadState(o.StatePath, o.Redacted); err != nil {
		t.Fatal(err)
	}
	if o.Parallel == 0 {
		o.Parallel = 4
	}
	sum, err := New(src, o).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestOutOfOrderCompletion: a transcript still pending when newer ones are
// pulled is pulled by a later run, which downloads nothing twice; the state
// keeps the watermark below it meanwhile.
func TestOutOfOrderCompletion(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{}
	old := src.add(1, t0, "in-progress")
	for i := 2; i <= 5; i++ {
		src.add(i, t0.Add(time.Duration(i)*time.Hour), "completed")
	}
	sum := runPull(t, src, dir, Options{})
	if sum.Done != 4 || sum.Pending != 1 || sum.Err() != nil {
		t.Fatalf("first pull: %+v", sum)
	}
	st, _ := LoadState(filepath.Join(dir, StateFileName), false)
	if w := st.Scope("").Watermark; w.After(t0) {
		t.Fatalf("watermark %v is past the pending transcript (%v)", w, t0)
	}
	src.setStatus(old, "completed")
	src.add(6, t0.Add(10*time.Hour), "completed")
	before := src.fetches.Load()
	sum = runPull(t, src, dir, Options{})
	if sum.Done != 2 || sum.Skipped != 4 || src.fetches.Load()-before != 2 {
		t.Fatalf("second pull: %+v, %d fetches", sum, src.fetches.Load()-before)
	}
	if _, err := os.Stat(filepath.Join(dir, old, TranscriptFile)); err != nil {
		t.Fatalf("the late transcript was not pulled: %v", err)
	}
	// Now everything is done: the watermark moves up to the margin below the newest.
	st, _ = LoadState(filepath.Join(dir, StateFileName), false)
	if w, want := st.Scope("").Watermark, t0.Add(10*time.Hour-LateCommitMargin); !w.Equal(want) {
		t.Fatalf("watermark %v, want %v", w, want)
	}
	if got := st.Scope("").DoneSIDs(); len(got) != 1 || got[0] != sid("GT", 6) {
		t.Fatalf("done SIDs kept above the watermark: %v", got)
	}
	if o := src.listed[1]; !o.AfterDateCreated.Equal(t0.Add(-time.Second)) {
		t.Fatalf("the second run listed after %v, want the pending transcript's second", o.AfterDateCreated)
	}
	// A third run lists from the watermark and downloads nothing.
	before = src.fetches.Load()
	sum = runPull(t, src, dir, Options{})
	if sum.Done != 0 || sum.Listed != 1 || src.fetches.Load() != before {
		t.Fatalf("third pull: %+v", sum)
	}
}

// TestFailureHoldsWatermark: a transcript that failed to pull is retried by
// the next run, even when everything around it succeeded.
func TestFailureHoldsWatermark(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{fail: map[string]error{}}
	for i := 1; i <= 5; i++ {
		src.add(i, t0.Add(time.Duration(i)*time.Hour), "completed")
	}
	src.fail[sid("GT", 2)] = errors.New("not encrypted for this key")
	sum := runPull(t, src, dir, Options{})
	if sum.Done != 4 || sum.Failed != 1 || len(sum.Failures) != 1 || sum.Failures[0].SID != sid("GT", 2) || sum.Err() == nil {
		t.Fatalf("first pull: %+v", sum)
	}
	delete(src.fail, sid("GT", 2))
	sum = runPull(t, src, dir, Options{})
	// The watermark stayed at the failed one: the older one is not listed.
	if sum.Done != 1 || sum.Skipped != 3 || sum.Listed != 4 || sum.Err() != nil {
		t.Fatalf("second pull: %+v", sum)
	}
}

// TestServerStatuses: failed transcripts and transcripts without a customer
// key are counted apart and do not hold the watermark.
func TestServerStatuses(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{fail: map[string]error{}}
	src.add(1, t0, "failed")
	unenc := src.add(2, t0.Add(time.Hour), "completed")
	src.fail[unenc] = fmt.Errorf("sentences of %s: %w", unenc, client.ErrNotEncrypted)
	src.add(3, t0.Add(2*time.Hour), "completed")
	sum := runPull(t, src, dir, Options{})
	if sum.Done != 1 || sum.Unavailable != 1 || sum.Unencrypted != 1 || sum.Failed != 0 || sum.Err() != nil {
		t.Fatalf("%+v", sum)
	}
	st, _ := LoadState(filepath.Join(dir, StateFileName), false)
	if w := st.Scope("").Watermark; !w.Equal(t0.Add(2*time.Hour - LateCommitMargin)) {
		t.Fatalf("watermark %v", w)
	}
}

// TestListErrorKeepsWatermark: a listing cut short cannot move the
// watermark (older transcripts were not seen), but what was pulled is kept.
func TestListErrorKeepsWatermark(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{listErrAt: 2}
	for i := 1; i <= 5; i++ {
		src.add(i, t0.Add(time.Duration(i)*time.Hour), "completed")
	}
	sum := runPull(t, src, dir, Options{})
	if sum.ListErr == nil || sum.Done != 2 || sum.Err() == nil {
		t.Fatalf("%+v", sum)
	}
	st, _ := LoadState(filepath.Join(dir, StateFileName), false)
	if sc := st.Scope(""); !sc.Watermark.IsZero() || len(sc.Done) != 2 {
		t.Fatalf("watermark %v, done %v", sc.Watermark, sc.DoneSIDs())
	}
	src.listErrAt = 0
	sum = runPull(t, src, dir, Options{})
	if sum.Done != 3 || sum.Skipped != 2 {
		t.Fatalf("second pull: %+v", sum)
	}
}

// TestInterrupt: a cancelled pull stops, saves what it did, and the next
// run completes the rest.
func TestInterrupt(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{block: make(chan struct{})}
	for i := 1; i <= 20; i++ {
		src.add(i, t0.Add(time.Duration(i)*time.Minute), "completed")
	}
	sink, _, _ := OpenDir(dir)
	statePath := filepath.Join(dir, StateFileName)
	ctx, cancel := context.WithCancel(context.Background())
	p := New(src, Options{Sink: sink, State: NewState(false), StatePath: statePath, Parallel: 2})
	go func() {
		src.block <- struct{}{} // let three through, then interrupt
		src.block <- struct{}{}
		src.block <- struct{}{}
		for p.Snapshot().Done < 3 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	sum, err := p.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Interrupted || sum.Done != 3 || sum.Failed != 0 {
		t.Fatalf("%+v", sum)
	}
	close(src.block)
	sum = runPull(t, src, dir, Options{Parallel: 2})
	if sum.Done != 17 || sum.Skipped != 3 {
		t.Fatalf("after the interrupt: %+v", sum)
	}
}

// TestKilledRunResumes: a run that wrote folders but never saved its state
// (killed) is resumed from the folders: nothing fetched twice, and the
// temporary files it left are removed.
func TestKilledRunResumes(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{}
	for i := 1; i <= 6; i++ {
		src.add(i, t0.Add(time.Duration(i)*time.Minute), "completed")
	}
	runPull(t, src, dir, Options{})
	// As if killed before its state was saved, mid-way through a file.
	os.Remove(filepath.Join(dir, StateFileName))
	os.Remove(filepath.Join(dir, sid("GT", 6), TranscriptFile))
	os.WriteFile(filepath.Join(dir, sid("GT", 6), "."+SentencesFile+tempMarker+"abc"), []byte("half"), 0o600)
	before := src.fetches.Load()
	sink, removed, err := OpenDir(dir)
	if err != nil || removed != 1 {
		t.Fatalf("OpenDir: %d removed, %v", removed, err)
	}
	sum, err := New(src, Options{Sink: sink, State: NewState(false), Parallel: 2}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.Skipped != 5 || src.fetches.Load()-before != 1 {
		t.Fatalf("%+v, %d fetches", sum, src.fetches.Load()-before)
	}
}

// TestSince: --since bounds the listing and, with nothing pending, becomes
// the floor of the watermark.
func TestSince(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{}
	for i := 1; i <= 4; i++ {
		src.add(i, t0.Add(time.Duration(i)*24*time.Hour), "completed")
	}
	sum := runPull(t, src, dir, Options{Since: t0.Add(3 * 24 * time.Hour)})
	if sum.Done != 2 || sum.Listed != 2 {
		t.Fatalf("%+v", sum)
	}
	if got := src.listed[0].AfterDateCreated; !got.Equal(t0.Add(3*24*time.Hour - time.Second)) {
		t.Fatalf("AfterDateCreated %v", got)
	}
}

func TestAdvance(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	for _, tc := range []struct {
		name     string
		start    time.Time
		complete bool
		listed   []Listed
		want     time.Time
	}{
		{"all done", time.Time{}, true, []Listed{{"a", at(3), true}, {"b", at(1), true}}, at(3).Add(-LateCommitMargin)},
		{"oldest pending", time.Time{}, true, []Listed{{"a", at(3), true}, {"b", at(2), false}, {"c", at(1), true}}, at(2)},
		{"incomplete listing", at(0), false, []Listed{{"a", at(3), true}}, at(0)},
		{"never below start", at(5), true, []Listed{{"a", at(5).Add(time.Minute), true}}, at(5)},
		{"nothing listed", at(2), true, nil, at(2)},
		{"sub-second dates", time.Time{}, true, []Listed{{"a", at(3), true}, {"b", at(2).Add(500 * time.Millisecond), false}}, at(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &Scope{Done: map[string]time.Time{"old": at(-100)}}
			sc.Advance(tc.start, tc.complete, tc.listed, LateCommitMargin)
			if !sc.Watermark.Equal(tc.want) {
				t.Fatalf("watermark %v, want %v", sc.Watermark, tc.want)
			}
			for _, l := range tc.listed {
				_, ok := sc.Done[l.SID]
				if ok != (l.Done && !l.DateCreated.Before(sc.Watermark)) {
					t.Errorf("%s in done: %v", l.SID, ok)
				}
			}
			if _, ok := sc.Done["old"]; ok && at(-100).Before(sc.Watermark) {
				t.Errorf("a SID below the watermark was kept")
			}
		})
	}
}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, StateFileName)
	s := NewState(true)
	s.Scope("GA1").Advance(time.Time{}, true, []Listed{{"GTa", t0, true}}, LateCommitMargin)
	if err := s.Save(p); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v", st.Mode().Perm())
	}
	got, err := LoadState(p, true)
	if err != nil || !got.Scope("GA1").Watermark.Equal(t0.Add(-LateCommitMargin)) || len(got.Scope("GA1").Done) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := LoadState(p, false); err == nil || !strings.Contains(err.Error(), "--redacted=true") {
		t.Fatalf("a state of the other variant: %v", err)
	}
	os.WriteFile(p, []byte("{garbage"), 0o600)
	if _, err := LoadState(p, true); err == nil {
		t.Fatal("a corrupt state file loaded")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if isTemp(e.Name()) {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
}

func TestDirSink(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	s, _, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	tr, op := sid("GT", 1), sid("LY", 2)
	rec := &Record{Meta: TranscriptMeta{SID: tr}, Sentences: &Doc{Kind: "sentences", Plaintext: fmt.Appendf(nil, `{"transcript_sid":%q}`, tr)},
		OperatorResults: []*Doc{{Kind: "operator-result", OperatorSID: op, Plaintext: fmt.Appendf(nil, `{"transcript_sid":%q,"operator_sid":%q}`, tr, op)}}}
	if s.Has(tr) {
		t.Fatal("Has before Write")
	}
	if err := s.Write(rec); err != nil {
		t.Fatal(err)
	}
	if !s.Has(tr) {
		t.Fatal("not Has after Write")
	}
	for _, f := range []string{SentencesFile, OperatorResultsDir + "/" + op + ".json", TranscriptFile} {
		st, err := os.Stat(filepath.Join(root, tr, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}
	for _, d := range []string{root, filepath.Join(root, tr), filepath.Join(root, tr, OperatorResultsDir)} {
		if st, _ := os.Stat(d); st.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v", d, st.Mode().Perm())
		}
	}
	var m TranscriptMeta
	b, _ := os.ReadFile(filepath.Join(root, tr, TranscriptFile))
	if err := json.Unmarshal(b, &m); err != nil || len(m.Pulled.Artifacts) != 2 || m.Pulled.Artifacts[1].File != "operator-results/"+op+".json" {
		t.Fatalf("transcript.json: %s", b)
	}
}

// TestRecordChecks: documents of another transcript or operator, and SIDs
// that could escape the directory, are refused.
func TestRecordChecks(t *testing.T) {
	s, _, _ := OpenDir(t.TempDir())
	tr, op := sid("GT", 1), sid("LY", 2)
	good := func() *Record {
		return &Record{Meta: TranscriptMeta{SID: tr}, Sentences: &Doc{Plaintext: fmt.Appendf(nil, `{"transcript_sid":%q}`, tr)},
			OperatorResults: []*Doc{{OperatorSID: op, Plaintext: fmt.Appendf(nil, `{"transcript_sid":%q,"operator_sid":%q}`, tr, op)}}}
	}
	for name, mod := range map[string]func(r *Record){
		"sentences of another transcript": func(r *Record) { r.Sentences.Plaintext = fmt.Appendf(nil, `{"transcript_sid":%q}`, sid("GT", 9)) },
		"result of another transcript": func(r *Record) {
			r.OperatorResults[0].Plaintext = fmt.Appendf(nil, `{"transcript_sid":%q,"operator_sid":%q}`, sid("GT", 9), op)
		},
		"result of another operator": func(r *Record) {
			r.OperatorResults[0].Plaintext = fmt.Appendf(nil, `{"transcript_sid":%q,"operator_sid":%q}`, tr, sid("LY", 9))
		},
		"not JSON":            func(r *Record) { r.Sentences.Plaintext = []byte("plain text") },
		"path in transcript":  func(r *Record) { r.Meta.SID = "../../etc" },
		"path in operator":    func(r *Record) { r.OperatorResults[0].OperatorSID = "../x" },
		"operator twice":      func(r *Record) { r.OperatorResults = append(r.OperatorResults, r.OperatorResults[0]) },
		"no sentences at all": func(r *Record) { r.Sentences = nil },
	} {
		r := good()
		mod(r)
		if err := s.Write(r); err == nil {
			t.Errorf("%s: written", name)
		}
	}
	if err := s.Write(good()); err != nil {
		t.Fatal(err)
	}
}

func TestJSONLSink(t *testing.T) {
	var buf bytes.Buffer
	s := &JSONLSink{W: &buf}
	tr, op := sid("GT", 1), sid("LY", 2)
	rec := &Record{Meta: TranscriptMeta{SID: tr}, Sentences: &Doc{Plaintext: fmt.Appendf(nil, "{\n  \"transcript_sid\": %q,\n \"t\": \"<a & b>\"}", tr)},
		OperatorResults: []*Doc{{OperatorSID: op, Plaintext: fmt.Appendf(nil, `{"operator_sid":%q}`, op)}}}
	if err := s.Write(rec); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", buf.String())
	}
	var got jsonlRecord
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil || got.Transcript.SID != tr || len(got.OperatorResults) != 1 || !strings.Contains(string(got.Sentences), "<a & b>") {
		t.Fatalf("%s (%v)", buf.String(), err)
	}
}

func TestProgressLines(t *testing.T) {
	s := Snapshot{ToPull: 2000, Done: 500, Failed: 2, Artifacts: 2000, Bytes: 1_234_567, Elapsed: 5 * time.Second}
	if got, want := PlainLine(s), "pull: 500/2000 transcripts, 2 failed, 0 skipped, 2000 artifacts, 1.2 MB, 100.0/s, ETA 15s"; got != want {
		t.Fatalf("plain line %q, want %q", got, want)
	}
	if got := BarLine(s, 20); !strings.HasPrefix(got, "[====>               ] 500/2000") || !strings.Contains(got, "2 failed") {
		t.Fatalf("bar line %q", got)
	}
	s.Listing = true
	if got := PlainLine(s); !strings.Contains(got, "500/2000+") || !strings.Contains(got, "ETA ?") {
		t.Fatalf("listing line %q", got)
	}
	var buf bytes.Buffer
	p := &Progress{W: &syncWriter{w: &buf}, Interval: time.Millisecond, Snap: func() Snapshot { return s }}
	p.Start()
	time.Sleep(20 * time.Millisecond)
	p.Stop()
	if !strings.HasPrefix(buf.String(), "pull: 500/2000+") {
		t.Fatalf("progress output %q", buf.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// TestCrashLostFilesPulledAgain: writes are made durable in batches, so after
// a machine crash a folder may hold a transcript.json while a file it lists
// came back empty or short. Such a folder is not counted as done: it is
// pulled again, and only it.
func TestCrashLostFilesPulledAgain(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{}
	for i := 1; i <= 4; i++ {
		src.add(i, t0.Add(time.Duration(i)*time.Minute), "completed")
	}
	runPull(t, src, dir, Options{})
	os.Remove(filepath.Join(dir, StateFileName))
	// What the disk may hold after a crash: an empty sentences file, and an
	// operator result of the right size but other bytes.
	if err := os.WriteFile(filepath.Join(dir, sid("GT", 2), SentencesFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ops, _ := filepath.Glob(filepath.Join(dir, sid("GT", 3), OperatorResultsDir, "*.json"))
	if len(ops) == 0 {
		t.Fatal("no operator result written")
	}
	b, _ := os.ReadFile(ops[0])
	if err := os.WriteFile(ops[0], make([]byte, len(b)), 0o600); err != nil {
		t.Fatal(err)
	}
	before := src.fetches.Load()
	sum := runPull(t, src, dir, Options{})
	if sum.Done != 2 || sum.Skipped != 2 || src.fetches.Load()-before != 2 {
		t.Fatalf("%+v, %d fetches; want the 2 damaged folders pulled again", sum, src.fetches.Load()-before)
	}
	sink, _, _ := OpenDir(dir)
	for i := 1; i <= 4; i++ {
		if !sink.Has(sid("GT", i)) {
			t.Errorf("%s incomplete after the second pull", sid("GT", i))
		}
	}
}

// syncCountingSink records, at each Sync, how many transcripts it holds, so
// a test can tell whether the state ever names a transcript not yet synced.
type syncCountingSink struct {
	*DirSink
	mu      sync.Mutex
	written int
	synced  int
}

func (s *syncCountingSink) Write(r *Record) error {
	err := s.DirSink.Write(r)
	s.mu.Lock()
	s.written++
	s.mu.Unlock()
	return err
}

func (s *syncCountingSink) Sync() error {
	s.mu.Lock()
	s.synced = s.written
	s.mu.Unlock()
	return s.DirSink.Sync()
}

// TestStateSavedAfterSync: the state file never records more transcripts done
// than the sink had synced when it was written.
func TestStateSavedAfterSync(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{}
	for i := 1; i <= 5; i++ {
		src.add(i, t0.Add(time.Duration(i)*time.Minute), "completed")
	}
	ds, _, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sink := &syncCountingSink{DirSink: ds}
	o := Options{Sink: sink, StatePath: filepath.Join(dir, StateFileName), State: NewState(false), Parallel: 2}
	if _, err := New(src, o).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(o.StatePath, false)
	if err != nil {
		t.Fatal(err)
	}
	if done := len(st.Scope("").DoneSIDs()); sink.synced < done || sink.synced != 5 {
		t.Fatalf("state names %d transcripts done, the sink had synced %d of %d", done, sink.synced, sink.written)
	}
}
