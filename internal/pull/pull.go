// Package pull is the engine of `convoseal pull`: it lists an account's (or
// a Service's) transcripts, downloads and decrypts the sealed artifacts of
// the completed ones concurrently, hands each transcript to a Sink (a
// directory of folders, or JSON Lines), and keeps a state so that a later
// run pulls only what is new and a killed run resumes where it stopped.
package pull

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convoseal/convoseal/client"
)

// Source is what a pull reads from; *client.Client is one.
type Source interface {
	Transcripts(ctx context.Context, o client.ListOptions) iter.Seq2[client.Transcript, error]
	FetchSentences(ctx context.Context, transcriptSID string, redacted bool) (*client.Decrypted, error)
	FetchOperatorResults(ctx context.Context, transcriptSID string, redacted bool) ([]*client.Decrypted, error)
}

// Options describe one pull.
type Options struct {
	ServiceSID string    // "" for every Service of the account
	Since      time.Time // zero: since the last pull (the state's watermark), or everything
	Redacted   bool      // the redacted variant (when the transcript has one)
	Parallel   int       // transcripts in flight at once; 0: 1
	Sink       Sink
	// State is loaded by the caller (LoadState) and saved to StatePath every
	// SaveEvery while the pull runs and when it ends. StatePath "" keeps
	// the state in memory only.
	State     *State
	StatePath string
	SaveEvery time.Duration // 0: 1 s
	PageSize  int           // 0: 1000
	// Margin is how far below the newest transcript listed the watermark
	// stays at most; 0: LateCommitMargin; negative: none.
	Margin time.Duration
	Now    func() time.Time
}

// Failure is a transcript that could not be pulled, and why.
type Failure struct {
	SID    string
	Reason string
}

// Summary is the outcome of a pull.
type Summary struct {
	Snapshot
	Failures    []Failure // sorted by SID
	Interrupted bool      // the context ended before the pull did
	ListErr     error     // the listing stopped early with this error
	TempRemoved int       // temporary files of an earlier, killed pull removed (set by the caller)
}

// Err is non-nil when the pull did not finish everything it could.
func (s *Summary) Err() error {
	switch {
	case s.Interrupted:
		return errors.New("interrupted; run the same command again to resume")
	case s.ListErr != nil:
		return fmt.Errorf("listing transcripts: %w", s.ListErr)
	case len(s.Failures) > 0:
		return fmt.Errorf("%d transcript(s) could not be pulled", len(s.Failures))
	}
	return nil
}

// Puller runs one pull; Snapshot may be called concurrently for progress.
type Puller struct {
	src   Source
	o     Options
	start time.Time

	listing                                      atomic.Bool
	listed, toPull, done, failed, skipped        atomic.Int64
	pending, unavailable, unencrypted, artifacts atomic.Int64
	bytes                                        atomic.Int64

	mu       sync.Mutex // guards the fields below and the state
	failures []Failure
	newDone  map[string]time.Time // pulled in this run, not yet in the state
}

// New prepares a pull.
func New(src Source, o Options) *Puller {
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.SaveEvery <= 0 {
		o.SaveEvery = time.Second
	}
	if o.PageSize <= 0 {
		o.PageSize = 1000
	}
	switch {
	case o.Margin == 0:
		o.Margin = LateCommitMargin
	case o.Margin < 0:
		o.Margin = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.State == nil {
		o.State = NewState(o.Redacted)
	}
	p := &Puller{src: src, o: o, start: o.Now(), newDone: map[string]time.Time{}}
	p.listing.Store(true)
	return p
}

// Snapshot is the progress so far.
func (p *Puller) Snapshot() Snapshot {
	return Snapshot{
		Listing: p.listing.Load(), Listed: p.listed.Load(), ToPull: p.toPull.Load(), Done: p.done.Load(),
		Failed: p.failed.Load(), Skipped: p.skipped.Load(), Pending: p.pending.Load(),
		Unavailable: p.unavailable.Load(), Unencrypted: p.unencrypted.Load(),
		Artifacts: p.artifacts.Load(), Bytes: p.bytes.Load(), Elapsed: p.o.Now().Sub(p.start),
	}
}

// terminal statuses without results.
var noResults = map[string]bool{"failed": true, "canceled": true, "error": true}

// Run pulls. Its error is for what stops a pull as a whole (the state cannot
// be saved); per-transcript failures, an interrupt and a listing error are
// in the Summary (see Summary.Err).
func (p *Puller) Run(ctx context.Context) (*Summary, error) {
	scope := p.o.State.Scope(p.o.ServiceSID)
	from := scope.Start(p.o.Since)
	lo := client.ListOptions{ServiceSID: p.o.ServiceSID, PageSize: p.o.PageSize}
	if !from.IsZero() {
		// The API compares date_created to the second and lists strictly
		// after: one second earlier includes from's own second. Older
		// rows a server might return anyway are dropped below.
		lo.AfterDateCreated = from.Truncate(time.Second).Add(-time.Second)
	}
	floor := from.Truncate(time.Second)

	var (
		listMu sync.Mutex
		listed []Listed
		index  = map[string]int{} // SID → position in listed
	)
	setDone := func(sid string) {
		listMu.Lock()
		if i, ok := index[sid]; ok {
			listed[i].Done = true
		}
		listMu.Unlock()
	}

	work := newQueue[client.Transcript]()
	var wg sync.WaitGroup
	for range p.o.Parallel {
		wg.Go(func() {
			for {
				t, ok := work.pop()
				if !ok || ctx.Err() != nil {
					return // done, or interrupted: what is left waits for the next run
				}
				p.pullOne(ctx, t, setDone)
			}
		})
	}
	stopWorkers := context.AfterFunc(ctx, work.close)
	defer stopWorkers()

	saverCtx, stopSaver := context.WithCancel(context.Background())
	saverDone := make(chan error, 1)
	go func() { saverDone <- p.saveLoop(saverCtx, scope) }()

	var listErr error
	complete := false
	func() {
		defer work.close()
		for t, err := range p.src.Transcripts(ctx, lo) {
			if err != nil {
				listErr = err
				return
			}
			if !from.IsZero() && t.DateCreated.Before(floor) {
				continue
			}
			listMu.Lock()
			if _, dup := index[t.SID]; dup {
				listMu.Unlock()
				continue
			}
			index[t.SID] = len(listed)
			listed = append(listed, Listed{SID: t.SID, DateCreated: t.DateCreated})
			listMu.Unlock()
			p.listed.Add(1)
			_, doneBefore := scope.doneLocked(&p.mu, t.SID)
			switch {
			case doneBefore || p.o.Sink.Has(t.SID):
				p.skipped.Add(1)
				setDone(t.SID)
				p.markDone(t.SID, t.DateCreated)
			case t.Status == "completed":
				p.toPull.Add(1)
				work.push(t)
			case noResults[t.Status]:
				p.unavailable.Add(1)
				setDone(t.SID) // never pullable: does not hold the watermark
				p.markDone(t.SID, t.DateCreated)
			default:
				p.pending.Add(1)
			}
			if ctx.Err() != nil {
				return
			}
		}
		complete = true
	}()
	p.listing.Store(false)
	wg.Wait()
	stopSaver()
	saveErr := <-saverDone

	interrupted := ctx.Err() != nil
	if listErr != nil && interrupted {
		listErr = nil // the interrupt, not the server
	}
	p.mu.Lock()
	p.flushLocked(scope)
	scope.Advance(from, complete && !interrupted, listed, p.o.Margin)
	failures := append([]Failure(nil), p.failures...)
	p.mu.Unlock()
	if err := p.save(); err != nil {
		return nil, err
	}
	if saveErr != nil {
		return nil, saveErr
	}
	sort.Slice(failures, func(i, j int) bool { return failures[i].SID < failures[j].SID })
	return &Summary{Snapshot: p.Snapshot(), Failures: failures, Interrupted: interrupted, ListErr: listErr}, nil
}

// doneLocked reports whether sid is in the scope's done set, under mu.
func (sc *Scope) doneLocked(mu *sync.Mutex, sid string) (time.Time, bool) {
	mu.Lock()
	defer mu.Unlock()
	t, ok := sc.Done[sid]
	return t, ok
}

// pullOne fetches, decrypts and writes one transcript, and counts the
// outcome.
func (p *Puller) pullOne(ctx context.Context, t client.Transcript, setDone func(string)) {
	rec, err := p.fetch(ctx, t)
	if err == nil {
		err = p.o.Sink.Write(rec)
	}
	for _, d := range rec.docs() {
		clear(d.Plaintext)
	}
	switch {
	case err == nil:
		p.done.Add(1)
		p.artifacts.Add(int64(1 + len(rec.OperatorResults)))
		setDone(t.SID)
		p.markDone(t.SID, t.DateCreated)
		return
	case ctx.Err() != nil:
		return // interrupted: neither failed nor done; the next run takes it
	case errors.Is(err, client.ErrNotEncrypted):
		p.toPull.Add(-1)
		p.unencrypted.Add(1)
		setDone(t.SID) // nothing to decrypt, now or later
		p.markDone(t.SID, t.DateCreated)
		return
	}
	p.failed.Add(1)
	p.mu.Lock()
	p.failures = append(p.failures, Failure{SID: t.SID, Reason: err.Error()})
	p.mu.Unlock()
}

func (r *Record) docs() []*Doc {
	if r == nil {
		return nil
	}
	out := append([]*Doc(nil), r.OperatorResults...)
	if r.Sentences != nil {
		out = append(out, r.Sentences)
	}
	return out
}

// fetch downloads and opens a transcript's sentences and operator results.
func (p *Puller) fetch(ctx context.Context, t client.Transcript) (*Record, error) {
	rec := &Record{Meta: TranscriptMeta{
		SID: t.SID, AccountSID: t.AccountSID, ServiceSID: t.ServiceSID, Status: t.Status, LanguageCode: t.LanguageCode,
		CustomerKey: t.CustomerKey, DateCreated: t.DateCreated.UTC(), DateUpdated: t.DateUpdated.UTC(), Redaction: t.Redaction,
		Duration: t.Duration, Pulled: PullInfo{At: p.o.Now().UTC().Truncate(time.Second), Redacted: p.o.Redacted},
	}}
	s, err := p.src.FetchSentences(ctx, t.SID, p.o.Redacted)
	if err != nil {
		return rec, err // the client names the transcript and the artifact
	}
	rec.Sentences = doc(s, "sentences")
	p.bytes.Add(s.SealedSize)
	ops, err := p.src.FetchOperatorResults(ctx, t.SID, p.o.Redacted)
	if err != nil {
		return rec, err
	}
	for _, o := range ops {
		rec.OperatorResults = append(rec.OperatorResults, doc(o, "operator-result"))
		p.bytes.Add(o.SealedSize)
	}
	return rec, nil
}

func doc(d *client.Decrypted, kind string) *Doc {
	if d.Kind != "" {
		kind = d.Kind
	}
	return &Doc{Kind: kind, OperatorSID: d.OperatorSID, Redacted: d.Redacted, Plaintext: d.Plaintext, SealedSize: d.SealedSize, Fingerprint: d.Fingerprint}
}

// markDone records a transcript done in this run, for the next state save.
func (p *Puller) markDone(sid string, created time.Time) {
	p.mu.Lock()
	p.newDone[sid] = created.UTC()
	p.mu.Unlock()
}

// flushLocked moves this run's done SIDs into the scope (mu held).
func (p *Puller) flushLocked(sc *Scope) bool {
	if len(p.newDone) == 0 {
		return false
	}
	for sid, t := range p.newDone {
		sc.Done[sid] = t
	}
	clear(p.newDone)
	return true
}

// saveLoop saves the state every SaveEvery while something new is done.
func (p *Puller) saveLoop(ctx context.Context, sc *Scope) error {
	if p.o.StatePath == "" {
		return nil
	}
	t := time.NewTicker(p.o.SaveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			p.mu.Lock()
			dirty := p.flushLocked(sc)
			p.mu.Unlock()
			if dirty {
				if err := p.save(); err != nil {
					return err
				}
			}
		}
	}
}

// save writes the state file (a copy taken under mu, written outside it).
func (p *Puller) save() error {
	if p.o.StatePath == "" {
		return nil
	}
	if sy, ok := p.o.Sink.(Syncer); ok {
		if err := sy.Sync(); err != nil {
			return fmt.Errorf("output: %w", err)
		}
	}
	p.mu.Lock()
	b, err := marshalState(p.o.State)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(p.o.StatePath, b); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}
