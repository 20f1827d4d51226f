package pull

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// File names inside a transcript's folder.
const (
	SentencesFile      = "sentences.json"
	OperatorResultsDir = "operator-results"
	TranscriptFile     = "transcript.json" // written last: its presence means the folder is complete
)

var (
	transcriptSIDPattern = regexp.MustCompile(`^GT[0-9a-f]{32}$`)
	operatorSIDPattern   = regexp.MustCompile(`^LY[0-9a-f]{32}$`)
)

// Doc is one decrypted artifact of a transcript.
type Doc struct {
	Kind        string // "sentences" or "operator-result"
	OperatorSID string // LY… for an operator result
	Redacted    bool
	Plaintext   []byte // the sealed JSON document, exactly
	SealedSize  int64
	Fingerprint string
}

// Record is one pulled transcript: its metadata and decrypted documents.
type Record struct {
	Meta            TranscriptMeta
	Sentences       *Doc
	OperatorResults []*Doc
}

// TranscriptMeta is transcript.json (and the "transcript" member of a JSON
// Lines record): the transcript as the API listed it, and what was pulled.
type TranscriptMeta struct {
	SID          string    `json:"sid"`
	AccountSID   string    `json:"account_sid"`
	ServiceSID   string    `json:"service_sid"`
	Status       string    `json:"status"`
	LanguageCode string    `json:"language_code,omitempty"`
	CustomerKey  string    `json:"customer_key,omitempty"`
	DateCreated  time.Time `json:"date_created"`
	DateUpdated  time.Time `json:"date_updated"`
	Redaction    bool      `json:"redaction"`
	Duration     int       `json:"duration"`
	Pulled       PullInfo  `json:"pulled"`
}

// PullInfo says when and what was pulled.
type PullInfo struct {
	At        time.Time      `json:"at"`
	Redacted  bool           `json:"redacted_requested"`
	Artifacts []ArtifactInfo `json:"artifacts"`
}

// ArtifactInfo describes one decrypted artifact.
type ArtifactInfo struct {
	Kind           string `json:"kind"`
	File           string `json:"file,omitempty"` // relative to the transcript's folder (directory output)
	OperatorSID    string `json:"operator_sid,omitempty"`
	Redacted       bool   `json:"redacted"`
	Size           int    `json:"size"`        // plaintext bytes
	SealedSize     int64  `json:"sealed_size"` // bytes downloaded
	SHA256         string `json:"sha256"`      // of the plaintext
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
}

// Sink receives pulled transcripts. Write is called concurrently.
type Sink interface {
	// Has reports whether the transcript was completely written by an
	// earlier pull (which the state may not know of, if it was killed).
	Has(sid string) bool
	Write(r *Record) error
}

// Syncer is a Sink whose writes become durable only when Sync is called; a
// pull syncs before each state save, so the state never records a
// transcript whose files a crash could still lose.
type Syncer interface {
	Sync() error
}

// fillArtifacts records the artifacts of r in its metadata.
func fillArtifacts(r *Record, dirFiles bool) {
	r.Meta.Pulled.Artifacts = r.Meta.Pulled.Artifacts[:0]
	add := func(d *Doc, file string) {
		sum := sha256.Sum256(d.Plaintext)
		if !dirFiles {
			file = ""
		}
		r.Meta.Pulled.Artifacts = append(r.Meta.Pulled.Artifacts, ArtifactInfo{Kind: d.Kind, File: file, OperatorSID: d.OperatorSID,
			Redacted: d.Redacted, Size: len(d.Plaintext), SealedSize: d.SealedSize, SHA256: hex.EncodeToString(sum[:]), KeyFingerprint: d.Fingerprint})
	}
	add(r.Sentences, SentencesFile)
	for _, d := range r.OperatorResults {
		add(d, OperatorResultsDir+"/"+d.OperatorSID+".json")
	}
}

// checkRecord refuses a record whose SIDs cannot name files, or whose
// documents name another transcript.
func checkRecord(r *Record) error {
	if !transcriptSIDPattern.MatchString(r.Meta.SID) {
		return fmt.Errorf("transcript SID %q is malformed", r.Meta.SID)
	}
	if r.Sentences == nil {
		return errors.New("no sentences")
	}
	if err := checkBound(r.Sentences.Plaintext, r.Meta.SID, ""); err != nil {
		return fmt.Errorf("sentences: %w", err)
	}
	seen := map[string]bool{}
	for _, d := range r.OperatorResults {
		if !operatorSIDPattern.MatchString(d.OperatorSID) {
			return fmt.Errorf("operator result with a malformed operator SID %q", d.OperatorSID)
		}
		if seen[d.OperatorSID] {
			return fmt.Errorf("two results of operator %s", d.OperatorSID)
		}
		seen[d.OperatorSID] = true
		if err := checkBound(d.Plaintext, r.Meta.SID, d.OperatorSID); err != nil {
			return fmt.Errorf("operator result %s: %w", d.OperatorSID, err)
		}
	}
	return nil
}

// checkBound checks a decrypted document is JSON and, where it names its
// transcript (transcript_sid) or operator (operator_sid), names this one:
// an artifact copied from another transcript's place is refused.
func checkBound(plain []byte, transcriptSID, operatorSID string) error {
	var head struct {
		TranscriptSID *string `json:"transcript_sid"`
		OperatorSID   *string `json:"operator_sid"`
	}
	if err := json.Unmarshal(plain, &head); err != nil {
		return errors.New("the decrypted document is not a JSON object")
	}
	if head.TranscriptSID != nil && *head.TranscriptSID != transcriptSID {
		return fmt.Errorf("the document belongs to transcript %s", *head.TranscriptSID)
	}
	if operatorSID != "" && head.OperatorSID != nil && *head.OperatorSID != operatorSID {
		return fmt.Errorf("the document belongs to operator %s", *head.OperatorSID)
	}
	return nil
}

// DirSink writes one folder per transcript under Root:
//
//	GT…/sentences.json
//	GT…/operator-results/LY….json
//	GT…/transcript.json   (written last)
//
// Files are 0600 and folders 0700; each file is written to a temporary file
// in its folder and renamed, so no half-written file is left. Making them
// durable is batched: Sync (called before each state save) syncs the whole
// output directory's file system at once, where a sync per file would cost
// a pull more CPU than decrypting (see BENCHMARKS.md).
type DirSink struct {
	Root string
}

// OpenDir prepares an output directory: creates it (0700) if missing and
// removes the temporary files a killed pull left behind in it and in its
// transcript folders.
func OpenDir(root string) (*DirSink, int, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, 0, fmt.Errorf("output directory: %w", err)
	}
	removed, err := removeTemps(root)
	if err != nil {
		return nil, 0, fmt.Errorf("output directory: %w", err)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, 0, fmt.Errorf("output directory: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() || !transcriptSIDPattern.MatchString(e.Name()) {
			continue
		}
		for _, d := range []string{filepath.Join(root, e.Name()), filepath.Join(root, e.Name(), OperatorResultsDir)} {
			n, err := removeTemps(d)
			removed += n
			if err != nil {
				return nil, removed, fmt.Errorf("output directory: %w", err)
			}
		}
	}
	return &DirSink{Root: root}, removed, nil
}

// Has reports whether an earlier pull wrote the transcript's folder
// completely: its transcript.json parses and every file it lists has the
// size and SHA-256 recorded there. A folder that fails the check (a killed
// run's, or one cut short by a crash before the files reached the disk) is
// pulled again.
func (s *DirSink) Has(sid string) bool {
	if !transcriptSIDPattern.MatchString(sid) {
		return false
	}
	dir := filepath.Join(s.Root, sid)
	b, err := os.ReadFile(filepath.Join(dir, TranscriptFile))
	if err != nil {
		return false
	}
	var meta TranscriptMeta
	if json.Unmarshal(b, &meta) != nil || meta.SID != sid || len(meta.Pulled.Artifacts) == 0 {
		return false
	}
	for _, a := range meta.Pulled.Artifacts {
		if a.File == "" || !filepath.IsLocal(a.File) {
			return false
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(a.File)))
		if err != nil || len(data) != a.Size {
			return false
		}
		sum := sha256.Sum256(data)
		clear(data)
		if hex.EncodeToString(sum[:]) != a.SHA256 {
			return false
		}
	}
	return true
}

// Sync makes every folder written so far durable; the pull calls it before
// it records them done in the state file.
func (s *DirSink) Sync() error {
	return syncTree(s.Root)
}

// Write writes a transcript's folder, transcript.json last.
func (s *DirSink) Write(r *Record) error {
	if err := checkRecord(r); err != nil {
		return err
	}
	fillArtifacts(r, true)
	dir := filepath.Join(s.Root, r.Meta.SID)
	opDir := filepath.Join(dir, OperatorResultsDir)
	newDir, err := mkdir(dir)
	if err != nil {
		return err
	}
	if _, err := mkdir(opDir); err != nil {
		return err
	}
	if err := writeFileRenamed(filepath.Join(dir, SentencesFile), r.Sentences.Plaintext); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, d := range r.OperatorResults {
		name := d.OperatorSID + ".json"
		keep[name] = true
		if err := writeFileRenamed(filepath.Join(opDir, name), d.Plaintext); err != nil {
			return err
		}
	}
	// An earlier, interrupted pull may have left a result this one lacks.
	if !newDir {
		if ents, err := os.ReadDir(opDir); err == nil {
			for _, e := range ents {
				if !keep[e.Name()] && !e.IsDir() {
					os.Remove(filepath.Join(opDir, e.Name()))
				}
			}
		}
	}
	if !batchedSync {
		for _, d := range []string{opDir, dir, s.Root} {
			if err := syncDir(d); err != nil {
				return err
			}
		}
	}
	meta, err := json.MarshalIndent(r.Meta, "", "  ")
	if err != nil {
		return fmt.Errorf("transcript.json: %w", err)
	}
	return writeFileRenamed(filepath.Join(dir, TranscriptFile), append(meta, '\n'))
}

// mkdir makes a folder (0700) and reports whether it is new.
func mkdir(dir string) (bool, error) {
	err := os.Mkdir(dir, 0o700)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrExist):
		if st, serr := os.Stat(dir); serr == nil && st.IsDir() {
			return false, nil
		}
	}
	return false, fmt.Errorf("folder: %w", err)
}

// JSONLSink writes one JSON object per line per transcript to W:
//
//	{"transcript": {…transcript.json…}, "sentences": {…}, "operator_results": [{…}, …]}
//
// with the decrypted documents embedded as they were sealed.
type JSONLSink struct {
	W  io.Writer
	mu sync.Mutex
}

// Has is always false: what was written is known only to the state.
func (s *JSONLSink) Has(string) bool { return false }

// jsonlRecord is one line.
type jsonlRecord struct {
	Transcript      TranscriptMeta    `json:"transcript"`
	Sentences       json.RawMessage   `json:"sentences"`
	OperatorResults []json.RawMessage `json:"operator_results"`
}

// Write writes the transcript's line with one Write call.
func (s *JSONLSink) Write(r *Record) error {
	if err := checkRecord(r); err != nil {
		return err
	}
	fillArtifacts(r, false)
	rec := jsonlRecord{Transcript: r.Meta, Sentences: compact(r.Sentences.Plaintext), OperatorResults: []json.RawMessage{}}
	for _, d := range r.OperatorResults {
		rec.OperatorResults = append(rec.OperatorResults, compact(d.Plaintext))
	}
	var buf bytes.Buffer
	defer func() { clear(buf.Bytes()) }()
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("JSON line: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.W.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing the JSON line: %w", err)
	}
	return nil
}

// compact removes insignificant whitespace, so a document cannot break the
// one-line framing (checkRecord has checked it is JSON).
func compact(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return json.RawMessage(strings.TrimSpace(string(b)))
	}
	return buf.Bytes()
}
