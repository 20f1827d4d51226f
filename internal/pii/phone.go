package pii

import (
	"regexp"
	"strings"
)

// Phone number expressions.
var (
	// nanpRE matches North American numbers: optional +1 / 1 trunk prefix,
	// an area code (optionally in parentheses) and a subscriber number, with
	// spaces, dots or dashes (or nothing) between the groups. Area codes and
	// exchanges start with 2-9 as the numbering plan requires.
	nanpRE = regexp.MustCompile(`(?:\+1[ .\-]?|\b1[ .\-])?(?:\([2-9]\d{2}\)|\b[2-9]\d{2})[ .\-]?[2-9]\d{2}[ .\-]?\d{4}\b`)

	// intlRE matches E.164-style international numbers written with a
	// leading "+" and a country code other than 1.
	intlRE = regexp.MustCompile(`\+[2-9]\d{0,2}(?:[ .\-]?\(?\d{1,5}\)?){1,6}`)

	// nationalRE matches numbers written with a national trunk prefix 0
	// (UK, much of Europe), e.g. "07700 900123"; accepted only near a phone
	// cue.
	nationalRE = regexp.MustCompile(`\b0\d{2,4}[ \-]?\d{3,4}[ \-]?\d{3,4}\b`)

	// localRE matches seven-digit NANP local numbers ("555-0132"); accepted
	// only near a phone cue.
	localRE = regexp.MustCompile(`\b[2-9]\d{2}[\-.]\d{4}\b`)
)

// intlMatches returns the matches of intlRE, or nothing when there is no
// "+" in text.
func intlMatches(text string) [][]int {
	if strings.IndexByte(text, '+') < 0 {
		return nil
	}
	return intlRE.FindAllStringIndex(text, -1)
}

// detectPhones appends candidate PHONE_NUMBER spans.
func detectPhones(text string, out []Span) []Span {
	if !hasDigit(text) {
		return out
	}
	for _, m := range nanpRE.FindAllStringIndex(text, -1) {
		st, en := m[0], m[1]
		if !numericLeftOK(text, st) || !numericRightOK(text, en) {
			continue
		}
		s := text[st:en]
		if len(digitsOf(s)) == len(s) && hasCueBefore(idCueRE, text, st, 30) {
			// An unformatted digit run after "order", "reference", … is an
			// identifier, not a phone number.
			continue
		}
		out = addSpan(out, text, st, en, Phone)
	}
	for _, m := range intlMatches(text) {
		st, en := m[0], m[1]
		for en > st && !isDigit(text[en-1]) && text[en-1] != ')' {
			en--
		}
		if (st > 0 && isAlnum(text[st-1])) || !numericRightOK(text, en) {
			continue
		}
		if n := len(digitsOf(text[st:en])); n < 8 || n > 15 {
			continue
		}
		out = addSpan(out, text, st, en, Phone)
	}
	for _, m := range nationalRE.FindAllStringIndex(text, -1) {
		st, en := m[0], m[1]
		if !numericLeftOK(text, st) || !numericRightOK(text, en) {
			continue
		}
		if n := len(digitsOf(text[st:en])); n < 10 || n > 11 {
			continue
		}
		if !hasCueBefore(phoneCueRE, text, st, 40) || hasCueBefore(idCueRE, text, st, 30) {
			continue
		}
		out = addSpan(out, text, st, en, Phone)
	}
	for _, m := range localRE.FindAllStringIndex(text, -1) {
		st, en := m[0], m[1]
		if !numericLeftOK(text, st) || !numericRightOK(text, en) {
			continue
		}
		if !hasCueBefore(phoneCueRE, text, st, 40) || hasCueBefore(idCueRE, text, st, 30) {
			continue
		}
		out = addSpan(out, text, st, en, Phone)
	}
	return out
}
