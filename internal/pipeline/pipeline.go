// Package pipeline turns a queued transcript into sealed artifacts: fetch the
// media, recognise it into sentences, run the Service's operators, seal every
// artifact for the transcript's recipient the moment it exists, store it, and
// mark the transcript completed. Work arrives as durable River jobs carrying
// only the transcript SID, never content.
package pipeline

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/audio"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/metrics"
	"github.com/convoseal/convoseal/internal/operators"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// SealedSourceURL is stored as a transcript's media URL when the media came
// inline (a data: URL): the media itself is kept sealed with the server KEK
// in the database (store.SealedSource, written with the transcript and
// deleted when it finishes), so its plaintext is stored nowhere.
const SealedSourceURL = "convoseal:sealed-source"

// Blob keys of a transcript's objects.
func transcriptPrefix(accountSID, transcriptSID string) string {
	return accountSID + "/" + transcriptSID + "/"
}

// SourceKey is where earlier versions kept inline media, sealed with the KEK,
// in the blob store. A transcript queued by such a version still has its
// source there (and none in the database): the pipeline reads it from here
// and deletes it when the transcript finishes.
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
	// Operators are what language operators may use (the LLM backend,
	// withheld from Services without the language model: operatorDeps).
	Operators operators.Deps
	// OperatorTimeout bounds one operator on one transcript (default 2 min).
	OperatorTimeout time.Duration
	// Notify, if set, enqueues the completion or failure event on the
	// transaction that records it (webhooks).
	Notify func(ctx context.Context, tx *sql.Tx, t *convoseal.Transcript, status string) error
	// Metrics, if set, counts finished transcripts and operator results.
	Metrics *metrics.Metrics
	// ASR recognises recordings (audio.go); nil: audio transcripts fail
	// with ReasonASRUnavailable.
	ASR asr.Recognizer
	// ASRChannels is how many channels of one recording are recognised at
	// once (default 1).
	ASRChannels int
	// MaxAudioSamples bounds a recording's decoded PCM (default
	// DefaultMaxAudioSamples).
	MaxAudioSamples int64
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
		// Deleted, or finished by an earlier attempt (which deleted a
		// sealed source in the database as it finished, but may have died
		// before removing one left in the blob store by an earlier version).
		if t != nil {
			p.removeBlobSource(ctx, t)
		}
		return nil
	}
	log := p.Log.With("transcript_sid", t.SID, "account_sid", t.AccountSID)

	var blobSource bool // the media came from a sealed source in the blob store
	arts, duration, err := p.produce(ctx, t, &blobSource)
	if ctx.Err() != nil {
		// Shutting down, timed out or given back: the job is retried,
		// nothing failed (unless the transcript was deleted meanwhile).
		p.removeIfDeleted(t)
		return errors.Join(err, ctx.Err())
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		log.Info("transcript failed", "reason", perm.reason)
		if err := p.DB.FailTranscript(ctx, t.SID, perm.reason, p.notify(ctx, t, convoseal.StatusFailed)); err != nil {
			return err
		}
		p.removeIfDeleted(t)
		p.count(convoseal.StatusFailed)
		if blobSource {
			p.removeBlobSource(ctx, t)
		}
		return nil
	}
	if err != nil {
		p.removeIfDeleted(t)
		return err
	}
	completed, err := p.DB.CompleteTranscript(ctx, t.SID, duration, arts, p.notify(ctx, t, convoseal.StatusCompleted))
	if err != nil {
		return fmt.Errorf("completing %s: %w", t.SID, err)
	}
	if !completed {
		// Deleted while we worked: remove what we wrote.
		return deleteObjects(ctx, p.Blobs, t.AccountSID, t.SID)
	}
	if blobSource {
		p.removeBlobSource(ctx, t)
	}
	p.count(convoseal.StatusCompleted)
	log.Info("transcript completed", "sentences_artifacts", len(arts), "duration_s", duration)
	return nil
}

func (p *Pipeline) count(status string) {
	if p.Metrics != nil {
		p.Metrics.Transcripts.WithLabelValues(status).Inc()
	}
}

func (p *Pipeline) notify(ctx context.Context, t *convoseal.Transcript, status string) func(*sql.Tx) error {
	if p.Notify == nil {
		return nil
	}
	return func(tx *sql.Tx) error { return p.Notify(ctx, tx, t, status) }
}

// removeBlobSource deletes inline media an earlier version kept sealed in the
// blob store until processing (a source in the database is deleted by the
// transaction that finishes the transcript).
func (p *Pipeline) removeBlobSource(ctx context.Context, t *convoseal.Transcript) {
	if t.MediaURL != SealedSourceURL {
		return
	}
	if err := p.Blobs.Delete(ctx, SourceKey(t.AccountSID, t.SID)); err != nil {
		p.Log.Warn("removing sealed source", "transcript_sid", t.SID, "err", err)
	}
}

// produce fetches and parses the media, runs the operators, and seals and
// stores every artifact the moment it exists: the sentences and each operator
// result, in the unredacted and (with redaction on) the redacted variant, plus
// the data-logging copy when the Service has it on. It sets *blobSource when
// the media was a sealed source read from the blob store (see SourceKey), for
// the caller to delete once the transcript has finished.
func (p *Pipeline) produce(ctx context.Context, t *convoseal.Transcript, blobSource *bool) ([]convoseal.Artifact, int, error) {
	m, err := p.loadMedia(ctx, t, blobSource)
	if err != nil {
		return nil, 0, err
	}
	var (
		sentences []convoseal.Sentence
		duration  int
		rec       *audio.Decoded // the recording, for audio media
	)
	if IsAudio(m) {
		if rec, err = p.decodeAudio(m); err != nil {
			return nil, 0, err
		}
		defer wipeAudio(rec)
		if sentences, err = p.transcribe(ctx, t, rec); err != nil {
			return nil, 0, err
		}
		duration = int(math.Round(rec.Duration()))
	} else {
		doc, err := media.Parse(m)
		clear(m.Data)
		if err != nil {
			return nil, 0, &permanentError{reason: safeReason(err)}
		}
		sentences = toSentences(t.SID, doc)
		for _, s := range sentences {
			duration = max(duration, int(math.Ceil(s.EndTime)))
		}
	}

	recipient, err := p.Keys.Recipient(ctx, t.AccountSID, t.EncryptionCredentialSID)
	if err != nil {
		if errors.Is(err, convoseal.ErrNotFound) {
			return nil, 0, &permanentError{reason: fmt.Sprintf("encryption credential %s no longer exists", t.EncryptionCredentialSID)}
		}
		return nil, 0, err
	}
	w := &artifactWriter{p: p, t: t, recipient: recipient}
	defer w.clear()

	// Sentences.
	plain, err := json.Marshal(convoseal.SentencesDocument{TranscriptSID: t.SID, Sentences: sentences})
	if err != nil {
		return nil, 0, err
	}
	red := &redactor{sentences: sentences} // redacted variants come from redacted text only (redact.go)
	if err := w.write(ctx, convoseal.ArtifactSentences, "", plain, red.sentencesDoc(t.SID)); err != nil {
		return nil, 0, err
	}
	if rec != nil {
		var redacted []convoseal.Sentence
		if t.Redaction {
			redacted = red.redacted()
		}
		if err := p.storeRecordings(ctx, w, t, rec, redacted); err != nil {
			return nil, 0, err
		}
	}

	// Operators, each on the unredacted conversation (and, for the redacted
	// variant, again on the redacted one).
	ops, err := p.DB.ServiceOperators(ctx, t.ServiceSID)
	if err != nil {
		return nil, 0, err
	}
	conv := &operators.Conversation{TranscriptSID: t.SID, LanguageCode: t.LanguageCode, Sentences: sentences}
	deps, err := p.operatorDeps(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	for _, op := range ops {
		res := p.runOperator(ctx, op, conv, deps)
		plain, err := json.Marshal(res)
		if err != nil {
			return nil, 0, err
		}
		if err := w.write(ctx, convoseal.ArtifactOperatorResult, op.SID, plain, p.redactedResult(ctx, op, red, conv, deps)); err != nil {
			return nil, 0, err
		}
	}
	return w.arts, duration, nil
}

// runOperator runs one operator; a failure (error, panic, timeout) becomes a
// failed result with a readable reason instead of failing the transcript.
func (p *Pipeline) runOperator(ctx context.Context, op *convoseal.Operator, conv *operators.Conversation, deps operators.Deps) (res *operators.Result) {
	timeout := p.OperatorTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(reason string) *operators.Result {
		p.Log.Warn("operator failed", "transcript_sid", conv.TranscriptSID, "operator_sid", op.SID, "reason", reason)
		return &operators.Result{OperatorType: operators.ResultType(op.OperatorType), Status: operators.ResultFailed, FailureReason: reason}
	}
	defer func() {
		if v := recover(); v != nil {
			p.Log.Error("operator panicked", "operator_sid", op.SID, "panic", fmt.Sprint(v))
			res = fail("the operator crashed")
		}
		res.Name, res.OperatorSID, res.TranscriptSID = op.FriendlyName, op.SID, conv.TranscriptSID
		if p.Metrics != nil {
			p.Metrics.OperatorResults.WithLabelValues(res.OperatorType, res.Status).Inc()
		}
	}()
	runner, err := operators.New(op, deps)
	if err != nil {
		return fail(err.Error())
	}
	res, err = runner.Run(ctx, conv)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fail(fmt.Sprintf("the operator did not finish within %s", timeout))
		}
		return fail(err.Error())
	}
	if res == nil {
		return fail("the operator produced no result")
	}
	res.Status = operators.ResultCompleted
	return res
}

// artifactWriter seals and stores a transcript's artifacts.
type artifactWriter struct {
	p         *Pipeline
	t         *convoseal.Transcript
	recipient seal.Recipient
	arts      []convoseal.Artifact
	plain     [][]byte // plaintexts to wipe when done
}

// write stores plain as the unredacted variant and, with redaction on, the
// redacted variant made by redact; with data logging on, both also go to the
// data-logging area sealed with the server key.
func (w *artifactWriter) write(ctx context.Context, kind, operatorSID string, plain []byte, redact func([]byte) ([]byte, error)) error {
	w.plain = append(w.plain, plain)
	variants := []struct {
		redacted bool
		data     []byte
	}{{false, plain}}
	if w.t.Redaction {
		red, err := redact(plain)
		if err != nil {
			return fmt.Errorf("redacting %s: %w", kind, err)
		}
		w.plain = append(w.plain, red)
		variants = append(variants, struct {
			redacted bool
			data     []byte
		}{true, red})
	}
	for _, v := range variants {
		key := SentencesKey(w.t.AccountSID, w.t.SID, v.redacted)
		if kind == convoseal.ArtifactOperatorResult {
			key = OperatorResultKey(w.t.AccountSID, w.t.SID, operatorSID, v.redacted)
		}
		art, err := w.p.sealAndStore(ctx, w.t, w.recipient, key, v.data)
		if err != nil {
			return err
		}
		art.Kind, art.OperatorSID, art.Redacted = kind, operatorSID, v.redacted
		w.arts = append(w.arts, art)
		if w.t.DataLogging {
			dlKey := DataLoggingPrefix(w.t.AccountSID, w.t.SID) + strings.TrimPrefix(key, TranscriptPrefix(w.t.AccountSID, w.t.SID))
			if _, err := w.p.sealAndStore(ctx, w.t, w.p.Keys.KEK(), dlKey, v.data); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *artifactWriter) clear() {
	for _, b := range w.plain {
		clear(b)
	}
}

// DataLoggingPrefix is where the data-logging copies of a transcript live,
// sealed with the server key, apart from the customer's artifacts.
func DataLoggingPrefix(accountSID, transcriptSID string) string {
	return "datalogging/" + accountSID + "/" + transcriptSID + "/"
}

// sealAndStore seals plaintext for recipient and stores it under key.
func (p *Pipeline) sealAndStore(ctx context.Context, t *convoseal.Transcript, r seal.Recipient, key string, plaintext []byte) (convoseal.Artifact, error) {
	start := time.Now()
	body, env, err := sealFor(r, t, key, plaintext)
	if err != nil {
		return convoseal.Artifact{}, fmt.Errorf("sealing %s: %w", key, err)
	}
	if p.Metrics != nil {
		kind := "customer"
		if env.WrapAlg == seal.WrapAlgAESGCMKEK {
			kind = "server"
		}
		p.Metrics.Seals.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	}
	env.CredentialSID = t.EncryptionCredentialSID
	if err := p.Blobs.Put(ctx, key, body, env.Metadata()); err != nil {
		return convoseal.Artifact{}, fmt.Errorf("storing %s: %w", key, err)
	}
	return convoseal.Artifact{TranscriptSID: t.SID, BlobKey: key, Size: int64(len(body))}, nil
}

// loadMedia returns the transcript's media: the sealed inline source, or a
// fetch of its URL. It sets *blobSource when the sealed source came from the
// blob store.
func (p *Pipeline) loadMedia(ctx context.Context, t *convoseal.Transcript, blobSource *bool) (*media.Media, error) {
	if t.MediaURL == SealedSourceURL {
		body, meta, fromBlob, err := p.sealedSource(ctx, t)
		*blobSource = fromBlob
		bind := keyring.SourceBinding(t.AccountSID, t.SID)
		if fromBlob {
			bind = keyring.ObjectBinding(t.AccountSID, t.SID, SourceKey(t.AccountSID, t.SID))
		}
		if err != nil {
			return nil, err
		}
		env, err := seal.ParseMetadata(meta)
		if err != nil {
			return nil, &permanentError{reason: "the stored media's envelope is damaged"}
		}
		raw, err := p.Keys.Open(bind, body, env)
		if err != nil {
			return nil, &permanentError{reason: "the stored media cannot be opened with the server key"}
		}
		return DecodeSource(raw)
	}
	mediaURL, err := p.fetchURL(t)
	if err != nil {
		return nil, err
	}
	m, err := p.Fetcher.Fetch(ctx, mediaURL)
	if err != nil {
		// The detail (what a name resolved to, refused or timed out) is for
		// the operator only; the customer's reason is generic (safeReason).
		p.Log.Warn("media fetch failed", "transcript_sid", t.SID, "account_sid", t.AccountSID, "error", err.Error())
		if transient(err) {
			return nil, err
		}
		return nil, &permanentError{reason: safeReason(err)}
	}
	return m, nil
}

// sealedSource returns a transcript's sealed inline source: its row in the
// database or, for a transcript queued by an earlier version (no row),
// the object under SourceKey (fromBlob).
func (p *Pipeline) sealedSource(ctx context.Context, t *convoseal.Transcript) (body []byte, meta map[string]string, fromBlob bool, err error) {
	src, err := p.DB.TranscriptSource(ctx, t.SID)
	if err == nil {
		return src.Body, src.Metadata, false, nil
	}
	if !errors.Is(err, convoseal.ErrNotFound) {
		return nil, nil, false, fmt.Errorf("loading source: %w", err)
	}
	body, meta, err = p.Blobs.Get(ctx, SourceKey(t.AccountSID, t.SID))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil, false, &permanentError{reason: "the submitted media is missing from storage"}
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("loading source: %w", err)
	}
	return body, meta, true, nil
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

// safeReason is the client-visible failure reason: for media errors
// media.PublicReason (no resolved addresses, no refused-or-timed-out port
// states: those go to the operator's log), a permanent error's own reason,
// and for anything else (database, blob store) a generic one.
func safeReason(err error) string {
	var perm *permanentError
	var fe *media.FetchError
	switch {
	case errors.As(err, &perm):
		return perm.reason
	case errors.As(err, &fe), errors.Is(err, media.ErrUnsupportedMedia), errors.Is(err, media.ErrInvalidDocument):
		return media.PublicReason(err)
	}
	return "an internal error stopped processing; the operator's log has the details"
}

// toSentences numbers the document's sentences and gives each a stable SID
// (derived from the transcript SID and index, so retries produce the same).
func toSentences(transcriptSID string, doc *media.Document) []convoseal.Sentence {
	out := make([]convoseal.Sentence, len(doc.Sentences))
	for i, s := range doc.Sentences {
		var words []convoseal.Word // nil without word timings: served as null
		for _, w := range s.Words {
			words = append(words, convoseal.Word{Word: w.Word, StartTime: w.StartTime, EndTime: w.EndTime})
		}
		out[i] = convoseal.Sentence{
			SID:           sentenceSID(transcriptSID, i),
			SentenceIndex: i,
			MediaChannel:  s.MediaChannel,
			StartTime:     s.StartTime,
			EndTime:       s.EndTime,
			Transcript:    s.Transcript,
			Confidence:    s.Confidence, // nil when unknown: served as null
			Words:         words,
		}
	}
	return out
}

// EncodeSource serialises inline media (content type and bytes) for sealing.
func EncodeSource(m *media.Media) []byte {
	// What json.Marshal of {content_type, data} gives, in one allocation of
	// the final size (the data may be 16 MiB).
	ct, _ := json.Marshal(m.ContentType)
	b := make([]byte, 0, len(`{"content_type":,"data":""}`)+len(ct)+base64.StdEncoding.EncodedLen(len(m.Data)))
	b = append(append(append(b, `{"content_type":`...), ct...), `,"data":`...)
	if m.Data == nil {
		return append(b, "null}"...)
	}
	b = base64.StdEncoding.AppendEncode(append(b, '"'), m.Data)
	return append(b, `"}`...)
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

// sentenceSID is the SID of a transcript's i-th sentence: derived, so that a
// retry gives every sentence the same SID.
func sentenceSID(transcriptSID string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", transcriptSID, i))
	return convoseal.PrefixSentence + hex.EncodeToString(sum[:16])
}
