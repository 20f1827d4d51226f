package pull

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"
)

// StateFileName is the state file's name inside an output directory.
const StateFileName = ".convoseal-pull.state"

// LockFileName is the lock file's name inside an output directory.
const LockFileName = ".convoseal-pull.lock"

// stateVersion is the format of the state file.
const stateVersion = 1

// maxStateSize bounds the state file read at start.
const maxStateSize = 256 << 20

// LateCommitMargin is how far below the newest transcript seen the watermark
// stays at most: a transcript whose creation committed late (its
// date_created earlier than a transcript already listed) is still listed by
// the next run. Transcripts done in that window are remembered by SID.
const LateCommitMargin = 10 * time.Minute

// State is what a pull remembers between runs: per scope (a Service SID, or
// "*" for the whole account), a watermark below which everything is done and
// the SIDs done at or above it.
type State struct {
	Version  int               `json:"version"`
	Redacted bool              `json:"redacted"`
	Scopes   map[string]*Scope `json:"scopes"`
}

// Scope is the progress of the pulls of one Service (or the account).
type Scope struct {
	// Watermark: every transcript created (to the second) before it was
	// pulled, or was before the --since of a pull, or was failed by the server.
	// Zero: none yet.
	Watermark time.Time `json:"watermark,omitzero"`
	// Done maps the SID of every transcript pulled that was created at or
	// after Watermark to its date_created.
	Done map[string]time.Time `json:"done"`
}

// NewState is the state of a directory never pulled into.
func NewState(redacted bool) *State {
	return &State{Version: stateVersion, Redacted: redacted, Scopes: map[string]*Scope{}}
}

// LoadState reads a state file; a missing file gives a new state.
func LoadState(path string, redacted bool) (*State, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return NewState(redacted), nil
	}
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxStateSize {
		return nil, fmt.Errorf("state file %s: larger than %d bytes", path, maxStateSize)
	}
	var s State
	if err := json.NewDecoder(f).Decode(&s); err != nil {
		return nil, fmt.Errorf("state file %s: %w (delete it to pull everything again)", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("state file %s: version %d, this convoseal reads version %d", path, s.Version, stateVersion)
	}
	if s.Redacted != redacted {
		return nil, fmt.Errorf("state file %s: the earlier pulls here took the %s variant; use --redacted=%t or another directory or state file", path, variant(s.Redacted), s.Redacted)
	}
	if s.Scopes == nil {
		s.Scopes = map[string]*Scope{}
	}
	for _, sc := range s.Scopes {
		if sc.Done == nil {
			sc.Done = map[string]time.Time{}
		}
	}
	return &s, nil
}

func variant(redacted bool) string {
	if redacted {
		return "redacted"
	}
	return "unredacted"
}

// Save writes the state atomically (0600).
func (s *State) Save(path string) error {
	b, err := marshalState(s)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// Scope returns the scope of a Service SID ("" for the whole account),
// creating it if needed.
func (s *State) Scope(serviceSID string) *Scope {
	key := serviceSID
	if key == "" {
		key = "*"
	}
	sc := s.Scopes[key]
	if sc == nil {
		sc = &Scope{Done: map[string]time.Time{}}
		s.Scopes[key] = sc
	}
	return sc
}

// Start is where a pull's listing begins: since, when given, else the
// watermark (zero: from the beginning).
func (sc *Scope) Start(since time.Time) time.Time {
	if !since.IsZero() {
		return since.UTC()
	}
	return sc.Watermark
}

// Listed is one transcript a pull listed, and whether it is done (pulled
// now or earlier, or failed by the server and never pullable) when the
// pull ends.
type Listed struct {
	SID         string
	DateCreated time.Time
	Done        bool
}

// Advance moves the watermark after a pull that listed from start on. When
// the listing completed, the new watermark is the date_created of the oldest
// transcript not done (pending, failed to pull, interrupted), at most margin
// (normally LateCommitMargin) below the newest one listed, and never below start;
// when it did not complete (an error, or an interrupt, part-way through a
// newest-first listing), older transcripts may be unseen and the watermark
// becomes start. done SIDs are recorded; those below the new watermark are
// forgotten.
func (sc *Scope) Advance(start time.Time, complete bool, listed []Listed, margin time.Duration) {
	w := start
	if complete && len(listed) > 0 {
		newest := listed[0].DateCreated
		for _, l := range listed {
			if l.DateCreated.After(newest) {
				newest = l.DateCreated
			}
		}
		cand := newest.Add(-margin)
		for _, l := range listed {
			if !l.Done && l.DateCreated.Before(cand) {
				cand = l.DateCreated
			}
		}
		if cand.After(w) {
			w = cand
		}
	}
	w = w.Truncate(time.Second).UTC()
	for _, l := range listed {
		if l.Done {
			sc.Done[l.SID] = l.DateCreated.UTC()
		}
	}
	sc.Watermark = w
	for sid, dc := range sc.Done {
		if dc.Before(w) {
			delete(sc.Done, sid)
		}
	}
}

// DoneSIDs lists the done SIDs, sorted (for tests and diagnostics).
func (sc *Scope) DoneSIDs() []string {
	out := make([]string, 0, len(sc.Done))
	for sid := range sc.Done {
		out = append(out, sid)
	}
	sort.Strings(out)
	return out
}

func marshalState(s *State) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	return b, nil
}
