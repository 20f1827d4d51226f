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
//     become ASCII digits; further views also read the homophones "for",
//     "to", "too" and "ate" as digits next to such a run.
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
// itself, and the further views in which digit homophones are read as
// digits (see spellDigits), if any.
func normalize(text string) (*view, []*view) {
	v := foldRunes(text)
	w, more := spellDigits(v, text)
	if w != nil {
		v = w
	}
	return v, more
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

// digitHomophones are words that speech recognisers write for digit words
// ("four" → "for", "two" → "to"/"too", "eight" → "ate"). They are read as
// digits only next to a run of genuine digit words (see spellDigits).
var digitHomophones = map[string]byte{"for": '4', "to": '2', "too": '2', "ate": '8'}

// homophones selects which digit homophones a rewrite reads as digits.
type homophones int

const (
	noHomophones    homophones = iota // digit words only
	innerHomophones                   // and homophones between two digit words
	allHomophones                     // and homophones at either end of a run
)

// spelledTok is a word of a possible spelled-out digit run: its byte range
// in the view and the digits it stands for ("" for a word that is not part
// of a run; "double"/"triple" repeat the next digit). A digit homophone
// has hom set to its digit and kind to the homophones level from which it
// is read as one (noHomophones: never).
type spelledTok struct {
	st, en int
	digits string
	repeat int
	oh     bool
	hom    byte
	kind   homophones
}

// genuine reports whether t is a digit word other than "oh".
func (t spelledTok) genuine() bool { return t.digits != "" && !t.oh }

// digit returns the digit t stands for at homophone level h, or 0.
func (t spelledTok) digit(h homophones) byte {
	if t.digits != "" {
		return t.digits[0]
	}
	if t.hom != 0 && t.kind != noHomophones && t.kind <= h {
		return t.hom
	}
	return 0
}

// spellDigits rewrites runs of spelled-out digits in v (the view of
// original; nil for the identity) to ASCII digits. Words of a run may be
// separated by spaces, commas, dots or dashes; "oh" is zero only after
// another digit word; "double" and "triple" repeat the digit that follows.
// The digits of a run are written without separators. It returns nil when
// nothing is rewritten.
//
// It also returns up to two further views in which digit homophones ("for",
// "to", "too", "ate") are read as digits: the first with the homophones
// that stand between two digit words ("five too five"), the second also
// with those at either end of a run ("for one five …"). A homophone is
// only ever read as a digit next to a digit word other than "oh" (or a
// "double"/"triple" before one), and only in a run with at least
// minSpelledDigits genuine digit words, so "for two hours", "from two to
// three" or "I ate one" are left alone. A further view is returned only
// when it reads some homophone its predecessor did not. Detect matches the
// further views only for values the plain view does not have, since at the
// edge of a run a homophone is as often a preposition ("text it to four one
// five …").
func spellDigits(v *view, original string) (*view, []*view) {
	s := original
	if v != nil {
		s = v.text
	}
	if !containsSpelledDigit(s) {
		return nil, nil
	}
	// Word tokens (ASCII letters) of s.
	var toks []spelledTok
	homs := false
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
			t.digits, t.oh = string(d), w == "oh"
		} else if d, ok := digitHomophones[w]; ok {
			t.hom, homs = d, true
		} else if w == "double" {
			t.repeat = 2
		} else if w == "triple" {
			t.repeat = 3
		}
		toks = append(toks, t)
	}
	// joined reports whether toks[k] and toks[k+1] may be words of one run.
	joined := func(k int) bool {
		return k >= 0 && k+1 < len(toks) && runGap(s[toks[k].en:toks[k+1].st])
	}
	if homs {
		for k := range toks {
			if toks[k].hom == 0 {
				continue
			}
			left := joined(k-1) && toks[k-1].genuine()
			right := joined(k) && (toks[k+1].genuine() ||
				toks[k+1].repeat > 0 && joined(k+1) && toks[k+2].genuine())
			switch {
			case left && right:
				toks[k].kind = innerHomophones
			case left || right:
				toks[k].kind = allHomophones
			}
		}
	}
	plain, _ := rewriteRuns(v, original, toks, noHomophones)
	if !homs {
		return plain, nil
	}
	var more []*view
	inner, n := rewriteRuns(v, original, toks, innerHomophones)
	if n > 0 {
		more = append(more, inner)
	}
	if all, m := rewriteRuns(v, original, toks, allHomophones); m > n {
		more = append(more, all)
	}
	return plain, more
}

// rewriteRuns writes the runs of toks (the words of v, the view of
// original, nil for the identity) as digits, reading digit homophones up to
// level h, and returns the new view (nil when there is no run) and the
// number of homophones read as digits.
func rewriteRuns(v *view, original string, toks []spelledTok, h homophones) (*view, int) {
	s := original
	if v != nil {
		s = v.text
	}
	type run struct {
		st, en int
		digits []byte
		pos    []int // for each digit, the token index it came from
	}
	var runs []run
	homs := 0
	for i := 0; i < len(toks); {
		var r run
		genuine, hom := 0, 0
		j := i
		for j < len(toks) {
			t := toks[j]
			if j > i && !runGap(s[toks[j-1].en:t.st]) {
				break
			}
			if t.repeat > 0 && j+1 < len(toks) && toks[j+1].digit(h) != 0 && runGap(s[t.en:toks[j+1].st]) {
				d := toks[j+1].digit(h)
				for range t.repeat {
					r.digits = append(r.digits, d)
					r.pos = append(r.pos, j, j+1)
				}
				if toks[j+1].genuine() {
					genuine++
				} else if toks[j+1].digits == "" {
					hom++
				}
				j += 2
				continue
			}
			d := t.digit(h)
			if d == 0 || (j == i && t.oh) {
				break
			}
			if t.genuine() {
				genuine++
			} else if t.digits == "" {
				hom++
			}
			r.digits = append(r.digits, d)
			r.pos = append(r.pos, j, j)
			j++
		}
		if len(r.digits) >= minSpelledDigits && (hom == 0 || genuine >= minSpelledDigits) {
			r.st, r.en = toks[i].st, toks[j-1].en
			runs = append(runs, r)
			homs += hom
		}
		if j == i {
			j++
		}
		i = j
	}
	if len(runs) == 0 {
		return nil, 0
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
	return &view{text: b.String(), from: from, to: to}, homs
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
