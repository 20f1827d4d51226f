package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The detectors match a normalised view of the text, so that look-alike
// characters and invisible ones cannot hide a value from them:
//
//   - every rune is mapped to its NFKC form (full-width and mathematical
//     digits and letters, "＠" and "﹫" become ASCII);
//   - format characters (Unicode Cf: zero-width space and joiners, word
//     joiner, soft hyphen, byte-order mark, bidi controls) are dropped;
//   - dashes become "-" and space separators become " ";
//   - runs of spelled-out digits ("four one five", "double five", "oh")
//     become ASCII digits.
//
// Each byte of the view remembers the original bytes it came from, and
// spans found in the view are mapped back, so that Redact replaces the
// original characters, whatever they were.

// view is normalised text with, for each of its bytes, the original byte
// range [from[i], to[i]) that produced it.
type view struct {
	text     string
	from, to []int
}

// orig maps a span [st, en) of the view to the original text.
func (v *view) orig(st, en int) (int, int) {
	return v.from[st], v.to[en-1]
}

// normalize returns the view of text, or nil when the view would be text
// itself.
func normalize(text string) *view {
	v := foldRunes(text)
	if w := spellDigits(v, text); w != nil {
		v = w
	}
	return v
}

// identity returns the trivial view of s.
func identity(s string) *view {
	v := &view{text: s, from: make([]int, len(s)), to: make([]int, len(s))}
	for i := range s {
		v.from[i], v.to[i] = i, i+1
	}
	return v
}

// foldRunes applies the per-rune mappings (NFKC, format characters, dashes,
// spaces). It returns nil when text is unchanged by them.
func foldRunes(text string) *view {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return nil
	}
	var b strings.Builder
	b.Grow(len(text))
	from := make([]int, 0, len(text))
	to := make([]int, 0, len(text))
	emit := func(s string, st, en int) {
		b.WriteString(s)
		for range len(s) {
			from, to = append(from, st), append(to, en)
		}
	}
	changed := false
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		switch {
		case r < utf8.RuneSelf || (r == utf8.RuneError && w == 1):
			emit(text[i:i+w], i, i+w) // ASCII, or an invalid byte kept as it is
		case unicode.Is(unicode.Cf, r):
			changed = true // dropped
		case isDash(r):
			emit("-", i, i+w)
			changed = true
		case unicode.Is(unicode.Zs, r):
			emit(" ", i, i+w)
			changed = true
		default:
			s := norm.NFKC.String(text[i : i+w])
			if s != text[i:i+w] {
				changed = true
			}
			emit(s, i, i+w)
		}
		i += w
	}
	if !changed {
		return nil
	}
	return &view{text: b.String(), from: from, to: to}
}

// isDash reports whether r is a hyphen, dash or minus sign other than
// ASCII "-".
func isDash(r rune) bool {
	switch r {
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\u2043', '\uFE58', '\uFE63', '\uFF0D':
		return true
	}
	return false
}

// digitWords are the spoken forms of the digits.
var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "one": '1', "two": '2', "three": '3', "four": '4',
	"five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
}

// minSpelledDigits is the fewest digits a spelled-out run must have to be
// rewritten: shorter runs ("one two three") are ordinary speech and no PII
// type is that short.
const minSpelledDigits = 3

// spelledTok is a word of a possible spelled-out digit run: its byte range
// in the view and the digits it stands for ("" for a word that is not part
// of a run; "double"/"triple" repeat the next digit).
type spelledTok struct {
	st, en int
	digits string
	repeat int
}

// spellDigits rewrites runs of spelled-out digits in v (the view of
// original; nil for the identity) to ASCII digits. Words of a run may be
// separated by spaces, commas, dots or dashes; "oh" is zero only after
// another digit word; "double" and "triple" repeat the digit that follows.
// The digits of a run are written without separators. It returns nil when
// nothing is rewritten.
func spellDigits(v *view, original string) *view {
	s := original
	if v != nil {
		s = v.text
	}
	if !containsSpelledDigit(s) {
		return nil
	}
	// Word tokens (ASCII letters) of s.
	var toks []spelledTok
	for i := 0; i < len(s); {
		if !isLetter(s[i]) {
			i++
			continue
		}
		st := i
		for i < len(s) && isLetter(s[i]) {
			i++
		}
		if i < len(s) && s[i] >= utf8.RuneSelf {
			continue // part of a longer non-ASCII word
		}
		if st > 0 && s[st-1] >= utf8.RuneSelf {
			continue
		}
		w := strings.ToLower(s[st:i])
		t := spelledTok{st: st, en: i}
		if d, ok := digitWords[w]; ok {
			t.digits = string(d)
		} else if w == "double" {
			t.repeat = 2
		} else if w == "triple" {
			t.repeat = 3
		}
		toks = append(toks, t)
	}
	type run struct {
		st, en int
		digits []byte
		pos    []int // for each digit, the token index it came from
	}
	var runs []run
	for i := 0; i < len(toks); {
		var r run
		j := i
		for j < len(toks) {
			t := toks[j]
			if j > i && !runGap(s[toks[j-1].en:t.st]) {
				break
			}
			if t.repeat > 0 && j+1 < len(toks) && toks[j+1].digits != "" && runGap(s[t.en:toks[j+1].st]) {
				for range t.repeat {
					r.digits = append(r.digits, toks[j+1].digits[0])
					r.pos = append(r.pos, j, j+1)
				}
				j += 2
				continue
			}
			if t.digits == "" || (j == i && strings.EqualFold(s[t.st:t.en], "oh")) {
				break
			}
			r.digits = append(r.digits, t.digits[0])
			r.pos = append(r.pos, j, j)
			j++
		}
		if len(r.digits) >= minSpelledDigits {
			r.st, r.en = toks[i].st, toks[j-1].en
			runs = append(runs, r)
		}
		if j == i {
			j++
		}
		i = j
	}
	if len(runs) == 0 {
		return nil
	}
	if v == nil {
		v = identity(original)
	}
	var b strings.Builder
	b.Grow(len(s))
	var from, to []int
	pos := 0
	for _, r := range runs {
		b.WriteString(s[pos:r.st])
		from, to = append(from, v.from[pos:r.st]...), append(to, v.to[pos:r.st]...)
		for k, d := range r.digits {
			first, last := toks[r.pos[2*k]], toks[r.pos[2*k+1]]
			b.WriteByte(d)
			from, to = append(from, v.from[first.st]), append(to, v.to[last.en-1])
		}
		pos = r.en
	}
	b.WriteString(s[pos:])
	from, to = append(from, v.from[pos:]...), append(to, v.to[pos:]...)
	return &view{text: b.String(), from: from, to: to}
}

// runGap reports whether g may separate two words of a spelled-out digit
// run: white space with at most one comma, dot or dash.
func runGap(g string) bool {
	if g == "" || len(g) > 4 {
		return false
	}
	punct := 0
	for i := 0; i < len(g); i++ {
		switch g[i] {
		case ' ', '\t':
		case ',', '.', '-':
			punct++
		default:
			return false
		}
	}
	return punct <= 1 && g != "-" // "twenty-one" style compounds are not runs
}

// containsSpelledDigit reports cheaply whether s may contain a digit word.
func containsSpelledDigit(s string) bool {
	for _, w := range []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"} {
		if containsFold(s, w) {
			return true
		}
	}
	return false
}

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// mapSpans maps spans found in the view back to original. Spans that meet
// in one original character (a rune that normalised to several, or
// "double five" split by a span boundary) are merged, keeping the first
// span's type, so that the result stays sorted and non-overlapping.
func (v *view) mapSpans(original string, spans []Span) []Span {
	out := spans[:0]
	for _, s := range spans {
		if s.Start < 0 || s.End > len(v.text) || s.Start >= s.End {
			continue
		}
		st, en := v.orig(s.Start, s.End)
		if n := len(out); n > 0 && st < out[n-1].End {
			if en > out[n-1].End {
				out[n-1].End = en
				out[n-1].Text = original[out[n-1].Start:en]
			}
			continue
		}
		out = append(out, Span{Start: st, End: en, Type: s.Type, Text: original[st:en]})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
