package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is a word of the text: letters (any script) with inner apostrophes
// or hyphens ("O'Connor", "Smith-Jones"). lower is the lower-cased text
// with typographic apostrophes folded to ASCII.
type token struct {
	start, end int
	text       string
	lower      string
}

// tokenize splits text into word tokens. Digits and punctuation separate
// tokens; invalid UTF-8 bytes are treated as separators.
func tokenize(text string) []token {
	var toks []token
	i := 0
	for i < len(text) {
		r, w := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) {
			i += w
			continue
		}
		st := i
		i += w
		for i < len(text) {
			r, w := utf8.DecodeRuneInString(text[i:])
			if unicode.IsLetter(r) {
				i += w
				continue
			}
			if r == '\'' || r == '’' || r == '-' {
				if r2, _ := utf8.DecodeRuneInString(text[i+w:]); i+w < len(text) && unicode.IsLetter(r2) {
					i += w
					continue
				}
			}
			break
		}
		t := text[st:i]
		toks = append(toks, token{start: st, end: i, text: t, lower: strings.ToLower(strings.ReplaceAll(t, "’", "'"))})
	}
	return toks
}

// isCapWord reports whether t looks like a capitalised name word: an upper
// case first letter, at least two letters and at least one lower-case
// letter (so "IT", "CA" and spelled-out "H-A-S-S-A-N" are not names).
func isCapWord(t string) bool {
	r, _ := utf8.DecodeRuneInString(t)
	if !unicode.IsUpper(r) || utf8.RuneCountInString(t) < 2 {
		return false
	}
	for _, r := range t {
		if unicode.IsLower(r) {
			return true
		}
	}
	return false
}

// stripPossessive removes a trailing "'s" from a token's lower-case text.
func stripPossessive(s string) string {
	s = strings.TrimSuffix(s, "'s")
	return s
}

// nameWord reports whether tok can be part of a name: capitalised and not
// a stop word (possessive "'s" ignored).
func nameWord(tok token) bool {
	return isCapWord(tok.text) && !stopWords[stripPossessive(tok.lower)]
}

// onlySpace reports whether s is non-empty horizontal white space.
func onlySpace(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return false
		}
	}
	return true
}

// cueGap reports whether s may separate a cue from a name: white space,
// optionally with one comma or colon ("my wife, Maria"; "Contact: Maria").
func cueGap(s string) bool {
	s = strings.TrimLeft(s, " \t")
	if s != "" && (s[0] == ',' || s[0] == ':') {
		s = s[1:]
	} else if s == "" {
		return true
	}
	return onlySpace(s)
}

// Cues before a name. Strong cues introduce a name on their own; weak cues
// need the following word to be a known first name.
var (
	strongCues = [][]string{
		{"my", "name", "is"}, {"my", "name's"}, {"name", "is"}, {"name's"},
		{"names", "is"}, {"my", "full", "name", "is"}, {"name", "on", "the", "account", "is"},
		{"you", "can", "call", "me"}, {"name"}, {"surname"}, {"surname", "is"},
		{"last", "name", "is"}, {"first", "name", "is"}, {"full", "name"},
	}
	// selfCues introduce the speaker; they accept an unknown name only when
	// "speaking", "here" or "calling" follows it.
	selfCues = [][]string{{"this", "is"}, {"i'm"}, {"i", "am"}}
	weakCues = [][]string{
		{"it's"}, {"it", "is"}, {"is", "this"}, {"speak", "to"}, {"speak", "with"},
		{"speaking", "with"}, {"talk", "to"}, {"talk", "with"}, {"ask", "for"}, {"asking", "for"},
		{"transfer", "you", "to"}, {"put", "you", "through", "to"}, {"spoke", "with"},
		{"spoke", "to"}, {"talked", "to"}, {"calling", "for"}, {"looking", "for"}, {"reach"},
		{"contact"}, {"holder"}, {"he's"}, {"she's"}, {"named"}, {"called"}, {"hi"}, {"hello"},
		{"hey"}, {"dear"}, {"thanks"}, {"thank", "you"}, {"bye"}, {"goodbye"}, {"ok"},
		{"okay"}, {"sorry"}, {"welcome"}, {"wife"}, {"husband"},
		{"son"}, {"daughter"}, {"mother"}, {"father"}, {"mom"}, {"dad"}, {"sister"},
		{"brother"}, {"partner"}, {"friend"}, {"colleague"}, {"boss"}, {"wife", "is"},
		{"husband", "is"}, {"son", "is"}, {"daughter", "is"}, {"mother", "is"},
		{"father", "is"}, {"mom", "is"}, {"dad", "is"}, {"sister", "is"}, {"brother", "is"},
		{"partner", "is"}, {"assistant"}, {"secretary"}, {"coworker"}, {"neighbor"},
		{"neighbour"}, {"cousin"}, {"uncle"}, {"aunt"}, {"nephew"}, {"niece"},
		{"grandson"}, {"granddaughter"}, {"grandmother"}, {"grandfather"}, {"fiancé"},
		{"fiance"}, {"girlfriend"}, {"boyfriend"}, {"roommate"}, {"tenant"},
		{"landlord"}, {"caregiver"}, {"cardholder"}, {"cardholder", "is"},
		{"policyholder"}, {"policyholder", "is"}, {"holder", "is"},
	}
	// titles are honorifics; the name after them is reported without the
	// title.
	titles = wordSet(`mr mrs ms miss mx dr prof professor doctor sir dame lady lord
		rev reverend father sister pastor rabbi imam officer detective sergeant sgt
		lieutenant lt captain capt major colonel col general gen judge justice
		attorney counselor senator governor mayor president nurse coach`)
)

// cueEndsAt reports whether one of cues ends with token i-1 and is joined to
// token i by a cue gap. Tokens inside the cue must be separated by white
// space only.
func cueEndsAt(text string, toks []token, i int, cues [][]string) bool {
	if i == 0 || !cueGap(text[toks[i-1].end:toks[i].start]) {
		return false
	}
next:
	for _, c := range cues {
		if len(c) > i {
			continue
		}
		for k := range c {
			t := toks[i-len(c)+k]
			if t.lower != c[k] {
				continue next
			}
			if k > 0 && !onlySpace(text[toks[i-len(c)+k-1].end:t.start]) {
				continue next
			}
		}
		return true
	}
	return false
}

// titleBefore reports whether token i follows an honorific such as "Mr." or
// "Dr".
func titleBefore(text string, toks []token, i int) bool {
	if i == 0 {
		return false
	}
	p := toks[i-1]
	if !titles[p.lower] || !isUpperStart(p.text) {
		return false
	}
	gap := text[p.end:toks[i].start]
	gap = strings.TrimPrefix(gap, ".")
	return onlySpace(gap)
}

// isUpperStart reports whether s starts with an upper-case letter.
func isUpperStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

// extendName returns the index of the last token of a name starting at
// token i: up to maxExtra further capitalised non-stop words joined by
// single spaces, with single-letter initials ("John F. Kennedy") allowed in
// between. A word ending in a possessive ends the name.
func extendName(text string, toks []token, i, maxExtra int) int {
	last := i
	for n := 0; n < maxExtra && last+1 < len(toks); {
		if strings.HasSuffix(toks[last].lower, "'s") {
			break
		}
		nx := toks[last+1]
		gap := text[toks[last].end:nx.start]
		if !onlySpace(gap) {
			break
		}
		// Middle initial: "John F. Kennedy".
		if utf8.RuneCountInString(nx.text) == 1 && isUpperStart(nx.text) && last+2 < len(toks) &&
			strings.HasPrefix(text[nx.end:toks[last+2].start], ".") && onlySpace(text[nx.end+1:toks[last+2].start]) &&
			nameWord(toks[last+2]) {
			last += 2
			n++
			continue
		}
		if !nameWord(nx) {
			break
		}
		last++
		n++
	}
	return last
}

// nameEnd returns the byte end of a name ending with token t, without a
// trailing possessive.
func nameEnd(t token) int {
	for _, suf := range []string{"'s", "’s"} {
		if strings.HasSuffix(t.text, suf) && len(t.text) > len(suf) {
			return t.end - len(suf)
		}
	}
	return t.end
}

// followedBy reports whether token j exists, is one of words and is
// separated from the previous token by white space only.
func followedBy(text string, toks []token, j int, words ...string) bool {
	if j >= len(toks) || j == 0 || !onlySpace(text[toks[j-1].end:toks[j].start]) {
		return false
	}
	for _, w := range words {
		if toks[j].lower == w {
			return true
		}
	}
	return false
}

// detectPersons appends candidate PERSON spans using honorifics, cue
// phrases ("my name is", "this is … speaking", "speak to") and the embedded
// first-name list (a known first name followed by a capitalised surname).
func detectPersons(text string, out []Span) []Span {
	toks := tokenize(text)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !isCapWord(t.text) {
			if last := lowerName(text, toks, i); last >= 0 {
				out = addSpan(out, text, t.start, nameEnd(toks[last]), Person)
				i = last
			}
			continue
		}
		known := firstNames[stripPossessive(t.lower)]
		if titles[t.lower] && !known {
			continue // the honorific itself is not part of the name
		}
		last := -1
		switch {
		case !known && stopWords[stripPossessive(t.lower)]:
			continue
		case titleBefore(text, toks, i):
			last = extendName(text, toks, i, 2)
		case known && extendName(text, toks, i, 2) > i:
			last = extendName(text, toks, i, 2)
		case known && (cueEndsAt(text, toks, i, strongCues) || cueEndsAt(text, toks, i, selfCues) || cueEndsAt(text, toks, i, weakCues)):
			last = i
		case !known && cueEndsAt(text, toks, i, strongCues):
			// "my name is Wei Zhang": any capitalised non-stop words.
			last = extendName(text, toks, i, 2)
		case !known && cueEndsAt(text, toks, i, selfCues):
			// "this is Wei Zhang speaking", "I'm Wei Zhang here".
			l := extendName(text, toks, i, 2)
			if l > i && followedBy(text, toks, l+1, "speaking", "here", "calling") {
				last = l
			}
		case !known && i+1 < len(toks) && nameWord(toks[i+1]) && onlySpace(text[t.end:toks[i+1].start]) && followedBy(text, toks, i+2, "speaking"):
			last = i + 1
		}
		if last < 0 {
			continue
		}
		if stopWords[stripPossessive(t.lower)] && last == i {
			continue
		}
		out = addSpan(out, text, t.start, nameEnd(toks[last]), Person)
		i = last
	}
	return out
}

// lowerCues are the strong cues after which a lower-case word is taken as
// a name ("my name is maria garcia"); a lone "name" or "full name" is too
// weak for that.
var lowerCues = [][]string{
	{"my", "name", "is"}, {"my", "name's"}, {"name", "is"}, {"name's"}, {"names", "is"},
	{"my", "full", "name", "is"}, {"name", "on", "the", "account", "is"}, {"you", "can", "call", "me"},
	{"surname", "is"}, {"last", "name", "is"}, {"first", "name", "is"},
}

// notLowerName are lower-case words that follow a name cue in ordinary
// speech ("my name is spelled …") and are not in stopWords.
var notLowerName = wordSet(`spelled listed wrong misspelled still already also actually going
	correct really right different same missing written printed changed showing back later
	tomorrow tonight anytime whenever again soon now today sometime instead directly`)

// lowerName returns the index of the last token of a lower-case name
// starting at token i, or -1: after a strong cue any lower-case word that is
// not a stop word, after a self cue ("this is", "i'm") a known first name or
// a word followed by "speaking", "here" or "calling".
func lowerName(text string, toks []token, i int) int {
	t := toks[i]
	if !lowerNameWord(t) {
		return -1
	}
	switch {
	case cueEndsAt(text, toks, i, lowerCues):
		return extendLower(text, toks, i, 2)
	case cueEndsAt(text, toks, i, selfCues):
		l := extendLower(text, toks, i, 2)
		if firstNames[stripPossessive(t.lower)] || followedBy(text, toks, l+1, "speaking", "here", "calling") {
			return l
		}
	}
	return -1
}

// lowerNameWord reports whether tok may be a word of a lower-case name: at
// least two letters, none upper case, and not a stop word.
func lowerNameWord(tok token) bool {
	if utf8.RuneCountInString(tok.text) < 2 || tok.text != tok.lower {
		return false
	}
	w := stripPossessive(tok.lower)
	return !stopWords[w] && !notLowerName[w] && !titles[w]
}

// extendLower is extendName for lower-case names: up to maxExtra further
// name words (lower-case or capitalised) joined by single spaces.
func extendLower(text string, toks []token, i, maxExtra int) int {
	last := i
	for n := 0; n < maxExtra && last+1 < len(toks); n++ {
		if strings.HasSuffix(toks[last].lower, "'s") || !onlySpace(text[toks[last].end:toks[last+1].start]) {
			break
		}
		if nx := toks[last+1]; !lowerNameWord(nx) && !nameWord(nx) {
			break
		}
		last++
	}
	return last
}
