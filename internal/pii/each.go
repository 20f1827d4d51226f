package pii

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DetectEach runs Detect on each of texts (the sentences of one
// conversation) and then adds, in every text, the further whole-word
// occurrences of any value detected in one of them, so that a name given
// once in context ("my name is Anna") is not left readable in a later
// sentence where it stands alone ("thanks Anna"); each part of a detected
// full name counts as a value too ("Kowalski"). The result has one sorted,
// non-overlapping span list per text.
func DetectEach(texts []string) [][]Span {
	out := make([][]Span, len(texts))
	types := map[string]string{} // value → type of its first detection
	var vals []string
	for i, t := range texts {
		out[i] = Detect(t)
		for _, s := range out[i] {
			add := []string{s.Text}
			if s.Type == Person { // and each part of a full name
				for _, w := range strings.Fields(s.Text) {
					if utf8.RuneCountInString(w) >= 3 {
						add = append(add, w)
					}
				}
			}
			for _, v := range add {
				if _, ok := types[v]; !ok {
					types[v] = s.Type
					vals = append(vals, v)
				}
			}
		}
	}
	if len(vals) == 0 {
		return out
	}
	// Index the values by their first three bytes, longest first, so that
	// each text is scanned once whatever the number of values; the caps
	// bound the work on a conversation crafted to hold very many values
	// (every sentence is still redacted on its own).
	sort.SliceStable(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	index := map[string][]string{}
	for n, v := range vals {
		if n == maxPropagated {
			break
		}
		if k := v[:min(len(v), 3)]; len(v) >= 3 && len(index[k]) < maxPerPrefix {
			index[k] = append(index[k], v)
		}
	}
	for i, t := range texts {
		used := make([]bool, len(t))
		for _, s := range out[i] {
			claim(used, s.Start, s.End)
		}
		added := false
		for st := 0; st+3 <= len(t); st++ {
			for _, v := range index[t[st:st+3]] {
				en := st + len(v)
				if strings.HasPrefix(t[st:], v) && wordEdge(t, st, en) && claim(used, st, en) {
					out[i] = append(out[i], Span{Start: st, End: en, Type: types[v], Text: v})
					added = true
					st = en - 1
					break
				}
			}
		}
		if added {
			sortSpans(out[i])
		}
	}
	return out
}

// Bounds of DetectEach's propagation: the most values carried across
// sentences, and the most values sharing their first three bytes.
const (
	maxPropagated = 10000
	maxPerPrefix  = 16
)

// wordEdge reports whether text[st:en] is not glued to a letter or digit on
// either side.
func wordEdge(text string, st, en int) bool {
	if st > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:st])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	if en < len(text) {
		r, _ := utf8.DecodeRuneInString(text[en:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
