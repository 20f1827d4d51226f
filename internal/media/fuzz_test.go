package media

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, fails only with
// ErrInvalidDocument or ErrUnsupportedMedia, and returns only documents that
// satisfy the validation invariants.
func FuzzParse(f *testing.F) {
	seeds := []struct{ ct, data string }{
		{"application/json", `{"sentences":[{"media_channel":1,"start_time":0.0,"end_time":1.9,"transcript":"hello","confidence":0.93,"words":[{"word":"hello","start_time":0.0,"end_time":0.3}]}]}`},
		{"application/json", `{"sentences":[{"media_channel":2,"start_time":1,"end_time":1,"transcript":"x"},{"media_channel":16,"start_time":3,"end_time":4,"transcript":"y","confidence":null,"words":null}]}`},
		{"", `{"sentences":[]}`},
		{"application/json", `{"sentences":[{"media_channel":1,"start_time":-1,"end_time":1e999,"transcript":"\u0000\ud800"}]}`},
		{"text/vtt", "WEBVTT\n\nNOTE x\n\n1\n00:00.000 --> 00:01.000 align:start\n<v Alice>Hi <i>there</i>\nsecond line\n\n00:00:01.000 --> 00:00:02.500\nBob: hello &amp; bye\n"},
		{"", "\ufeffWEBVTT\r\n\r\nSTYLE\r\n::cue{}\r\n\r\n00:01.000 --> 00:00.000\r\n<v.a b>x</v>\r\n"},
		{"text/vtt", "WEBVTT\n00:00.000 --> 00:01.000\n<c.x><00:00.500>a</c>\n"},
		{"audio/wav", "RIFF\x00\x00\x00\x00WAVEfmt "},
		{"text/plain", "hello"},
		{"text/(x", ""},
	}
	for _, s := range seeds {
		f.Add(s.ct, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		doc, err := Parse(&Media{ContentType: contentType, Data: data})
		if err != nil {
			if doc != nil {
				t.Fatal("non-nil document with an error")
			}
			if !errors.Is(err, ErrInvalidDocument) && !errors.Is(err, ErrUnsupportedMedia) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		checkInvariants(t, doc)
	})
}

// checkInvariants restates the documented guarantees independently of
// validate.
func checkInvariants(t *testing.T, doc *Document) {
	t.Helper()
	if doc == nil || len(doc.Sentences) == 0 || len(doc.Sentences) > MaxSentences {
		t.Fatalf("bad sentence count")
	}
	okTime := func(start, end float64) bool {
		return !math.IsNaN(start) && !math.IsNaN(end) && !math.IsInf(end, 0) && start >= 0 && end >= start
	}
	okText := func(s string) bool {
		return utf8.ValidString(s) && len(s) <= MaxTranscriptBytes && strings.TrimSpace(s) != ""
	}
	for i, s := range doc.Sentences {
		if s.MediaChannel < 1 || s.MediaChannel > MaxMediaChannel {
			t.Fatalf("sentence %d: channel %d", i, s.MediaChannel)
		}
		if !okTime(s.StartTime, s.EndTime) {
			t.Fatalf("sentence %d: times %v..%v", i, s.StartTime, s.EndTime)
		}
		if !okText(s.Transcript) {
			t.Fatalf("sentence %d: bad transcript", i)
		}
		if s.Confidence != nil && (*s.Confidence < 0 || *s.Confidence > 1 || math.IsNaN(*s.Confidence)) {
			t.Fatalf("sentence %d: confidence %v", i, *s.Confidence)
		}
		for j, w := range s.Words {
			if !okText(w.Word) || !okTime(w.StartTime, w.EndTime) {
				t.Fatalf("sentence %d word %d invalid", i, j)
			}
			if j > 0 && w.StartTime < s.Words[j-1].StartTime {
				t.Fatalf("sentence %d word %d out of order", i, j)
			}
		}
	}
}
