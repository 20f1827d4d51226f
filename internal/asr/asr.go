// Package asr is speech recognition: the Recognizer interface the pipeline
// uses, independent of which engine answers (the embedded pocketsphinx in
// asr/sphinx, or an OpenAI-compatible HTTP server in asr/openai).
package asr

import (
	"context"
	"errors"
)

// Audio is one channel of mono 16-bit PCM.
type Audio struct {
	// SampleRate is in Hz (8000, 16000, …). Recognizers resample as they need.
	SampleRate int
	// Samples are signed 16-bit little-endian values, already decoded.
	Samples []int16
}

// Duration is the audio's length in seconds.
func (a Audio) Duration() float64 {
	if a.SampleRate <= 0 {
		return 0
	}
	return float64(len(a.Samples)) / float64(a.SampleRate)
}

// Word is one recognised word with its time and confidence.
type Word struct {
	Word string
	// Start and End are seconds from the start of the Audio.
	Start, End float64
	// Confidence is in [0, 1]; negative when the recognizer gave none.
	Confidence float64
}

// Segment is a stretch of speech the recognizer decoded as one unit (an
// utterance between pauses). Its Words are in time order.
type Segment struct {
	Start, End float64
	Text       string
	Words      []Word
	// Confidence is in [0, 1]; negative when unknown.
	Confidence float64
}

// Result is what a recognizer heard on one channel.
type Result struct {
	// Language is the BCP-47 code recognised (e.g. "en-US").
	Language string
	// Duration is the audio's length in seconds.
	Duration float64
	Segments []Segment
}

// Recognizer turns one channel of audio into words.
type Recognizer interface {
	// Recognize transcribes a in the given language (BCP-47, e.g. "en-US").
	// It returns an error wrapping ErrLanguage when the recognizer has no
	// model for it. Errors never quote recognised text.
	Recognize(ctx context.Context, a Audio, language string) (*Result, error)
	// Languages lists the BCP-47 codes the recognizer has models for.
	Languages() []string
}

// ErrLanguage is returned for a language the recognizer has no model for.
var ErrLanguage = errors.New("language not supported by the speech recognizer")

// ErrUnavailable is returned when recognition cannot run here at all (the
// engine or its model is not installed); the error says how to get it.
var ErrUnavailable = errors.New("speech recognition is not available")
