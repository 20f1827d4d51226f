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
	sort.SliceStable(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for i, t := range texts {
		used := make([]bool, len(t))
		for _, s := range out[i] {
			claim(used, s.Start, s.End)
		}
		added := false
		for _, v := range vals {
			for from := 0; from < len(t); {
				k := strings.Index(t[from:], v)
				if k < 0 {
					break
				}
				st, en := from+k, from+k+len(v)
				from = st + 1
				if !wordEdge(t, st, en) || !claim(used, st, en) {
					continue
				}
				out[i] = append(out[i], Span{Start: st, End: en, Type: types[v], Text: v})
				added = true
				from = en
			}
		}
		if added {
			sortSpans(out[i])
		}
	}
	return out
}

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
