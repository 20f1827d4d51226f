// Package convoseal holds the domain types of the convoseal service: accounts,
// public-key credentials, Services, Transcripts and their artifacts, and the
// errors that cross package boundaries. Implementations live in internal/…
// (one package per dependency: sqlite, blob, media, http, …).
package convoseal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Transcript statuses (transcript_enum_status).
const (
	StatusQueued     = "queued"
	StatusInProgress = "in-progress"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
)

// Account is a tenant. Every other resource belongs to exactly one account.
type Account struct {
	SID           string
	FriendlyName  string
	AuthTokenHash []byte // see internal/auth; the token itself is never stored in the clear
	// AuthTokenSealed is the token sealed with the server KEK (for signing
	// webhooks, as Twilio signs them with the auth token).
	AuthTokenSealed string
	DateCreated     time.Time
	DateUpdated     time.Time
}

// PublicKey is an Accounts v1 Credentials/PublicKeys resource (CR…).
type PublicKey struct {
	SID          string
	AccountSID   string
	FriendlyName string
	PEM          string // as validated by seal.ParsePublicKey
	Fingerprint  string // seal.Fingerprint of the key
	DateCreated  time.Time
	DateUpdated  time.Time
}

// Service is an Intelligence v2 Service (GA…).
type Service struct {
	SID                     string
	AccountSID              string
	UniqueName              string
	FriendlyName            string
	LanguageCode            string
	AutoTranscribe          bool
	AutoRedaction           bool
	MediaRedaction          bool
	DataLogging             bool
	LanguageModel           bool // transcripts may go to the LLM in plain text; operator-only (store.SetLanguageModel)
	KeepMedia               bool // audio transcripts keep their original recording, sealed; operator-only (store.SetKeepMedia)
	WebhookURL              string
	WebhookHTTPMethod       string // GET, POST or NULL
	EncryptionCredentialSID string // CR… or empty: artifacts sealed with the server key
	Version                 int
	OperatorSIDs            []string // attached operators (read_only_attached_operator_sids)
	DateCreated             time.Time
	DateUpdated             time.Time
}

// Transcript is an Intelligence v2 Transcript (GT…).
type Transcript struct {
	SID                     string
	AccountSID              string
	ServiceSID              string
	Status                  string
	Channel                 json.RawMessage // as submitted, validated
	MediaURL                string          // Channel.media_properties.media_url, secrets masked (see MediaURLSealed)
	MediaURLSealed          string          // the full media URL sealed with the server key, when MediaURL is masked; else ""
	SourceSID               string          // Channel.media_properties.source_sid, if given
	DataLogging             bool
	LanguageCode            string
	CustomerKey             string
	MediaStartTime          *time.Time
	Duration                int // seconds, from the last sentence's end time
	Redaction               bool
	EncryptionCredentialSID string // the key its artifacts are sealed with, fixed at creation
	FailureReason           string // readable; never contains customer content
	DateCreated             time.Time
	DateUpdated             time.Time
}

// Artifact kinds.
const (
	ArtifactSentences      = "sentences"
	ArtifactOperatorResult = "operator-result"
	// ArtifactMedia is a recording of an audio transcript, as 16-bit PCM
	// WAV: the redacted one (MediaRedaction) or the original (kept only
	// when the operator enables it for the Service).
	ArtifactMedia = "media"
)

// Artifact is one sealed object of a transcript in the blob store.
type Artifact struct {
	TranscriptSID string
	Kind          string // ArtifactSentences, ArtifactOperatorResult or ArtifactMedia
	OperatorSID   string // for operator results
	Redacted      bool
	BlobKey       string
	Size          int64
	DateCreated   time.Time
}

// Sentence is one sentence of a transcript, as served by the Sentences
// resource and stored (sealed) in the sentences artifact.
type Sentence struct {
	SID           string  `json:"sid"`
	SentenceIndex int     `json:"sentence_index"`
	MediaChannel  int     `json:"media_channel"`
	StartTime     float64 `json:"start_time,string"` // Twilio serves these as strings
	EndTime       float64 `json:"end_time,string"`
	Transcript    string  `json:"transcript"`
	// Confidence is nil when the source gave none (served as null).
	Confidence *float64 `json:"confidence,string"`
	// Words is nil without word timings (served as null, as the spec has it).
	Words []Word `json:"words"`
}

// Word is a word with its timestamps, written as strings like a sentence's
// (documents sealed by earlier versions, with numbers, still read).
type Word struct {
	Word      string
	StartTime float64
	EndTime   float64
}

type wordJSON struct {
	Word      string      `json:"word"`
	StartTime json.Number `json:"start_time"`
	EndTime   json.Number `json:"end_time"`
}

// MarshalJSON writes the times as strings, as the sentence's.
func (w Word) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Word      string  `json:"word"`
		StartTime float64 `json:"start_time,string"`
		EndTime   float64 `json:"end_time,string"`
	}{w.Word, w.StartTime, w.EndTime})
}

// UnmarshalJSON reads times written as strings or as numbers.
func (w *Word) UnmarshalJSON(b []byte) error {
	var v wordJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("word: %w", err)
	}
	start, err := seconds(v.StartTime)
	if err != nil {
		return fmt.Errorf("word start_time: %w", err)
	}
	end, err := seconds(v.EndTime)
	if err != nil {
		return fmt.Errorf("word end_time: %w", err)
	}
	*w = Word{Word: v.Word, StartTime: start, EndTime: end}
	return nil
}

func seconds(n json.Number) (float64, error) {
	if n == "" {
		return 0, nil
	}
	return strconv.ParseFloat(string(n), 64)
}

// SentencesDocument is the plaintext of a sentences artifact: what a customer
// gets after decrypting the Sentences/Encrypted location.
type SentencesDocument struct {
	TranscriptSID string     `json:"transcript_sid"`
	Sentences     []Sentence `json:"sentences"`
}

// Operator is a pre-built or custom language operator (LY…).
type Operator struct {
	SID          string
	AccountSID   string // empty for pre-built operators
	FriendlyName string
	Description  string
	Author       string
	OperatorType string
	Version      int
	Availability string
	Config       json.RawMessage
	DateCreated  time.Time
	DateUpdated  time.Time
}

// OperatorType describes a kind of operator (EY…).
type OperatorType struct {
	SID                string
	Name               string
	FriendlyName       string
	Description        string
	DocsLink           string
	OutputType         string
	SupportedLanguages []string
	Provider           string
	Availability       string
	Configurable       bool
	ConfigSchema       json.RawMessage
	DateCreated        time.Time
	DateUpdated        time.Time
}
