package pii

import (
	"regexp"
	"strings"
)

// ibanLengths is the total IBAN length per country (ISO 13616 registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
	"BG": 22, "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22,
	"CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20,
	"EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22,
	"GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
	"KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
	"LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
	"MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
	"SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
	"SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29,
	"VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// ibanStartRE finds where an IBAN may begin: two letters and two check
// digits at a word start.
var ibanStartRE = regexp.MustCompile(`\b[A-Za-z]{2}[0-9]{2}`)

// ibanValid reports whether s (spaces allowed, case-insensitive) is a
// well-formed IBAN: a known country code, the registered length for that
// country, alphanumeric BBAN and a correct ISO 7064 mod 97-10 check.
func ibanValid(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 5 {
		return false
	}
	want, ok := ibanLengths[s[:2]]
	if !ok || len(s) != want || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	return mod97(s[4:]+s[:4]) == 1
}

// mod97 computes the ISO 7064 mod 97-10 remainder of an alphanumeric string
// in which letters stand for 10..35. It returns -1 for other characters.
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			r = (r*100 + int(c-'A') + 10) % 97
		case c >= 'a' && c <= 'z':
			r = (r*100 + int(c-'a') + 10) % 97
		default:
			return -1
		}
	}
	return r
}

// detectIBANs appends candidate IBAN spans. An IBAN may be written in one
// block or in groups separated by single spaces; it must have exactly the
// registered length for its country and pass the mod-97 check.
func detectIBANs(text string, out []Span) []Span {
	if !hasDigit(text) {
		return out
	}
	for _, m := range ibanStartRE.FindAllStringIndex(text, -1) {
		st := m[0]
		want, ok := ibanLengths[strings.ToUpper(text[st:st+2])]
		if !ok {
			continue
		}
		var b strings.Builder
		pos := st
		for pos < len(text) && b.Len() < want {
			c := text[pos]
			switch {
			case isAlnum(c):
				b.WriteByte(c)
				pos++
				continue
			case c == ' ' && b.Len() >= 4 && pos+1 < len(text) && isAlnum(text[pos+1]):
				pos++
				continue
			}
			break
		}
		if b.Len() != want || (pos < len(text) && (isAlnum(text[pos]) || text[pos] == '_')) {
			continue
		}
		if !ibanValid(b.String()) {
			continue
		}
		out = addSpan(out, text, st, pos, IBAN)
	}
	return out
}
