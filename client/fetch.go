package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
)

// Artifact kinds, in [Decrypted.Kind].
const (
	KindSentences      = "sentences"
	KindOperatorResult = "operator-result"
)

// Sentence is one sentence of a transcript, as sealed in the sentences
// artifact: start_time and end_time in seconds, media_channel the channel
// (participant) that spoke it, Words nil without word timings.
type Sentence = convoseal.Sentence

// Word is one word of a sentence with its timings in seconds.
type Word = convoseal.Word

// SentencesDocument is the plaintext of a sentences artifact.
type SentencesDocument = convoseal.SentencesDocument

// OperatorResult is the plaintext of an operator-result artifact: the
// Intelligence v2 OperatorResult fields the operator's type fills, plus
// convoseal's status.
type OperatorResult struct {
	OperatorType          string              `json:"operator_type"`
	Name                  string              `json:"name"`
	OperatorSID           string              `json:"operator_sid"`
	TranscriptSID         string              `json:"transcript_sid"`
	ExtractMatch          *bool               `json:"extract_match"`
	MatchProbability      *float64            `json:"match_probability"`
	NormalizedResult      *string             `json:"normalized_result"`
	UtteranceResults      []UtteranceResult   `json:"utterance_results"`
	UtteranceMatch        *bool               `json:"utterance_match"`
	PredictedLabel        *string             `json:"predicted_label"`
	PredictedProbability  *float64            `json:"predicted_probability"`
	LabelProbabilities    map[string]float64  `json:"label_probabilities"`
	ExtractResults        map[string][]string `json:"extract_results"`
	TextGenerationResults *TextGeneration     `json:"text_generation_results"`
	JSONResults           json.RawMessage     `json:"json_results"`
	// Status is "completed" or "failed"; a failed result says why in
	// FailureReason.
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason,omitempty"`
}

// UtteranceResult is one sentence an utterance-level operator matched.
type UtteranceResult struct {
	UtteranceIndex int             `json:"utterance_index"` // the sentence's sentence_index
	MediaChannel   int             `json:"media_channel"`
	Label          string          `json:"label"`
	Probability    float64         `json:"probability"`
	UtteranceParts []UtterancePart `json:"utterance_parts"`
}

// UtterancePart is the matched part of an utterance.
type UtterancePart struct {
	Text  string `json:"text"`
	Start int    `json:"start"` // byte offsets in the sentence's transcript
	End   int    `json:"end"`
	Label string `json:"label,omitempty"`
}

// TextGeneration holds generated text.
type TextGeneration struct {
	Result string `json:"result"`
}

// Decrypted is one opened artifact.
type Decrypted struct {
	Kind          string // KindSentences or KindOperatorResult
	TranscriptSID string
	OperatorSID   string // LY… for an operator result
	// Redacted is the variant served: a transcript made without redaction
	// has only the unredacted one, returned whatever was asked for.
	Redacted    bool
	Plaintext   []byte // exactly the sealed JSON document
	SealedSize  int64  // bytes downloaded
	Fingerprint string // of the key that opened it
}

// Sentences decodes a sentences artifact.
func (d *Decrypted) Sentences() ([]Sentence, error) {
	if d.Kind != KindSentences {
		return nil, fmt.Errorf("%s artifact is not a sentences artifact", d.Kind)
	}
	var doc SentencesDocument
	if err := json.Unmarshal(d.Plaintext, &doc); err != nil {
		return nil, fmt.Errorf("sentences of %s: not the expected JSON document: %w", d.TranscriptSID, syntaxOnly(err))
	}
	return doc.Sentences, nil
}

// OperatorResult decodes an operator-result artifact.
func (d *Decrypted) OperatorResult() (*OperatorResult, error) {
	if d.Kind != KindOperatorResult {
		return nil, fmt.Errorf("%s artifact is not an operator result", d.Kind)
	}
	var r OperatorResult
	if err := json.Unmarshal(d.Plaintext, &r); err != nil {
		return nil, fmt.Errorf("operator result %s of %s: not the expected JSON document: %w", d.OperatorSID, d.TranscriptSID, syntaxOnly(err))
	}
	return &r, nil
}

// Wipe overwrites the plaintext with zeros.
func (d *Decrypted) Wipe() { clear(d.Plaintext) }

// syntaxOnly keeps a JSON error's kind but not a quoted piece of plaintext.
func syntaxOnly(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %s has the wrong type", te.Field)
	}
	return errors.New("cannot decode")
}

// Location describes a convoseal artifact location by its path.
type Location struct {
	TranscriptSID string
	Kind          string // KindSentences or KindOperatorResult
	OperatorSID   string
	Redacted      bool
}

// ParseLocation reads what a convoseal location (local blob URL or S3
// presigned URL) points at from its path: …/GT…/sentences/redacted,
// …/GT…/operator-results/LY…/unredacted. ok is false for other URLs (such as
// another installation's).
func ParseLocation(loc string) (l Location, ok bool) {
	u, err := url.Parse(loc)
	if err != nil {
		return Location{}, false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, s := range segs {
		if checkSID(s, "GT") != nil {
			continue
		}
		rest := segs[i+1:]
		switch {
		case len(rest) == 2 && rest[0] == "sentences" && isVariant(rest[1]):
			return Location{TranscriptSID: s, Kind: KindSentences, Redacted: rest[1] == "redacted"}, true
		case len(rest) == 3 && rest[0] == "operator-results" && isVariant(rest[2]):
			return Location{TranscriptSID: s, Kind: KindOperatorResult, OperatorSID: rest[1], Redacted: rest[2] == "redacted"}, true
		}
	}
	return Location{}, false
}

func isVariant(s string) bool { return s == "redacted" || s == "unredacted" }

type sentencesLocation struct {
	Location string `json:"location"`
}

type operatorLocations struct {
	Locations []string `json:"locations"`
}

func encryptedQuery(redacted bool) url.Values {
	return url.Values{"Redacted": {strconv.FormatBool(redacted)}}
}

// FetchSentences gets the transcript's Sentences/Encrypted location (with
// Redacted as given), downloads it and opens it with [Options.Keys]. A
// location answered 403 (its signature expired) is fetched afresh once.
// Errors wrap [ErrNotFound], [ErrNotEncrypted], [ErrNotCompleted] or
// [seal.ErrIncorrectIdentity] as the case may be.
func (c *Client) FetchSentences(ctx context.Context, transcriptSID string, redacted bool) (*Decrypted, error) {
	if err := c.checkFetch(transcriptSID); err != nil {
		return nil, err
	}
	path := "/v2/Transcripts/" + transcriptSID + "/Sentences/Encrypted"
	locate := func() (string, error) {
		var l sentencesLocation
		if err := c.getJSON(ctx, path, encryptedQuery(redacted), &l); err != nil {
			return "", err
		}
		if l.Location == "" {
			return "", fmt.Errorf("GET %s: the answer has no location", path)
		}
		return l.Location, nil
	}
	loc, err := locate()
	if err != nil {
		return nil, fmt.Errorf("sentences of %s: %w", transcriptSID, err)
	}
	d, err := c.fetchOpen(ctx, loc, locate)
	if err != nil {
		return nil, fmt.Errorf("sentences of %s: %w", transcriptSID, err)
	}
	d.Kind, d.TranscriptSID, d.Redacted = KindSentences, transcriptSID, redacted
	if l, ok := ParseLocation(d.location); ok {
		d.Redacted = l.Redacted
	}
	return &d.Decrypted, nil
}

// FetchOperatorResults gets the transcript's OperatorResults/Encrypted
// locations (one per operator that ran), downloads and opens each, and
// returns them in the API's order. Errors are as for [Client.FetchSentences];
// the first failure ends the call.
func (c *Client) FetchOperatorResults(ctx context.Context, transcriptSID string, redacted bool) ([]*Decrypted, error) {
	if err := c.checkFetch(transcriptSID); err != nil {
		return nil, err
	}
	path := "/v2/Transcripts/" + transcriptSID + "/OperatorResults/Encrypted"
	list := func() ([]string, error) {
		var l operatorLocations
		if err := c.getJSON(ctx, path, encryptedQuery(redacted), &l); err != nil {
			return nil, err
		}
		return l.Locations, nil
	}
	locs, err := list()
	if err != nil {
		return nil, fmt.Errorf("operator results of %s: %w", transcriptSID, err)
	}
	out := make([]*Decrypted, 0, len(locs))
	for i, loc := range locs {
		// A fresh location for the same object: same path, new signature.
		locate := func() (string, error) {
			fresh, err := list()
			if err != nil {
				return "", err
			}
			for _, f := range fresh {
				if stripQuery(f) == stripQuery(loc) {
					return f, nil
				}
			}
			if len(fresh) == len(locs) {
				return fresh[i], nil
			}
			return "", fmt.Errorf("GET %s: the location of result %d is gone", path, i+1)
		}
		d, err := c.fetchOpen(ctx, loc, locate)
		if err != nil {
			return nil, fmt.Errorf("operator results of %s: result %d of %d: %w", transcriptSID, i+1, len(locs), err)
		}
		d.Kind, d.TranscriptSID, d.Redacted = KindOperatorResult, transcriptSID, redacted
		if l, ok := ParseLocation(d.location); ok {
			d.Redacted, d.OperatorSID = l.Redacted, l.OperatorSID
		}
		var head struct {
			OperatorSID string `json:"operator_sid"`
		}
		if json.Unmarshal(d.Plaintext, &head) == nil && head.OperatorSID != "" {
			d.OperatorSID = head.OperatorSID
		}
		out = append(out, &d.Decrypted)
	}
	return out, nil
}

func (c *Client) checkFetch(transcriptSID string) error {
	if err := checkSID(transcriptSID, "GT"); err != nil {
		return err
	}
	if c.keys == nil || c.keys.Len() == 0 {
		return errors.New("no private key: give the client a Keyring (Options.Keys) holding the key the Service's public key belongs to")
	}
	return nil
}

func stripQuery(s string) string {
	s, _, _ = strings.Cut(s, "?")
	return s
}

type fetched struct {
	Decrypted
	location string
}

// fetchOpen downloads loc with retries — a 403 (expired signature) asks
// locate for a fresh location, once — and opens it with the keyring.
func (c *Client) fetchOpen(ctx context.Context, loc string, locate func() (string, error)) (*fetched, error) {
	a, loc, err := c.download(ctx, loc, locate)
	if err != nil {
		return nil, err
	}
	pt, fp, err := c.keys.OpenWith(a.Body, a.Envelope)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", RedactURL(loc), err)
	}
	return &fetched{Decrypted: Decrypted{Plaintext: pt, SealedSize: int64(len(a.Body)), Fingerprint: fp}, location: loc}, nil
}

// download fetches loc, retrying 429, 5xx and transport errors, and once
// replacing a location answered 403 by a fresh one from locate. It returns
// the location finally downloaded.
func (c *Client) download(ctx context.Context, loc string, locate func() (string, error)) (*Artifact, string, error) {
	var a *Artifact
	refreshed := false
	err := c.retry(ctx, func() (time.Duration, bool, error) {
		for {
			var err error
			a, err = c.dl.Fetch(ctx, loc)
			var he *HTTPError
			var te *transportError
			switch {
			case err == nil:
				return 0, false, nil
			case errors.As(err, &he) && he.StatusCode == http.StatusForbidden && !refreshed && locate != nil:
				refreshed = true
				fresh, lerr := locate()
				if lerr != nil {
					return 0, false, fmt.Errorf("%w; fetching a fresh location: %w", err, lerr)
				}
				loc = fresh
				continue
			case errors.As(err, &he):
				return he.RetryAfter, he.StatusCode == http.StatusTooManyRequests || he.StatusCode >= 500, err
			case errors.As(err, &te):
				return 0, ctx.Err() == nil, err
			default:
				return 0, false, err
			}
		}
	})
	return a, loc, err
}
