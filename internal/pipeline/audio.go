package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/asr/openai"
	"github.com/convoseal/convoseal/internal/audio"
	"github.com/convoseal/convoseal/internal/media"
)

// Bounds on a recording (the fetch itself is capped at media.DefaultMaxBytes,
// 64 MiB).
const (
	// MaxAudioSeconds is the longest recording transcribed.
	MaxAudioSeconds = 2 * 3600
	// DefaultMaxAudioSamples bounds the decoded PCM of one recording, all
	// channels together (2 bytes each: 256 MiB): two hours of 8 kHz stereo,
	// 70 minutes of 16 kHz stereo, 23 minutes of 48 kHz stereo. Longer
	// recordings at a rate fail before anything is decoded.
	DefaultMaxAudioSamples = 1 << 27
)

// Sentence segmentation of recognised speech.
const (
	// sentencePause is the silence between two words that ends a sentence.
	sentencePause = 0.5
	// maxSentenceWords is where a sentence without such a pause is cut.
	maxSentenceWords = 30
)

// Failure reasons of audio transcripts (tenant-facing: no install detail,
// no recognizer address).
const (
	ReasonASRUnavailable = "audio transcription is not available on this server"
	reasonASRFailed      = "speech recognition failed"
)

// errRecognizerDown wraps a recognizer failure that a later attempt may not
// meet (an HTTP recognizer's 5xx, 429 or timeout): the job is retried, and
// after maxTimeoutAttempts attempts the transcript fails (timeoutReason).
var errRecognizerDown = errors.New("the speech recognizer did not answer")

// IsAudio reports whether media is a recording rather than a transcript
// document: an audio or video content type, or bytes that sniff as a
// container internal/audio knows.
func IsAudio(m *media.Media) bool {
	ct := strings.ToLower(strings.TrimSpace(m.ContentType))
	return strings.HasPrefix(ct, "audio/") || strings.HasPrefix(ct, "video/") || audio.IsAudio(m.Data, m.ContentType)
}

// AudioLimits are the bounds for a recording with the given header: two
// hours, two channels, and at most maxSamples decoded samples (0:
// DefaultMaxAudioSamples).
func AudioLimits(info *audio.Info, maxSamples int64) audio.Limits {
	if maxSamples <= 0 {
		maxSamples = DefaultMaxAudioSamples
	}
	lim := audio.Limits{MaxBytes: media.DefaultMaxBytes, MaxDuration: MaxAudioSeconds, MaxChannels: 2}
	if info != nil && info.SampleRate > 0 && info.Channels > 0 {
		lim.MaxDuration = min(lim.MaxDuration, math.Floor(float64(maxSamples)/float64(info.SampleRate*info.Channels)))
	}
	return lim
}

// ProbeAudio checks that a recording's header decodes within the bounds
// (for inline media at creation); the error is safe to show.
func ProbeAudio(m *media.Media) error {
	info, err := audio.Probe(m.Data, m.ContentType, AudioLimits(nil, 0))
	if err != nil {
		return err
	}
	_, err = audio.Probe(m.Data, m.ContentType, AudioLimits(info, 0))
	return err
}

// decodeAudio decodes a recording within its bounds and wipes the encoded
// bytes.
func (p *Pipeline) decodeAudio(m *media.Media) (*audio.Decoded, error) {
	defer clear(m.Data)
	info, err := audio.Probe(m.Data, m.ContentType, AudioLimits(nil, p.MaxAudioSamples))
	if err == nil {
		var rec *audio.Decoded
		rec, err = audio.Decode(m.Data, m.ContentType, AudioLimits(info, p.MaxAudioSamples))
		if err == nil {
			return rec, nil
		}
	}
	return nil, &permanentError{reason: "the media is not audio this server can decode: " + strings.TrimPrefix(err.Error(), "audio: ")}
}

// wipeAudio zeroes decoded PCM.
func wipeAudio(rec *audio.Decoded) {
	if rec == nil {
		return
	}
	for _, c := range rec.Channels {
		clear(c)
	}
}

// transcribe recognises each channel of rec (channel n becomes media_channel
// n), and returns the sentences of all channels interleaved by start time.
func (p *Pipeline) transcribe(ctx context.Context, t *convoseal.Transcript, rec *audio.Decoded) ([]convoseal.Sentence, error) {
	lang := t.LanguageCode
	if lang == "" {
		lang = "en-US"
	}
	if p.ASR == nil {
		return nil, &permanentError{reason: ReasonASRUnavailable}
	}
	if !languageSupported(p.ASR.Languages(), lang) {
		return nil, languageError(lang, p.ASR.Languages())
	}
	results := make([]*asr.Result, len(rec.Channels))
	errs := make([]error, len(rec.Channels))
	parallel := max(p.ASRChannels, 1)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for c, samples := range rec.Channels {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[c], errs[c] = p.ASR.Recognize(ctx, asr.Audio{SampleRate: rec.SampleRate, Samples: samples}, lang)
		})
	}
	wg.Wait()
	for c, err := range errs {
		if err != nil {
			return nil, p.recognizerError(t, c+1, lang, err)
		}
	}
	out := []convoseal.Sentence{} // silence: none, served as []
	for c, res := range results {
		out = append(out, segmentSentences(c+1, res)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].StartTime != out[j].StartTime {
			return out[i].StartTime < out[j].StartTime
		}
		return out[i].MediaChannel < out[j].MediaChannel
	})
	for i := range out {
		out[i].SID = sentenceSID(t.SID, i)
		out[i].SentenceIndex = i
	}
	return out, nil
}

// recognizerError classifies a recognizer failure: transient ones (the job
// is retried) or permanent ones with a generic reason. The detail goes to
// the operator's log only.
func (p *Pipeline) recognizerError(t *convoseal.Transcript, channel int, lang string, err error) error {
	if ctx := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded); ctx {
		return err
	}
	p.Log.Warn("speech recognition failed", "transcript_sid", t.SID, "account_sid", t.AccountSID, "media_channel", channel, "error", err.Error())
	var se *openai.StatusError
	switch {
	case errors.Is(err, asr.ErrUnavailable):
		return &permanentError{reason: ReasonASRUnavailable}
	case errors.Is(err, asr.ErrLanguage):
		return languageError(lang, p.ASR.Languages())
	case errors.Is(err, openai.ErrTimeout), errors.Is(err, openai.ErrUnreachable),
		errors.As(err, &se) && (se.Code >= 500 || se.Code == http.StatusTooManyRequests):
		return fmt.Errorf("%w: %w", errRecognizerDown, err)
	}
	return &permanentError{reason: reasonASRFailed}
}

// languageSupported reports whether lang (BCP-47) is among langs: the same
// tag, or the same primary language where one side names no region.
func languageSupported(langs []string, lang string) bool {
	p, region, _ := strings.Cut(strings.ToLower(lang), "-")
	for _, l := range langs {
		lp, lr, _ := strings.Cut(strings.ToLower(l), "-")
		if lp == p && (lr == region || lr == "" || region == "") {
			return true
		}
	}
	return false
}

func languageError(lang string, available []string) error {
	avail := available
	if len(avail) > 8 {
		avail = append(slices.Clone(avail[:8]), "…")
	}
	return &permanentError{reason: fmt.Sprintf("speech recognition is not available for language %s on this server (available: %s)",
		truncateReason(lang, 16), strings.Join(avail, ", "))}
}

func truncateReason(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// segmentSentences cuts one channel's recognised segments into sentences:
// at the segment boundaries, at pauses of sentencePause or more between
// words, and every maxSentenceWords words.
func segmentSentences(channel int, res *asr.Result) []convoseal.Sentence {
	if res == nil {
		return nil
	}
	var out []convoseal.Sentence
	for _, seg := range res.Segments {
		words := make([]asr.Word, 0, len(seg.Words))
		for _, w := range seg.Words {
			if w.Word = strings.TrimSpace(w.Word); w.Word != "" {
				words = append(words, w)
			}
		}
		if len(words) == 0 {
			continue
		}
		start := 0
		for i := 1; i <= len(words); i++ {
			if i < len(words) && i-start < maxSentenceWords && words[i].Start-words[i-1].End < sentencePause {
				continue
			}
			text := ""
			if start == 0 && i == len(words) {
				text = strings.TrimSpace(seg.Text) // the recognizer's own text (punctuation and case, if any)
			}
			out = append(out, sentence(channel, words[start:i], text, seg.Confidence))
			start = i
		}
	}
	return out
}

// sentence makes one sentence of words; text, when empty, is the words
// joined. Its confidence is the mean of the words' (else the segment's,
// else unknown: null).
func sentence(channel int, words []asr.Word, text string, segConf float64) convoseal.Sentence {
	s := convoseal.Sentence{MediaChannel: channel, StartTime: round3(words[0].Start), EndTime: round3(words[len(words)-1].End)}
	texts := make([]string, 0, len(words))
	var sum float64
	n := 0
	for _, w := range words {
		texts = append(texts, w.Word)
		s.Words = append(s.Words, convoseal.Word{Word: w.Word, StartTime: round3(w.Start), EndTime: round3(max(w.End, w.Start))})
		if w.Confidence >= 0 {
			sum += w.Confidence
			n++
		}
	}
	if text == "" || !wordsInText(text, texts) {
		text = strings.Join(texts, " ")
	}
	s.Transcript = text
	s.EndTime = max(s.EndTime, s.StartTime)
	switch {
	case n > 0:
		c := round3(sum / float64(n))
		s.Confidence = &c
	case segConf >= 0:
		c := round3(segConf)
		s.Confidence = &c
	}
	return s
}

// wordsInText reports whether every word appears in text in order (ASCII
// case ignored), as redaction needs to map words onto the text.
func wordsInText(text string, words []string) bool {
	text = lowerASCII(text)
	pos := 0
	for _, w := range words {
		k := strings.Index(text[pos:], lowerASCII(w))
		if k < 0 {
			return false
		}
		pos += k + len(w)
	}
	return true
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
