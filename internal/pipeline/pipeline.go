// Package pipeline turns a queued transcript into sealed artifacts: fetch the
// media, recognise it into sentences, run the Service's operators, seal every
// artifact for the transcript's recipient the moment it exists, store it, and
// mark the transcript completed. Work arrives as durable River jobs carrying
// only the transcript SID, never content.
package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// SealedSourceURL is stored as a transcript's media URL when the media came
// inline (a data: URL): the media itself is kept sealed with the server KEK
// under SourceKey until the transcript is processed, so its plaintext never
// reaches the database.
const SealedSourceURL = "convoseal:sealed-source"

// Blob keys of a transcript's objects.
func transcriptPrefix(accountSID, transcriptSID string) string {
	return accountSID + "/" + transcriptSID + "/"
}

// SourceKey is where inline media waits, sealed with the KEK.
func SourceKey(accountSID, transcriptSID string) string {
	return transcriptPrefix(accountSID, transcriptSID) + "source"
}

// SentencesKey is the sentences artifact of one redaction variant.
func SentencesKey(accountSID, transcriptSID string, redacted bool) string {
	return transcriptPrefix(accountSID, transcriptSID) + "sentences/" + variant(redacted)
}

// OperatorResultKey is an operator result artifact of one redaction variant.
func OperatorResultKey(accountSID, transcriptSID, operatorSID string, redacted bool) string {
	return path.Join(transcriptPrefix(accountSID, transcriptSID)+"operator-results", operatorSID, variant(redacted))
}

// TranscriptPrefix covers every object of a transcript.
func TranscriptPrefix(accountSID, transcriptSID string) string {
	return transcriptPrefix(accountSID, transcriptSID)
}

func variant(redacted bool) string {
	if redacted {
		return "redacted"
	}
	return "unredacted"
}

// Pipeline processes transcripts.
type Pipeline struct {
	DB      *store.DB
	Blobs   blob.Store
	Keys    *keyring.Keyring
	Fetcher *media.Fetcher
	Log     *slog.Logger
}

// permanentError marks a failure that retrying cannot fix; the transcript is
// marked failed with its message, which never contains customer content.
type permanentError struct{ reason string }

func (e *permanentError) Error() string { return e.reason }

// Process runs one transcript through the pipeline. It is idempotent: a retry
// after a crash rewrites the same blob keys and completes the transcript once.
// A returned error is transient (the job is retried); permanent problems mark
// the transcript failed and return nil.
func (p *Pipeline) Process(ctx context.Context, transcriptSID string) error {
	t, ok, err := p.DB.StartTranscript(ctx, transcriptSID)
	if err != nil {
		return fmt.Errorf("starting %s: %w", transcriptSID, err)
	}
	if !ok {
		// Deleted, or finished by an earlier attempt that may have died
		// before removing the sealed source.
		if t != nil {
			p.removeSource(ctx, t)
		}
		return nil
	}
	log := p.Log.With("transcript_sid", t.SID, "account_sid", t.AccountSID)

	arts, duration, err := p.produce(ctx, t)
	if ctx.Err() != nil {
		// Shutting down or timed out: the job is retried, nothing failed.
		return errors.Join(err, ctx.Err())
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		log.Info("transcript failed", "reason", perm.reason)
		if err := p.DB.FailTranscript(ctx, t.SID, perm.reason); err != nil {
			return err
		}
		p.removeSource(ctx, t)
		return nil
	}
	if err != nil {
		return err
	}
	completed, err := p.DB.CompleteTranscript(ctx, t.SID, duration, arts)
	if err != nil {
		return fmt.Errorf("completing %s: %w", t.SID, err)
	}
	if !completed {
		// Deleted while we worked: remove what we wrote.
		return p.Blobs.DeletePrefix(ctx, TranscriptPrefix(t.AccountSID, t.SID))
	}
	p.removeSource(ctx, t)
	log.Info("transcript completed", "sentences_artifacts", len(arts), "duration_s", duration)
	return nil
}

// removeSource deletes inline media kept sealed until processing.
func (p *Pipeline) removeSource(ctx context.Context, t *convoseal.Transcript) {
	if t.MediaURL != SealedSourceURL {
		return
	}
	if err := p.Blobs.Delete(ctx, SourceKey(t.AccountSID, t.SID)); err != nil {
		p.Log.Warn("removing sealed source", "transcript_sid", t.SID, "err", err)
	}
}

// produce fetches, parses and seals; it returns the artifacts written.
func (p *Pipeline) produce(ctx context.Context, t *convoseal.Transcript) ([]convoseal.Artifact, int, error) {
	m, err := p.loadMedia(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	doc, err := media.Parse(m)
	clear(m.Data)
	if err != nil {
		return nil, 0, &permanentError{reason: safeReason(err)}
	}
	sentences := toSentences(t.SID, doc)
	duration := 0
	for _, s := range sentences {
		duration = max(duration, int(math.Ceil(s.EndTime)))
	}

	recipient, err := p.Keys.Recipient(ctx, t.AccountSID, t.EncryptionCredentialSID)
	if err != nil {
		if errors.Is(err, convoseal.ErrNotFound) {
			return nil, 0, &permanentError{reason: fmt.Sprintf("encryption credential %s no longer exists", t.EncryptionCredentialSID)}
		}
		return nil, 0, err
	}
	plain, err := json.Marshal(convoseal.SentencesDocument{TranscriptSID: t.SID, Sentences: sentences})
	if err != nil {
		return nil, 0, err
	}
	art, err := p.sealAndStore(ctx, t, recipient, SentencesKey(t.AccountSID, t.SID, false), plain)
	clear(plain)
	if err != nil {
		return nil, 0, err
	}
	art.Kind = convoseal.ArtifactSentences
	return []convoseal.Artifact{art}, duration, nil
}

// sealAndStore seals plaintext for recipient and stores it under key.
func (p *Pipeline) sealAndStore(ctx context.Context, t *convoseal.Transcript, r seal.Recipient, key string, plaintext []byte) (convoseal.Artifact, error) {
	body, env, err := seal.Seal(r, plaintext)
	if err != nil {
		return convoseal.Artifact{}, fmt.Errorf("sealing %s: %w", key, err)
	}
	env.CredentialSID = t.EncryptionCredentialSID
	if err := p.Blobs.Put(ctx, key, body, env.Metadata()); err != nil {
		return convoseal.Artifact{}, fmt.Errorf("storing %s: %w", key, err)
	}
	return convoseal.Artifact{TranscriptSID: t.SID, BlobKey: key, Size: int64(len(body))}, nil
}

// loadMedia returns the transcript's media: the sealed inline source, or a
// fetch of its URL.
func (p *Pipeline) loadMedia(ctx context.Context, t *convoseal.Transcript) (*media.Media, error) {
	if t.MediaURL == SealedSourceURL {
		body, meta, err := p.Blobs.Get(ctx, SourceKey(t.AccountSID, t.SID))
		if errors.Is(err, blob.ErrNotFound) {
			return nil, &permanentError{reason: "the submitted media is missing from storage"}
		}
		if err != nil {
			return nil, fmt.Errorf("loading source: %w", err)
		}
		env, err := seal.ParseMetadata(meta)
		if err != nil {
			return nil, &permanentError{reason: "the stored media's envelope is damaged"}
		}
		raw, err := seal.Open(p.Keys.ServerIdentity(), body, env)
		if err != nil {
			return nil, &permanentError{reason: "the stored media cannot be opened with the server key"}
		}
		return DecodeSource(raw)
	}
	m, err := p.Fetcher.Fetch(ctx, t.MediaURL)
	if err != nil {
		if transient(err) {
			return nil, err
		}
		return nil, &permanentError{reason: safeReason(err)}
	}
	return m, nil
}

// transient reports whether a fetch error may succeed on retry.
func transient(err error) bool {
	var hs *media.HTTPStatusError
	if errors.As(err, &hs) {
		return hs.StatusCode >= 500 || hs.StatusCode == 429
	}
	return errors.Is(err, media.ErrTimeout) || errors.Is(err, media.ErrFetch) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// safeReason is the client-visible failure reason. The media package's
// messages name URLs without query or credentials and never include content.
func safeReason(err error) string {
	return err.Error()
}

// toSentences numbers the document's sentences and gives each a stable SID
// (derived from the transcript SID and index, so retries produce the same).
func toSentences(transcriptSID string, doc *media.Document) []convoseal.Sentence {
	out := make([]convoseal.Sentence, len(doc.Sentences))
	for i, s := range doc.Sentences {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", transcriptSID, i))
		conf := 1.0
		if s.Confidence != nil {
			conf = *s.Confidence
		}
		words := make([]convoseal.Word, len(s.Words))
		for j, w := range s.Words {
			words[j] = convoseal.Word{Word: w.Word, StartTime: w.StartTime, EndTime: w.EndTime}
		}
		out[i] = convoseal.Sentence{
			SID:           convoseal.PrefixSentence + hex.EncodeToString(sum[:16]),
			SentenceIndex: i,
			MediaChannel:  s.MediaChannel,
			StartTime:     s.StartTime,
			EndTime:       s.EndTime,
			Transcript:    s.Transcript,
			Confidence:    conf,
			Words:         words,
		}
	}
	return out
}

// EncodeSource serialises inline media (content type and bytes) for sealing.
func EncodeSource(m *media.Media) []byte {
	b, _ := json.Marshal(struct {
		ContentType string `json:"content_type"`
		Data        []byte `json:"data"`
	}{m.ContentType, m.Data})
	return b
}

// DecodeSource is the inverse of EncodeSource.
func DecodeSource(raw []byte) (*media.Media, error) {
	var v struct {
		ContentType string `json:"content_type"`
		Data        []byte `json:"data"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, &permanentError{reason: "the stored media is damaged"}
	}
	clear(raw)
	return &media.Media{ContentType: v.ContentType, Data: v.Data}, nil
}
