// Package pii detects and redacts personally identifiable information (PII)
// in conversation transcripts: spoken-style English text produced by a
// recognizer or typed by an agent.
//
// Detect finds e-mail addresses, phone numbers, payment-card numbers,
// US Social Security numbers, IBANs, dates of birth, street addresses and
// person names, and returns non-overlapping byte spans sorted by offset.
// Redact replaces every span with a bracketed type label, for example
// "my card is [CREDIT_CARD]".
//
// The detectors are rule based (regular expressions from the standard
// library, checksums, context words and an embedded list of common first
// names) so they are deterministic, fast, need no model files and never
// look anything up over the network. Numbers that carry a checksum (cards:
// Luhn, IBANs: ISO 7064 mod 97-10) are only reported when the checksum
// holds; dates are only reported as dates of birth when a birth cue
// ("born", "date of birth", "DOB", "birthday") is in the same sentence.
//
// Every function in this package accepts arbitrary input, including
// invalid UTF-8, and never panics.
package pii

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Span is one detected PII occurrence. Start and End are byte offsets into
// the text given to Detect (End exclusive), Type is one of the type
// constants and Text is text[Start:End].
type Span struct {
	Start, End int
	Type       string
	Text       string
}

// Span types.
const (
	Email       = "EMAIL"
	Phone       = "PHONE_NUMBER"
	CreditCard  = "CREDIT_CARD"
	SSN         = "SSN"
	IBAN        = "IBAN"
	DateOfBirth = "DATE_OF_BIRTH"
	Address     = "ADDRESS"
	Person      = "PERSON"
)

// Types lists every span type, from the highest to the lowest priority.
// When two candidate spans overlap, the one whose type comes first wins.
var Types = []string{Email, IBAN, CreditCard, SSN, Phone, DateOfBirth, Address, Person}

// priority ranks a type for overlap resolution: higher wins.
func priority(t string) int {
	for i, x := range Types {
		if x == t {
			return len(Types) - i
		}
	}
	return 0
}

// detectors run in this order; their candidates are merged by resolve.
var detectors = []func(text string, out []Span) []Span{
	detectEmails,
	detectIBANs,
	detectCards,
	detectSSNs,
	detectPhones,
	detectDatesOfBirth,
	detectAddresses,
	detectPersons,
}

// Detect returns the PII spans found in text, sorted by Start and
// non-overlapping. Overlapping candidates are resolved by type priority
// (see Types), then by length. Once a value has been detected, every other
// occurrence of exactly the same text is reported too (with the same type),
// so that a value found once in context is never left readable elsewhere in
// the same text.
//
// Matching runs on a normalised view of text (see normalize): look-alike
// digits and letters, invisible format characters and spelled-out digits do
// not hide a value. Values found only when the digit homophones "for",
// "to", "too" and "ate" next to a spelled-out run are read as digits are
// added where they overlap no other value. Spans always index text itself
// and Text is the original bytes.
func Detect(text string) []Span {
	if text == "" {
		return nil
	}
	v, more := normalize(text)
	var spans []Span
	if v == nil {
		spans = detect(text)
	} else {
		spans = v.mapSpans(text, detect(v.text))
	}
	for _, h := range more {
		spans = addDisjoint(spans, h.mapSpans(text, detect(h.text)))
	}
	return spans
}

// addDisjoint adds to spans (sorted, non-overlapping) those of more that
// overlap none of them, and returns the result sorted.
func addDisjoint(spans, more []Span) []Span {
	n := len(spans)
	for _, m := range more {
		free := true
		for _, s := range spans[:n] {
			if m.Start < s.End && s.Start < m.End {
				free = false
				break
			}
		}
		if free {
			spans = append(spans, m)
		}
	}
	if len(spans) > n {
		sortSpans(spans)
	}
	return spans
}

// detect runs the detectors on text as it is.
func detect(text string) []Span {
	var cands []Span
	for _, d := range detectors {
		cands = d(text, cands)
	}
	spans, used := resolve(text, cands)
	spans = propagate(text, spans, used)
	if len(spans) == 0 {
		return nil
	}
	return spans
}

// Redact returns text with every span found by Detect replaced by
// "[" + Type + "]".
func Redact(text string) string {
	return RedactSpans(text, Detect(text))
}

// RedactSpans replaces each span of text with "[" + Type + "]" ("[REDACTED]"
// when Type is empty). The spans may come from anywhere: they are clamped to
// the text, widened to whole UTF-8 sequences, sorted, and overlapping or
// touching-inside spans are merged (the earlier span's type is kept), so the
// function never panics and never leaves part of a span readable. Text and
// Type fields of the given spans are ignored except for Type.
func RedactSpans(text string, spans []Span) string {
	if len(spans) == 0 {
		return text
	}
	norm := make([]Span, 0, len(spans))
	for _, s := range spans {
		st, en := s.Start, s.End
		if st < 0 {
			st = 0
		}
		if en > len(text) {
			en = len(text)
		}
		if st >= en {
			continue
		}
		st, en = runeAlign(text, st, en)
		norm = append(norm, Span{Start: st, End: en, Type: s.Type})
	}
	if len(norm) == 0 {
		return text
	}
	sort.SliceStable(norm, func(i, j int) bool {
		if norm[i].Start != norm[j].Start {
			return norm[i].Start < norm[j].Start
		}
		return norm[i].End > norm[j].End
	})
	var b strings.Builder
	b.Grow(len(text))
	pos := 0
	for i := 0; i < len(norm); {
		cur := norm[i]
		j := i + 1
		for j < len(norm) && norm[j].Start < cur.End {
			if norm[j].End > cur.End {
				cur.End = norm[j].End
			}
			j++
		}
		b.WriteString(text[pos:cur.Start])
		t := cur.Type
		if t == "" {
			t = "REDACTED"
		}
		b.WriteByte('[')
		b.WriteString(t)
		b.WriteByte(']')
		pos = cur.End
		i = j
	}
	b.WriteString(text[pos:])
	return b.String()
}

// runeAlign widens [st, en) so that it neither starts nor ends inside a
// UTF-8 sequence of text. Bytes that do not form valid sequences count as
// one-byte runes, exactly as utf8.DecodeRuneInString reports them.
func runeAlign(text string, st, en int) (int, int) {
	// Walk back at most utf8.UTFMax-1 bytes to find the rune containing st.
	for k := 1; k < utf8.UTFMax && st-k >= 0; k++ {
		p := st - k
		if utf8.RuneStart(text[p]) {
			_, w := utf8.DecodeRuneInString(text[p:])
			if p+w > st {
				st = p
			}
			break
		}
	}
	for k := 1; k < utf8.UTFMax && en-k >= 0; k++ {
		p := en - k
		if utf8.RuneStart(text[p]) {
			_, w := utf8.DecodeRuneInString(text[p:])
			if p+w > en {
				en = p + w
			}
			break
		}
	}
	return st, en
}

// resolve picks a non-overlapping subset of candidates: higher-priority
// types first, longer spans before shorter ones, earlier before later. The
// result is sorted by Start.
func resolve(text string, cands []Span) ([]Span, []bool) {
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if pa, pb := priority(a.Type), priority(b.Type); pa != pb {
			return pa > pb
		}
		if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
			return la > lb
		}
		return a.Start < b.Start
	})
	used := make([]bool, len(text))
	var out []Span
	for _, c := range cands {
		if c.Start >= c.End || c.Start < 0 || c.End > len(text) {
			continue
		}
		if claim(used, c.Start, c.End) {
			out = append(out, c)
		}
	}
	sortSpans(out)
	return out, used
}

// claim marks bytes [st, en) as used and reports true, unless one of them
// is already used (then nothing is marked).
func claim(used []bool, st, en int) bool {
	for i := st; i < en; i++ {
		if used[i] {
			return false
		}
	}
	for i := st; i < en; i++ {
		used[i] = true
	}
	return true
}

// sortSpans orders spans by Start.
func sortSpans(spans []Span) {
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
}

// propagate adds a span for every further occurrence of the text of an
// already detected span that does not overlap an existing span. Longer
// values are propagated first. used marks the bytes already covered.
func propagate(text string, spans []Span, used []bool) []Span {
	if len(spans) == 0 {
		return spans
	}
	type val struct{ text, typ string }
	seen := map[string]bool{}
	var vals []val
	for _, s := range spans {
		if !seen[s.Text] {
			seen[s.Text] = true
			vals = append(vals, val{s.Text, s.Type})
		}
	}
	sort.SliceStable(vals, func(i, j int) bool {
		if len(vals[i].text) != len(vals[j].text) {
			return len(vals[i].text) > len(vals[j].text)
		}
		return vals[i].text < vals[j].text
	})
	added := false
	for _, v := range vals {
		for from := 0; from < len(text); {
			k := strings.Index(text[from:], v.text)
			if k < 0 {
				break
			}
			st := from + k
			en := st + len(v.text)
			if claim(used, st, en) {
				spans = append(spans, Span{Start: st, End: en, Type: v.typ, Text: v.text})
				added = true
				from = en
			} else {
				from = st + 1
			}
		}
	}
	if added {
		sortSpans(spans)
	}
	return spans
}

// addSpan appends a candidate for text[st:en] of type t.
func addSpan(out []Span, text string, st, en int, t string) []Span {
	if st < 0 || en > len(text) || st >= en {
		return out
	}
	return append(out, Span{Start: st, End: en, Type: t, Text: text[st:en]})
}
