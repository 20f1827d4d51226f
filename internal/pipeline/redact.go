package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/operators"
	"github.com/convoseal/convoseal/internal/pii"
)

// The redacted variant of every artifact is derived from redacted text only:
// the sentences are redacted structurally (PII in the text becomes its
// placeholder, and so do the words that said it), and each operator runs a
// second time, on the redacted conversation, to make its redacted result;
// a final pass redacts any PII still found in that result's strings. So no
// value, text part or offset of a redacted result comes from the unredacted
// text.

// redactor holds a transcript's sentences and, once asked for, their
// redacted copies.
type redactor struct {
	sentences []convoseal.Sentence
	red       []convoseal.Sentence
}

// redacted returns the redacted sentences, computing them on first use.
func (r *redactor) redacted() []convoseal.Sentence {
	if r.red == nil {
		r.red = redactSentences(r.sentences)
	}
	return r.red
}

// sentencesDoc returns the redact function of the sentences artifact: the
// redacted sentences document of transcriptSID.
func (r *redactor) sentencesDoc(transcriptSID string) func([]byte) ([]byte, error) {
	return func([]byte) ([]byte, error) {
		return json.Marshal(convoseal.SentencesDocument{TranscriptSID: transcriptSID, Sentences: r.redacted()})
	}
}

// redactedResult returns the redact function of op's result: op run on the
// redacted copy of conv, with a final redaction pass over its strings.
func (p *Pipeline) redactedResult(ctx context.Context, op *convoseal.Operator, r *redactor, conv *operators.Conversation, deps operators.Deps) func([]byte) ([]byte, error) {
	return func([]byte) ([]byte, error) {
		red := *conv
		red.Sentences = r.redacted()
		plain, err := json.Marshal(p.runOperator(ctx, op, &red, deps))
		if err != nil {
			return nil, fmt.Errorf("encoding redacted result: %w", err)
		}
		defer clear(plain)
		return redactJSON(plain)
	}
}

// redactSentences returns copies of sentences with the PII of each replaced
// by "[TYPE]" placeholders (a value detected in one sentence is redacted in
// all of them, see pii.DetectEach). Word timings are kept: a word that says
// PII becomes the placeholder (consecutive words of one value become one
// placeholder spanning their times) and the other words keep their text and
// times. When the words cannot be matched to the text in order, they are
// dropped rather than risk keeping one that says PII.
func redactSentences(in []convoseal.Sentence) []convoseal.Sentence {
	texts := make([]string, len(in))
	for i, s := range in {
		texts[i] = s.Transcript
	}
	spans := pii.DetectEach(texts)
	out := make([]convoseal.Sentence, len(in))
	for i, s := range in {
		out[i] = s
		out[i].Transcript = pii.RedactSpans(s.Transcript, spans[i])
		out[i].Words = redactWords(s.Transcript, out[i].Transcript, s.Words, spans[i])
	}
	return out
}

// redactWords maps words onto text (the unredacted sentence) in order,
// ignoring ASCII case, and
// replaces those overlapping a span by the span's placeholder. It returns
// nil when a word cannot be found in text after the previous one, or a kept
// word does not appear in the redacted sentence (so a kept word never says
// more than the redacted text does).
func redactWords(text, redacted string, words []convoseal.Word, spans []pii.Span) []convoseal.Word {
	if len(words) == 0 {
		return nil
	}
	text, redacted = lowerASCII(text), lowerASCII(redacted)
	out := make([]convoseal.Word, 0, len(words))
	pos, prevSpan := 0, -1
	for _, w := range words {
		word := lowerASCII(w.Word)
		k := strings.Index(text[pos:], word)
		if k < 0 {
			return nil
		}
		st, en := pos+k, pos+k+len(word)
		pos = en
		first, last := -1, -1
		for j, s := range spans {
			if s.Start < max(en, st+1) && st < s.End {
				if first < 0 {
					first = j
				}
				last = j
			}
		}
		switch {
		case first < 0:
			if !strings.Contains(redacted, word) {
				return nil
			}
			out = append(out, w)
			prevSpan = -1
		case first == prevSpan:
			// The same value goes on: widen its placeholder.
			out[len(out)-1].EndTime = max(out[len(out)-1].EndTime, w.EndTime)
			prevSpan = last
		default:
			out = append(out, convoseal.Word{Word: "[" + spans[first].Type + "]", StartTime: w.StartTime, EndTime: w.EndTime})
			prevSpan = last
		}
	}
	return out
}

// lowerASCII lower-cases the ASCII letters of s, keeping byte offsets.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// redactJSON replaces PII in every string value of an operator result.
func redactJSON(plain []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(plain, &v); err != nil {
		return nil, err
	}
	return json.Marshal(redactValue(v))
}

func redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return pii.Redact(x)
	case []any:
		for i := range x {
			x[i] = redactValue(x[i])
		}
	case map[string]any:
		for k, e := range x {
			switch k {
			case "operator_sid", "transcript_sid", "operator_type", "name", "status", "label", "predicted_label":
				continue // identifiers and labels, never PII
			}
			x[k] = redactValue(e)
		}
	}
	return v
}
