package operators

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of a sentence. Contractions are expanded into several
// tokens sharing the original word's byte span ("don't" → "do" "not"), so
// phrases and patterns match either spelling.
type token struct {
	norm       string // lower-cased, normalised form
	start, end int    // byte span in the sentence
	capital    bool   // the original word starts with an upper-case letter
	first      bool   // the word starts the sentence (its capital says nothing)
}

// isWordRune reports whether r belongs to a word.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// isApostrophe reports whether r is an apostrophe (ASCII or typographic).
func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

// tokenize splits s into word tokens with byte offsets. A word is a run of
// letters and digits, with inner apostrophes ("don't", "o'clock"); hyphens
// and other punctuation separate words.
func tokenize(s string) []token {
	toks := make([]token, 0, len(s)/5+1)
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		start := i
		end := i + n
		i += n
		for i < len(s) {
			r, n = utf8.DecodeRuneInString(s[i:])
			if isWordRune(r) {
				i += n
				end = i
				continue
			}
			if isApostrophe(r) && i+n < len(s) {
				if r2, _ := utf8.DecodeRuneInString(s[i+n:]); unicode.IsLetter(r2) {
					i += n
					continue
				}
			}
			break
		}
		word := s[start:end]
		first, _ := utf8.DecodeRuneInString(word)
		capital := unicode.IsUpper(first)
		atStart := len(toks) == 0
		for j, w := range expandWord(normWord(word)) {
			// Only the first word of a contraction keeps the capital.
			toks = append(toks, token{norm: w, start: start, end: end, capital: capital && j == 0, first: atStart})
		}
	}
	return toks
}

// normWord lower-cases w and makes its apostrophes ASCII.
func normWord(w string) string {
	ascii := true
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			ascii = false
			break
		}
	}
	if ascii {
		return w
	}
	var b strings.Builder
	b.Grow(len(w))
	for _, r := range w {
		if isApostrophe(r) {
			r = '\''
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// pronounIs are the words whose "'s" means "is".
var pronounIs = map[string]bool{"he": true, "she": true, "it": true, "that": true, "there": true, "what": true,
	"who": true, "where": true, "here": true, "how": true, "when": true, "everything": true, "nobody": true, "someone": true}

// expandWord expands an English contraction into its words; possessive
// "'s" is dropped. Other words are returned as they are.
func expandWord(w string) []string {
	a := strings.IndexByte(w, '\'')
	if a < 0 {
		return []string{w}
	}
	base, suf := w[:a], w[a:]
	switch suf {
	case "'t":
		if strings.HasSuffix(base, "n") {
			switch base {
			case "can":
				return []string{"can", "not"}
			case "won":
				return []string{"will", "not"}
			case "shan":
				return []string{"shall", "not"}
			case "ain":
				return []string{"is", "not"}
			}
			return []string{base[:len(base)-1], "not"}
		}
	case "'re":
		return []string{base, "are"}
	case "'m":
		return []string{base, "am"}
	case "'ll":
		return []string{base, "will"}
	case "'ve":
		return []string{base, "have"}
	case "'d":
		return []string{base, "would"}
	case "'s":
		if base == "let" {
			return []string{"let", "us"}
		}
		if pronounIs[base] {
			return []string{base, "is"}
		}
		return []string{base}
	}
	return []string{w}
}

// osaDistance is the optimal-string-alignment (restricted Damerau-
// Levenshtein) distance between a and b in runes, giving up early (returning
// max+1) once it must exceed max.
func osaDistance(a, b string, max int) int {
	if d := len(a) - len(b); isASCII(a) && isASCII(b) && (d > max || -d > max) {
		return max + 1
	}
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	// Three rolling rows (i-2, i-1, i), on the stack for ordinary words.
	var buf [3 * 33]int
	var rows []int
	if n := len(rb) + 1; n <= 33 {
		rows = buf[:3*n]
	} else {
		rows = make([]int, 3*n)
	}
	n := len(rb) + 1
	prev2, prev, cur := rows[:n], rows[n:2*n], rows[2*n:]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fuzzyTolerance is the largest normalised edit distance (edits divided by
// the longer word's length) at which two words still match approximately.
const fuzzyTolerance = 0.2

// wordSimilarity returns how well word w matches the wanted word want: 1 for
// equal words, 1 − normalised distance for an approximate match when fuzzy,
// and 0 for no match. Numbers and words shorter than 5 letters must be
// equal.
func wordSimilarity(want, w string, fuzzy bool) float64 {
	if want == w {
		return 1
	}
	if !fuzzy {
		return 0
	}
	n := max(utf8.RuneCountInString(want), utf8.RuneCountInString(w))
	allowed := int(fuzzyTolerance * float64(n))
	if allowed == 0 || hasDigit(want) || hasDigit(w) {
		return 0
	}
	d := osaDistance(want, w, allowed)
	if d > allowed {
		return 0
	}
	return 1 - float64(d)/float64(n)
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// elem is one element of a pattern: alternative words, any of which may
// also be a placeholder ("*", "{name}", "{first}", "{num}").
type elem struct {
	alts []string
	opt  bool
}

// pattern is a compiled word pattern. Pre-built operators write patterns in
// a small syntax: elements separated by spaces, each one word or "a|b|c"
// alternative single words (no multi-word alternatives); a trailing "?"
// makes an element optional; "*" is any word; "{name}", "{first}" and
// "{num}" are a name-like word (a known first name, or a capitalised word
// that is not sentence-initial nor a common word), a known first name and a
// number. Custom
// phrases are literal (see literalPattern). Patterns are written with
// contractions expanded ("do not"), as tokenize expands them.
type pattern struct {
	src   string
	elems []elem
	fuzzy bool // approximate word matches (words of 5+ letters)
	gaps  int  // words that may be inserted inside the match (fuzzy phrases)
}

// compilePattern compiles the pattern syntax described at pattern.
func compilePattern(src string, fuzzy bool) *pattern {
	p := &pattern{src: src, fuzzy: fuzzy}
	for _, f := range strings.Fields(src) {
		var e elem
		if strings.HasSuffix(f, "?") && len(f) > 1 {
			e.opt = true
			f = f[:len(f)-1]
		}
		e.alts = strings.Split(f, "|")
		p.elems = append(p.elems, e)
	}
	return p
}

// literalPattern compiles a customer's phrase: its words, contractions
// expanded, matched exactly or approximately. Fuzzy phrases of three words
// or more tolerate one inserted word ("take me off of your list").
func literalPattern(phrase string, fuzzy bool) *pattern {
	p := &pattern{src: phrase, fuzzy: fuzzy}
	for _, t := range tokenize(phrase) {
		p.elems = append(p.elems, elem{alts: []string{t.norm}})
	}
	if fuzzy && len(p.elems) >= 3 {
		p.gaps = 1
	}
	return p
}

// match is one occurrence of a pattern in a sentence.
type match struct {
	tokStart, tokEnd int // token range [tokStart, tokEnd)
	start, end       int // byte span
	score            float64
}

// elemScore returns how well token t matches element e (0: no match).
func (p *pattern) elemScore(e *elem, t *token) float64 {
	best := 0.0
	for _, a := range e.alts {
		s := 0.0
		switch a {
		case "*":
			s = 1
		case "{num}":
			if hasDigit(t.norm) || numberWords[t.norm] > 0 {
				s = 1
			}
		case "{first}":
			if isFirstName(t) {
				s = 1
			}
		case "{name}":
			if isFirstName(t) || (t.capital && !t.first && !commonWords[t.norm] && !hasDigit(t.norm)) {
				s = 1
			}
		default:
			s = wordSimilarity(a, t.norm, p.fuzzy && len(a) >= 5)
		}
		if s == 1 {
			return 1
		}
		best = max(best, s)
	}
	return best
}

// matchAt tries to match elements ei… at token i with at most gaps inserted
// words. It returns the end token, the sum and count of the word scores and
// the inserted words used.
func (p *pattern) matchAt(toks []token, i, ei, gaps int) (end int, sum float64, n, used int, ok bool) {
	if ei == len(p.elems) {
		return i, 0, 0, 0, true
	}
	e := &p.elems[ei]
	if i < len(toks) {
		if s := p.elemScore(e, &toks[i]); s > 0 {
			if end, sum, n, used, ok := p.matchAt(toks, i+1, ei+1, gaps); ok {
				return end, sum + s, n + 1, used, true
			}
		}
	}
	if e.opt {
		if end, sum, n, used, ok := p.matchAt(toks, i, ei+1, gaps); ok {
			return end, sum, n, used, true
		}
	}
	// An inserted word inside the phrase (never before its first element).
	if gaps > 0 && ei > 0 && i < len(toks) {
		if end, sum, n, used, ok := p.matchAt(toks, i+1, ei, gaps-1); ok {
			return end, sum, n, used + 1, true
		}
	}
	return 0, 0, 0, 0, false
}

// gapPenalty is what each inserted word costs a fuzzy match's score.
const gapPenalty = 0.1

// findAll returns the non-overlapping matches of p in the tokens, left to
// right. A match's score is the mean word similarity less gapPenalty per
// inserted word: 1 for an exact match.
func (p *pattern) findAll(toks []token) []match {
	if len(p.elems) == 0 {
		return nil
	}
	var out []match
	for i := 0; i < len(toks); i++ {
		end, sum, n, used, ok := p.matchAt(toks, i, 0, p.gaps)
		if !ok || end == i {
			continue
		}
		score := 1.0
		if n > 0 {
			score = sum / float64(n)
		}
		score = max(0, min(1, score-gapPenalty*float64(used)))
		out = append(out, match{tokStart: i, tokEnd: end, start: toks[i].start, end: toks[end-1].end, score: score})
		i = end - 1
	}
	return out
}

// isFirstName reports whether t is a known first name; one that is also a
// common word ("Will", "Mark") must be capitalised.
func isFirstName(t *token) bool {
	return firstNames[t.norm] && (t.capital || !ambiguousNames[t.norm])
}

// negated reports whether a negation word stands within three words before
// token i ("I do not want a manager").
func negated(toks []token, i int) bool {
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		switch toks[j].norm {
		case "not", "no", "never", "nobody", "without":
			return true
		}
	}
	return false
}

// numberWords are spelled-out numbers, with their values.
var numberWords = map[string]int{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
	"sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
	"fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
	"million": 1000000, "billion": 1000000000}
