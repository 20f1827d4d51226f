package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/audio"
	"github.com/convoseal/convoseal/internal/pii"
)

// Recordings of audio transcripts. With MediaRedaction (which needs
// AutoRedaction) the recording is stored with the words that said PII
// silenced; the original recording is stored only when the operator keeps
// media for the Service (convoseal services keep-media). Both are 16-bit PCM
// WAV at the recording's own rate and channels, sealed like every artifact.

// MediaKey is a recording of an audio transcript: the redacted one, or the
// original (unredacted).
func MediaKey(accountSID, transcriptSID string, redacted bool) string {
	return transcriptPrefix(accountSID, transcriptSID) + "media/" + variant(redacted)
}

// mediaMargin widens every silenced span on each side, in seconds: word
// times are the recognizer's estimate, and the edge of a word that said PII
// must not stay audible.
const mediaMargin = 0.05

// storeRecordings seals and stores a transcript's recordings: the redacted
// one when the Service has MediaRedaction and the transcript was made with
// redaction (redacted holds its redacted sentences), and the original when
// the operator keeps media for the Service. The Service's settings are read
// now, when the transcript is processed. Each recording is recorded in
// w.arts as an ArtifactMedia of its variant and, with data logging on,
// copied to the data-logging area like every artifact. rec (the decoded
// recording, channel n being media_channel n) is not changed.
func (p *Pipeline) storeRecordings(ctx context.Context, w *artifactWriter, t *convoseal.Transcript, rec *audio.Decoded, redacted []convoseal.Sentence) error {
	if rec == nil || len(rec.Channels) == 0 || rec.SampleRate <= 0 {
		return nil
	}
	settings, err := p.DB.ServiceMedia(ctx, t.AccountSID, t.ServiceSID)
	if err != nil {
		return fmt.Errorf("reading the media settings of %s: %w", t.ServiceSID, err)
	}
	if settings.KeepMedia {
		if err := w.writeRecording(ctx, false, rec); err != nil {
			return err
		}
	}
	if settings.MediaRedaction && t.Redaction && redacted != nil {
		red, copied := silencePII(rec, redacted)
		err := w.writeRecording(ctx, true, red)
		for i, c := range copied {
			if c {
				clear(red.Channels[i])
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeRecording encodes d as WAV, seals and stores it as the recording of
// one variant, and wipes the WAV.
func (w *artifactWriter) writeRecording(ctx context.Context, redacted bool, d *audio.Decoded) error {
	wav := audio.EncodeWAV(d)
	defer clear(wav)
	key := MediaKey(w.t.AccountSID, w.t.SID, redacted)
	art, err := w.p.sealAndStore(ctx, w.t, w.recipient, key, wav)
	if err != nil {
		return err
	}
	art.Kind, art.Redacted = convoseal.ArtifactMedia, redacted
	w.arts = append(w.arts, art)
	if w.t.DataLogging {
		dlKey := DataLoggingPrefix(w.t.AccountSID, w.t.SID) + strings.TrimPrefix(key, TranscriptPrefix(w.t.AccountSID, w.t.SID))
		if _, err := w.p.sealAndStore(ctx, w.t, w.p.Keys.KEK(), dlKey, wav); err != nil {
			return err
		}
	}
	return nil
}

// silencePII returns rec with the PII of the redacted sentences silenced
// (samples zeroed), widened by mediaMargin on each side: the time span of
// every placeholder word, and a whole sentence whose text has a placeholder
// that none of its words carries (its words could not be matched, so it has
// none). Only the sentence's own channel is silenced, or every channel when
// its media_channel is not one of the recording's. Channels with nothing to
// silence are shared with rec; copied[i] reports that channel i is a copy
// (for the caller to wipe). rec is not changed.
func silencePII(rec *audio.Decoded, redacted []convoseal.Sentence) (out *audio.Decoded, copied []bool) {
	out = &audio.Decoded{SampleRate: rec.SampleRate, Channels: slices.Clone(rec.Channels), Format: rec.Format}
	copied = make([]bool, len(rec.Channels))
	silence := func(channel int, from, to float64) {
		if channel < 1 || channel > len(out.Channels) {
			channel = 0 // every channel
		}
		for i := range out.Channels {
			if (channel == 0 || i == channel-1) && !copied[i] {
				out.Channels[i], copied[i] = slices.Clone(out.Channels[i]), true
			}
		}
		audio.Silence(out, channel, from-mediaMargin, to+mediaMargin)
	}
	for _, s := range redacted {
		wordPII := false
		for _, wd := range s.Words {
			if isPlaceholder(wd.Word) {
				wordPII = true
				silence(s.MediaChannel, wd.StartTime, wd.EndTime)
			}
		}
		if !wordPII && hasPlaceholder(s.Transcript) {
			silence(s.MediaChannel, s.StartTime, s.EndTime)
		}
	}
	return out, copied
}

// isPlaceholder reports whether word is a redaction placeholder ("[PERSON]").
func isPlaceholder(word string) bool {
	inner, open := strings.CutPrefix(word, "[")
	typ, closed := strings.CutSuffix(inner, "]")
	return open && closed && slices.Contains(pii.Types, typ)
}

// hasPlaceholder reports whether text contains a redaction placeholder.
func hasPlaceholder(text string) bool {
	for _, typ := range pii.Types {
		if strings.Contains(text, "["+typ+"]") {
			return true
		}
	}
	return false
}
