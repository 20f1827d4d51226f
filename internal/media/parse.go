package media

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"mime"
	"strings"
	"unicode/utf8"
)

// Limits enforced by [Parse].
const (
	// MaxSentences is the largest number of sentences (or cues) a document
	// may hold.
	MaxSentences = 100_000
	// MaxTranscriptBytes is the largest sentence transcript (and word), in
	// bytes of UTF-8.
	MaxTranscriptBytes = 64 << 10
	// MaxMediaChannel is the largest media_channel; channels start at 1.
	MaxMediaChannel = 16
)

// Document is a parsed and validated transcript.
type Document struct {
	// Sentences are in document order (not sorted by time; channels may
	// interleave). There is at least one.
	Sentences []Sentence
}

// Sentence is one utterance on one media channel.
type Sentence struct {
	// MediaChannel is the 1-based channel (speaker) number, at most
	// MaxMediaChannel.
	MediaChannel int
	// StartTime and EndTime are offsets in seconds; 0 <= StartTime <= EndTime.
	StartTime, EndTime float64
	// Transcript is the text: valid UTF-8, not blank, at most
	// MaxTranscriptBytes.
	Transcript string
	// Confidence is the recognizer's confidence in [0, 1], or nil when
	// unknown.
	Confidence *float64
	// Words are optional word timings, ordered by StartTime.
	Words []Word
}

// Word is the timing of one word of a sentence.
type Word struct {
	// Word is the text of the word: valid UTF-8, not blank.
	Word string
	// StartTime and EndTime are offsets in seconds; 0 <= StartTime <= EndTime.
	StartTime, EndTime float64
}

// Parse turns media into a validated Document. The format is chosen by the
// content type (application/json or any +json type, text/vtt) or, when the
// content type is absent or generic (text/plain, application/octet-stream),
// by sniffing: a leading '{' means JSON, a leading "WEBVTT" means WebVTT.
// Audio and video are refused with [ErrUnsupportedMedia] (callers send
// recordings to speech recognition before they get here: see
// pipeline.IsAudio), as are other content types and non-UTF-8 charsets. Malformed or invalid documents are
// refused with an error wrapping [ErrInvalidDocument] that names the
// sentence index (or cue line) and field but never quotes transcript text.
func Parse(m *Media) (*Document, error) {
	if m == nil {
		return nil, invalidf("no media")
	}
	mediaType, params, ok := parseContentType(m.ContentType)
	if cs := strings.ToLower(params["charset"]); cs != "" {
		switch cs {
		case "utf-8", "utf8", "us-ascii", "ascii":
		default:
			return nil, newErr(ErrUnsupportedMedia, "charset %q is not supported (use UTF-8)", truncate(cs, 32))
		}
	}
	switch {
	case mediaType == "application/json" || mediaType == "text/json" || strings.HasSuffix(mediaType, "+json"):
		return parseText(m.Data, parseJSON)
	case mediaType == "text/vtt":
		return parseText(m.Data, parseVTT)
	case strings.HasPrefix(mediaType, "audio/") || strings.HasPrefix(mediaType, "video/"):
		return nil, errNoRecognizer
	case mediaType == "" || mediaType == "text/plain" ||
		mediaType == "application/octet-stream" || mediaType == "binary/octet-stream":
		return sniff(m.Data)
	case ok:
		return nil, newErr(ErrUnsupportedMedia, "content type %q is not supported", truncate(mediaType, 64))
	default:
		return nil, newErr(ErrUnsupportedMedia, "malformed content type")
	}
}

var errNoRecognizer = newErr(ErrUnsupportedMedia, "audio transcription is not available in this build")

// parseContentType returns the lower-cased media type, its parameters, and
// whether the header was well formed. A malformed header yields "" only if
// it is empty.
func parseContentType(ct string) (string, map[string]string, bool) {
	ct = strings.TrimSpace(ct)
	if ct == "" {
		return "", nil, true
	}
	mt, params, err := mime.ParseMediaType(ct)
	if errors.Is(err, mime.ErrInvalidMediaParameter) && mt != "" {
		return mt, nil, true // keep the type, drop the broken parameters
	}
	if err != nil {
		return "\x00malformed", nil, false
	}
	return mt, params, true
}

var bom = []byte("\xef\xbb\xbf")

func sniff(data []byte) (*Document, error) {
	d := bytes.TrimLeft(bytes.TrimPrefix(data, bom), " \t\r\n")
	switch {
	case bytes.HasPrefix(d, []byte("{")):
		return parseText(data, parseJSON)
	case bytes.HasPrefix(d, []byte("WEBVTT")):
		return parseText(data, parseVTT)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE",
		bytes.HasPrefix(data, []byte("OggS")), bytes.HasPrefix(data, []byte("fLaC")),
		bytes.HasPrefix(data, []byte("ID3")):
		return nil, errNoRecognizer
	}
	return nil, newErr(ErrUnsupportedMedia, "unrecognized content (expected a JSON transcript or WebVTT)")
}

func parseText(data []byte, parse func([]byte) (*Document, error)) (*Document, error) {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, invalidf("not valid UTF-8 (byte offset %d)", off)
	}
	return parse(bytes.TrimPrefix(data, bom))
}

func invalidf(format string, args ...any) error {
	return newErr(ErrInvalidDocument, format, args...)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// validate checks the invariants every Document satisfies. name renders the
// location of field (e.g. "end_time", "words[2].word") of the i-th sentence
// for error messages, such as "sentences[3].end_time".
func validate(ss []Sentence, name func(i int, field string) string) error {
	if len(ss) == 0 {
		return invalidf("no sentences")
	}
	if len(ss) > MaxSentences {
		return invalidf("more than %d sentences", MaxSentences)
	}
	for i := range ss {
		s := &ss[i]
		at := func(field string) string { return name(i, field) }
		if s.MediaChannel < 1 || s.MediaChannel > MaxMediaChannel {
			return invalidf("%s: must be between 1 and %d", at("media_channel"), MaxMediaChannel)
		}
		if err := checkTimes(at, "", s.StartTime, s.EndTime); err != nil {
			return err
		}
		if err := checkText(at("transcript"), s.Transcript); err != nil {
			return err
		}
		if c := s.Confidence; c != nil && !(*c >= 0 && *c <= 1) {
			return invalidf("%s: must be between 0 and 1", at("confidence"))
		}
		for j := range s.Words {
			w := &s.Words[j]
			prefix := fmt.Sprintf("words[%d].", j)
			if err := checkText(at(prefix+"word"), w.Word); err != nil {
				return err
			}
			if err := checkTimes(at, prefix, w.StartTime, w.EndTime); err != nil {
				return err
			}
			if j > 0 && w.StartTime < s.Words[j-1].StartTime {
				return invalidf("%s: before the previous word's start_time (words out of order)", at(prefix+"start_time"))
			}
		}
	}
	return nil
}

func checkTimes(at func(string) string, prefix string, start, end float64) error {
	switch {
	case math.IsNaN(start) || math.IsInf(start, 0):
		return invalidf("%s: not a finite number", at(prefix+"start_time"))
	case math.IsNaN(end) || math.IsInf(end, 0):
		return invalidf("%s: not a finite number", at(prefix+"end_time"))
	case start < 0:
		return invalidf("%s: negative", at(prefix+"start_time"))
	case end < 0:
		return invalidf("%s: negative", at(prefix+"end_time"))
	case end < start:
		return invalidf("%s: before start_time", at(prefix+"end_time"))
	}
	return nil
}

func checkText(where, text string) error {
	switch {
	case !utf8.ValidString(text):
		return invalidf("%s: not valid UTF-8", where)
	case len(text) > MaxTranscriptBytes:
		return invalidf("%s: longer than %d bytes", where, MaxTranscriptBytes)
	case strings.TrimSpace(text) == "":
		return invalidf("%s: empty", where)
	}
	return nil
}
