package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/convoseal/convoseal/internal/asr"
)

// Wire types of a verbose_json transcription (only the fields used).
type (
	verboseJSON struct {
		Words    []wordJSON    `json:"words"`
		Segments []segmentJSON `json:"segments"`
	}
	wordJSON struct {
		Word        string    `json:"word"`
		Start       flexFloat `json:"start"`
		End         flexFloat `json:"end"`
		Probability *float64  `json:"probability"`
	}
	segmentJSON struct {
		Start      flexFloat  `json:"start"`
		End        flexFloat  `json:"end"`
		Text       string     `json:"text"`
		AvgLogprob *flexFloat `json:"avg_logprob"`
		Words      []wordJSON `json:"words"`
	}
)

// flexFloat is a JSON number, or a string holding one (some servers quote
// numbers); null and absent are 0.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("not a number")
	}
	*f = flexFloat(v)
	return nil
}

// parse turns a verbose_json body into a Result for audio of the given
// duration (seconds). Times are clamped to [0, duration].
func parse(raw []byte, duration float64) (*asr.Result, error) {
	var v verboseJSON
	if err := json.Unmarshal(raw, &v); err != nil {
		// Not err itself: a decoder error can quote the body.
		return nil, fmt.Errorf("%w: the body is not a verbose_json transcription", ErrInvalidResponse)
	}
	clamp := func(t flexFloat) float64 { return min(max(float64(t), 0), duration) }
	res := &asr.Result{Duration: duration}
	for _, s := range v.Segments {
		seg := asr.Segment{
			Start:      clamp(s.Start),
			End:        clamp(s.End),
			Text:       strings.TrimSpace(s.Text),
			Confidence: -1,
		}
		seg.End = max(seg.End, seg.Start)
		if s.AvgLogprob != nil {
			seg.Confidence = unit(math.Exp(float64(*s.AvgLogprob)))
		}
		if len(v.Words) == 0 {
			seg.Words = mergeTokens(s.Words, seg.Confidence, clamp)
		}
		res.Segments = append(res.Segments, seg)
	}
	if len(v.Words) > 0 {
		assignWords(res, v.Words, clamp)
	}
	for i := range res.Segments {
		seg := &res.Segments[i]
		if len(seg.Words) == 0 {
			seg.Words = spreadText(seg)
		}
		slices.SortStableFunc(seg.Words, func(a, b asr.Word) int {
			switch {
			case a.Start < b.Start:
				return -1
			case a.Start > b.Start:
				return 1
			}
			return 0
		})
		if len(seg.Words) > 0 {
			seg.Start = min(seg.Start, seg.Words[0].Start)
			seg.End = max(seg.End, seg.Words[len(seg.Words)-1].End)
		}
	}
	return res, nil
}

// unit clamps a probability into [0, 1].
func unit(p float64) float64 {
	if math.IsNaN(p) {
		return -1
	}
	return min(max(p, 0), 1)
}

// assignWords puts top-level words (OpenAI, speaches) into the segment that
// holds their midpoint, or the nearest one; without segments they form one.
func assignWords(res *asr.Result, words []wordJSON, clamp func(flexFloat) float64) {
	if len(res.Segments) == 0 {
		seg := asr.Segment{Confidence: -1}
		var text []string
		for _, w := range words {
			if t := strings.TrimSpace(w.Word); t != "" {
				text = append(text, t)
			}
		}
		seg.Text = strings.Join(text, " ")
		res.Segments = append(res.Segments, seg)
		defer func() {
			s := &res.Segments[0]
			if len(s.Words) > 0 {
				s.Start, s.End = s.Words[0].Start, s.Words[len(s.Words)-1].End
			}
		}()
	}
	for _, w := range words {
		text := strings.TrimSpace(w.Word)
		if text == "" || special(text) {
			continue
		}
		start, end := clamp(w.Start), clamp(w.End)
		end = max(end, start)
		mid := (start + end) / 2
		best, bestDist := 0, math.Inf(1)
		for i, s := range res.Segments {
			d := 0.0
			if mid < s.Start {
				d = s.Start - mid
			} else if mid > s.End {
				d = mid - s.End
			}
			if d < bestDist {
				best, bestDist = i, d
			}
		}
		seg := &res.Segments[best]
		conf := seg.Confidence
		if w.Probability != nil {
			conf = unit(*w.Probability)
		}
		seg.Words = append(seg.Words, asr.Word{Word: text, Start: start, End: end, Confidence: conf})
	}
}

// mergeTokens turns a segment's "words" into words. whisper.cpp's server
// lists sub-word tokens there: a token starting with a space starts a new
// word, the others continue the current one; the word's times run from its
// first token's start to its last token's end and its confidence is the mean
// of the tokens' probabilities. Whole words (starting with a space, as
// openai-whisper writes them) pass through unchanged. Special tokens
// ("[_BEG_]", "<|endoftext|>") are skipped.
func mergeTokens(tokens []wordJSON, segConf float64, clamp func(flexFloat) float64) []asr.Word {
	var words []asr.Word
	var cur *asr.Word
	var probSum float64
	var probN int
	flush := func() {
		if cur == nil {
			return
		}
		cur.Word = strings.TrimSpace(cur.Word)
		if probN > 0 {
			cur.Confidence = unit(probSum / float64(probN))
		}
		if cur.Word != "" {
			words = append(words, *cur)
		}
		cur, probSum, probN = nil, 0, 0
	}
	for _, t := range tokens {
		if special(strings.TrimSpace(t.Word)) || t.Word == "" {
			continue
		}
		start, end := clamp(t.Start), clamp(t.End)
		startsWord := cur == nil || strings.HasPrefix(t.Word, " ") || strings.TrimSpace(cur.Word) == ""
		if startsWord {
			flush()
			cur = &asr.Word{Word: t.Word, Start: start, End: max(end, start), Confidence: segConf}
		} else {
			cur.Word += t.Word
			cur.End = max(cur.End, end)
		}
		if t.Probability != nil {
			probSum += *t.Probability
			probN++
		}
	}
	flush()
	for i := range words {
		if !utf8.ValidString(words[i].Word) {
			words[i].Word = strings.ToValidUTF8(words[i].Word, "\uFFFD")
		}
	}
	return words
}

// special reports whether a token is one of Whisper's control tokens.
func special(t string) bool {
	return (strings.HasPrefix(t, "[_") && strings.HasSuffix(t, "]")) ||
		(strings.HasPrefix(t, "<|") && strings.HasSuffix(t, "|>"))
}

// spreadText gives a segment that came without word timestamps (a server
// ignoring timestamp_granularities, e.g. vLLM) words spread over its time in
// proportion to their length, at the segment's confidence.
func spreadText(seg *asr.Segment) []asr.Word {
	fields := strings.Fields(seg.Text)
	if len(fields) == 0 {
		return nil
	}
	total := 0
	for _, f := range fields {
		total += utf8.RuneCountInString(f)
	}
	span := seg.End - seg.Start
	words := make([]asr.Word, 0, len(fields))
	at := 0
	for _, f := range fields {
		n := utf8.RuneCountInString(f)
		start := seg.Start + span*float64(at)/float64(total)
		at += n
		end := seg.Start + span*float64(at)/float64(total)
		words = append(words, asr.Word{Word: f, Start: start, End: end, Confidence: seg.Confidence})
	}
	return words
}
