package operators

import (
	"context"
	"regexp"
	"sort"
	"strings"
)

// Entity types of Entity Recognition.
const (
	EntityPerson       = "PERSON"
	EntityOrganization = "ORGANIZATION"
	EntityLocation     = "LOCATION"
	EntityDate         = "DATE"
	EntityTime         = "TIME"
	EntityMoney        = "MONEY"
	EntityPercent      = "PERCENT"
	EntityEmail        = "EMAIL"
	EntityPhone        = "PHONE_NUMBER"
	EntityURL          = "URL"
	EntityOrderID      = "ORDER_ID" // order, confirmation, case, ticket, tracking and similar codes
)

// entity is one entity found in a sentence.
type entity struct {
	typ        string
	start, end int
	prob       float64
}

const (
	numWordRE = `(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|` +
		`sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million)`
	numRE     = `(?:\d[\d,]*(?:\.\d+)?|` + numWordRE + `(?:[\s-]+(?:and[\s-]+)?` + numWordRE + `)*)`
	monthRE   = `(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`
	dayNumRE  = `\d{1,2}(?:st|nd|rd|th)?`
	ordinalRE = `(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|` +
		`thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty[\s-](?:first|second|third|` +
		`fourth|fifth|sixth|seventh|eighth|ninth)|thirtieth|thirty[\s-]first)`
	capMonthRE = `(?:January|February|March|April|May|June|July|August|September|October|November|December)`
	weekdayRE  = `(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)`
)

// monthHints are what a text mentioning a month contains (lower-cased).
var monthHints = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// entityPatterns are the pattern-recognised entities, most specific first;
// an earlier pattern's match wins over a later overlapping one. Where a
// pattern has a group, the group is the entity. Case-insensitive patterns
// are written in lower case and run on lowerASCII(text) (same offsets;
// faster than (?i)).
var entityPatterns = []struct {
	lower bool     // matched against the text with ASCII letters lower-cased
	needs []string // if set, the lower-cased text must contain one of these ("#" for a digit), else no match is possible
	typ   string
	prob  float64
	re    *regexp.Regexp
}{
	{typ: EntityEmail, prob: 0.95, re: regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)},
	{lower: true, needs: []string{"www.", "://", ".com", ".org", ".net", ".io", ".gov", ".edu", ".co.uk"}, typ: EntityURL, prob: 0.9, re: regexp.MustCompile(`\b(?:https?://|www\.)[^\s,;]+[^\s,;.!?]|\b[a-z0-9-]+\.(?:com|org|net|io|gov|edu|co\.uk)\b(?:/[^\s,;]*[^\s,;.!?])?`)},
	{lower: true, needs: []string{"#"}, typ: EntityOrderID, prob: 0.9, re: regexp.MustCompile(`\b(?:order|confirmation|tracking|reference|ref|case|ticket|claim|invoice|booking|reservation|incident|return|rma)` +
		`(?:\s+(?:number|no\.?|id|code|num))?(?:\s+(?:is|was|being))?\s*[:#]?\s*([a-z0-9][a-z0-9-]{2,}[0-9][a-z0-9-]*|#?\d{4,})\b`)},
	{needs: []string{"#"}, typ: EntityPhone, prob: 0.9, re: regexp.MustCompile(`(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b|\+\d{1,3}(?:[\s.-]?\d{2,4}){3,4}\b|\b1[\s.-]8\d\d[\s.-]\d{3}[\s.-]\d{4}\b`)},
	{lower: true, needs: []string{"$", "€", "£", "dollar", "buck", "cent", "euro", "pound", "usd"}, typ: EntityMoney, prob: 0.9, re: regexp.MustCompile(`[$€£]\s?\d[\d,]*(?:\.\d{1,2})?(?:\s?(?:million|billion|thousand|k)\b)?|\b` + numRE +
		`\s+(?:dollars?|bucks|cents?|euros?|pounds?|usd)\b`)},
	{lower: true, needs: []string{"%", "percent", "per cent"}, typ: EntityPercent, prob: 0.9, re: regexp.MustCompile(`\b` + numRE + `\s?(?:%|percent\b|per\s+cent\b)|\d+(?:\.\d+)?%`)},
	{lower: true, needs: []string{"#", "o'clock", "noon", "midnight", "am", "pm", "a.m", "p.m"}, typ: EntityTime, prob: 0.85, re: regexp.MustCompile(`\b(?:\d{1,2}(?::\d{2})?|` + numWordRE + `(?:[\s-](?:thirty|fifteen|forty[\s-]five|o'clock))?)\s?(?:[ap]\.m\.?|[ap]m|o'clock)(?:\b|$|\s)|\b\d{1,2}:\d{2}\b|\b(?:noon|midnight)\b`)},
	{lower: true, needs: monthHints, typ: EntityDate, prob: 0.85, re: regexp.MustCompile(`\b` + monthRE + `\.?\s+` + dayNumRE +
		`(?:,?\s+\d{4})?\b|\b` + dayNumRE + `\s+of\s+` + monthRE + `\b(?:,?\s+\d{4})?|\b` + monthRE + `\s+\d{4}\b`)},
	{needs: []string{"#"}, typ: EntityDate, prob: 0.85, re: regexp.MustCompile(`\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b`)},
	{lower: true, needs: []string{"day"}, typ: EntityDate, prob: 0.85, re: regexp.MustCompile(`\b(?:(?:next|last|this)\s+)?` + weekdayRE +
		`(?:\s+(?:morning|afternoon|evening|night))?\b`)},
	{lower: true, needs: []string{"today", "tomorrow", "yesterday", "tonight", "week", "month", "year"}, typ: EntityDate, prob: 0.85,
		re: regexp.MustCompile(`\b(?:today|tomorrow|yesterday|tonight)\b|\b(?:next|last|this)\s+(?:week|month|year|weekend)\b`)},
	{lower: true, needs: []string{"day", "week", "month", "year"}, typ: EntityDate, prob: 0.85, re: regexp.MustCompile(`\b(?:\d+|` + numWordRE +
		`)(?:\s+to\s+(?:\d+|` + numWordRE + `))?\s+(?:business\s+|working\s+)?(?:days?|weeks?|months?|years?)(?:\s+ago)?\b`)},
	{needs: monthHints, typ: EntityDate, prob: 0.85, re: regexp.MustCompile(`\b` + capMonthRE + `\s+(?:the\s+)?` + ordinalRE + `\b|\b(?:the\s+)?` + ordinalRE + `\s+of\s+` + capMonthRE + `\b`)},
	{needs: monthHints, typ: EntityDate, prob: 0.8, re: regexp.MustCompile(`\b(?:January|February|March|April|June|July|August|September|October|November|December)\b`)},
}

// runEntities is Entity Recognition: patterns for e-mail addresses, URLs,
// order-style codes, phone numbers, amounts, percentages, times and dates;
// capitalisation plus gazetteers (first names, titles, organisation
// suffixes and well-known names, places) for people, organisations and
// locations.
func runEntities(_ context.Context, conv *Conversation) (*Result, error) {
	res := &Result{OperatorType: TypeExtract, ExtractResults: map[string][]string{}, UtteranceResults: []UtteranceResult{}}
	seen := map[string]map[string]bool{}
	for _, s := range conv.Sentences {
		ents := findEntities(s.Transcript)
		byType := map[string]*UtteranceResult{}
		var types []string
		for _, e := range ents {
			text := s.Transcript[e.start:e.end]
			if seen[e.typ] == nil {
				seen[e.typ] = map[string]bool{}
			}
			if key := strings.ToLower(text); !seen[e.typ][key] {
				seen[e.typ][key] = true
				res.ExtractResults[e.typ] = append(res.ExtractResults[e.typ], text)
			}
			ur := byType[e.typ]
			if ur == nil {
				ur = &UtteranceResult{UtteranceIndex: s.SentenceIndex, MediaChannel: s.MediaChannel, Label: e.typ}
				byType[e.typ] = ur
				types = append(types, e.typ)
			}
			ur.Probability = max(ur.Probability, e.prob)
			ur.UtteranceParts = append(ur.UtteranceParts, UtterancePart{Text: text, Start: e.start, End: e.end, Label: e.typ})
		}
		for _, t := range types {
			res.UtteranceResults = append(res.UtteranceResults, *byType[t])
		}
	}
	res.ExtractMatch = ptr(len(res.ExtractResults) > 0)
	return res, nil
}

// findEntities returns the entities of one sentence, in text order.
func findEntities(text string) []entity {
	var ents []entity
	taken := func(start, end int) bool {
		for _, e := range ents {
			if start < e.end && e.start < end {
				return true
			}
		}
		return false
	}
	lower := lowerASCII(text)
	digit := strings.ContainsAny(text, "0123456789")
	for _, p := range entityPatterns {
		if !mayMatch(lower, digit, p.needs) {
			continue
		}
		in := text
		if p.lower {
			in = lower
		}
		for _, m := range p.re.FindAllStringSubmatchIndex(in, -1) {
			start, end := m[0], m[1]
			if len(m) >= 4 && m[2] >= 0 {
				start, end = m[2], m[3]
			}
			// Trim spaces a pattern may have taken at its end.
			for end > start && (text[end-1] == ' ' || text[end-1] == '\t') {
				end--
			}
			if start < end && !taken(start, end) {
				ents = append(ents, entity{typ: p.typ, start: start, end: end, prob: p.prob})
			}
		}
	}
	ents = append(ents, nameEntities(text, taken)...)
	sort.Slice(ents, func(i, j int) bool { return ents[i].start < ents[j].start })
	return ents
}

// mayMatch reports whether lower may hold a match of a pattern needing one
// of needs.
func mayMatch(lower string, digit bool, needs []string) bool {
	if len(needs) == 0 {
		return true
	}
	for _, n := range needs {
		if (n == "#" && digit) || (n != "#" && strings.Contains(lower, n)) {
			return true
		}
	}
	return false
}

// lowerASCII lower-cases the ASCII letters of s, keeping byte offsets.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// nameContext are the words after which an unknown capitalised word is a
// person ("my name is …", "speak to …").
var personContext = [][]string{{"name", "is"}, {"this", "is"}, {"speak", "to"}, {"speak", "with"}, {"talk", "to"},
	{"talk", "with"}, {"speaking", "with"}, {"ask", "for"}, {"looking", "for"}, {"i", "am"}}

// nameEntities finds people, organisations and places: runs of capitalised
// words classified by gazetteers and the words before them.
func nameEntities(text string, taken func(int, int) bool) []entity {
	toks := tokenize(text)
	var out []entity
	for i := 0; i < len(toks); {
		if typ, n := gazetteerPhrase(toks, i); n > 0 && !taken(toks[i].start, toks[i+n-1].end) {
			out = append(out, entity{typ: typ, start: toks[i].start, end: toks[i+n-1].end, prob: 0.85})
			i += n
			continue
		}
		if !candidateName(toks, i) || taken(toks[i].start, toks[i].end) {
			i++
			continue
		}
		j := i + 1
		for j < len(toks) && toks[j].start != toks[j-1].start && (candidateName(toks, j) || continuesName(&toks[j])) &&
			!taken(toks[j].start, toks[j].end) && joinable(text[toks[j-1].end:toks[j].start]) {
			j++
		}
		// "Bank of America": a lower-case "of" inside an organisation.
		if j+1 < len(toks) && toks[j].norm == "of" && candidateName(toks, j+1) && orgSuffixes[toks[j-1].norm] {
			j += 2
		}
		if typ, prob, start := classifyName(text, toks, i, j); typ != "" {
			out = append(out, entity{typ: typ, start: start, end: toks[j-1].end, prob: prob})
		}
		i = j
	}
	return out
}

// gazetteerPhrases are placePhrases and knownOrgPhrases, split into words.
var gazetteerPhrases = func() (out []struct {
	typ   string
	words []string
}) {
	for _, l := range []struct {
		typ     string
		phrases []string
	}{{EntityLocation, placePhrases}, {EntityOrganization, knownOrgPhrases}} {
		for _, p := range l.phrases {
			out = append(out, struct {
				typ   string
				words []string
			}{l.typ, strings.Fields(p)})
		}
	}
	return out
}()

// gazetteerPhrase matches a capitalised multi-word place or organisation
// ("New York", "Bank of America") at token i, returning its type and
// length in tokens.
func gazetteerPhrase(toks []token, i int) (string, int) {
	if !toks[i].capital {
		return "", 0
	}
	for _, g := range gazetteerPhrases {
		if g.words[0] != toks[i].norm || i+len(g.words) > len(toks) {
			continue
		}
		ok := true
		for k, w := range g.words {
			ok = ok && toks[i+k].norm == w
		}
		if ok {
			return g.typ, len(g.words)
		}
	}
	return "", 0
}

// candidateName reports whether token i can be part of a name: capitalised
// (or a lower-case known first name), not a common word, not a calendar
// word. A sentence-initial word counts only if it is a known name.
func candidateName(toks []token, i int) bool {
	t := &toks[i]
	if hasDigit(t.norm) || monthNames[t.norm] || weekdayNames[t.norm] || titles[t.norm] {
		return false
	}
	known := isFirstName(t) || placeWords[t.norm] || knownOrgs[t.norm]
	if t.first || !t.capital {
		return known && (t.capital || !ambiguousNames[t.norm])
	}
	return known || !commonWords[t.norm] || orgSuffixes[t.norm]
}

// continuesName reports whether t, capitalised, can continue a name it
// could not start ("Proseware Internet", "Acme Support").
func continuesName(t *token) bool {
	return t.capital && !stopWords[t.norm] && !hasDigit(t.norm) && !monthNames[t.norm] && !weekdayNames[t.norm]
}

// joinable reports whether the text between two words keeps them in one
// name ("John Smith", "AT&T", "Smith-Jones").
func joinable(gap string) bool {
	return gap == " " || gap == "-" || gap == "&" || gap == " & " || gap == "'"
}

// classifyName types the capitalised run toks[i:j]; it returns "" for a
// run it cannot place. start may move back over a title ("Ms. Lopez").
func classifyName(text string, toks []token, i, j int) (typ string, prob float64, start int) {
	start = toks[i].start
	words := make([]string, 0, j-i)
	for _, t := range toks[i:j] {
		words = append(words, t.norm)
	}
	phrase := strings.Join(words, " ")
	prev := ""
	if i > 0 {
		prev = toks[i-1].norm
	}
	prevPair := func(a, b string) bool { return i > 1 && toks[i-2].norm == a && toks[i-1].norm == b }
	last := words[len(words)-1]
	switch {
	case containsPhrase(knownOrgPhrases, phrase) || (len(words) == 1 && knownOrgs[phrase]):
		return EntityOrganization, 0.85, start
	case len(words) >= 2 && orgSuffixes[last] && !isFirstName(&toks[i]):
		return EntityOrganization, 0.8, start
	case containsPhrase(placePhrases, phrase) || (len(words) == 1 && placeWords[phrase]):
		return EntityLocation, 0.85, start
	case titles[prev] && !toks[i].first:
		return EntityPerson, 0.85, toks[i-1].start
	case isFirstName(&toks[i]):
		return EntityPerson, 0.8, start
	}
	if orgSuffixes[phrase] || len(words) == 1 && commonWords[phrase] {
		return "", 0, start
	}
	for _, c := range personContext {
		if prevPair(c[0], c[1]) {
			return EntityPerson, 0.7, start
		}
	}
	switch prev {
	case "from", "at", "with", "calling", "for", "by", "of":
		return EntityOrganization, 0.6, start
	case "in", "near", "around", "to":
		if j < len(toks) && placeWords[toks[j].norm] && strings.HasPrefix(text[toks[j-1].end:], ",") {
			return EntityLocation, 0.75, start // "Springfield, Illinois"
		}
		if prev != "to" {
			return EntityLocation, 0.6, start
		}
	}
	if j < len(toks) && placeWords[toks[j].norm] && strings.HasPrefix(text[toks[j-1].end:], ",") {
		return EntityLocation, 0.7, start
	}
	return "", 0, start
}

func containsPhrase(list []string, p string) bool {
	for _, l := range list {
		if l == p {
			return true
		}
	}
	return false
}
