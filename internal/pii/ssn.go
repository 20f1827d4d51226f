package pii

import "regexp"

// SSN expressions.
var (
	// ssnRE matches AAA-GG-SSSS with dashes, spaces or dots.
	ssnRE = regexp.MustCompile(`\b(\d{3})([ .\-])(\d{2})([ .\-])(\d{4})\b`)
	// ssnPlainRE matches nine-digit runs, accepted only after an SSN cue.
	ssnPlainRE = regexp.MustCompile(`\b\d{9}\b`)
)

// ssnValid reports whether area, group and serial form a number the Social
// Security Administration can issue: area not 000, 666 or 900–999, group
// not 00, serial not 0000.
func ssnValid(area, group, serial string) bool {
	if len(area) != 3 || len(group) != 2 || len(serial) != 4 {
		return false
	}
	if area == "000" || area == "666" || area[0] == '9' {
		return false
	}
	return group != "00" && serial != "0000"
}

// detectSSNs appends candidate SSN spans.
func detectSSNs(text string, out []Span) []Span {
	if !hasDigit(text) {
		return out
	}
	for _, m := range ssnRE.FindAllStringSubmatchIndex(text, -1) {
		st, en := m[0], m[1]
		if text[m[4]:m[5]] != text[m[8]:m[9]] { // same separator twice
			continue
		}
		if !ssnValid(text[m[2]:m[3]], text[m[6]:m[7]], text[m[10]:m[11]]) {
			continue
		}
		if !numericLeftOK(text, st) || !numericRightOK(text, en) {
			continue
		}
		if hasCueBefore(idCueRE, text, st, 30) && !hasCueBefore(ssnCueRE, text, st, 50) {
			continue
		}
		out = addSpan(out, text, st, en, SSN)
	}
	for _, m := range ssnPlainRE.FindAllStringIndex(text, -1) {
		st, en := m[0], m[1]
		s := text[st:en]
		if !ssnValid(s[:3], s[3:5], s[5:]) || !numericLeftOK(text, st) || !numericRightOK(text, en) {
			continue
		}
		if !hasCueBefore(ssnCueRE, text, st, 50) {
			continue
		}
		out = addSpan(out, text, st, en, SSN)
	}
	return out
}
