package pii

import (
	"regexp"
	"strings"
)

// Context cues are matched against a short window of text before (and for
// dates, around) a candidate. Windows are byte ranges; they may cut a UTF-8
// sequence, which is harmless because the cue expressions are ASCII.
var (
	// phoneCueRE marks a nearby number as a phone number.
	phoneCueRE = regexp.MustCompile(`(?i)\b(?:phone|cell|cellphone|mobile|number|call|calling|reach|text|fax|landline|tel|telephone|ring|dial|contact|line|extension|whatsapp)\b`)
	// idCueRE marks a nearby number as an identifier (order, ticket, …)
	// rather than personal data.
	idCueRE = regexp.MustCompile(`(?i)\b(?:order|orders|tracking|reference|ref|invoice|confirmation|case|ticket|claim|policy|serial|model|item|part|transaction|sku|shipment|parcel|booking|reservation|id|code|pin|routing)\b`)
	// cardCueRE marks a nearby number as a payment card.
	cardCueRE = regexp.MustCompile(`(?i)\b(?:card|visa|mastercard|amex|american express|discover|maestro|debit|credit|cc)\b`)
	// ssnCueRE marks a nearby number as a Social Security number.
	ssnCueRE = regexp.MustCompile(`(?i)\b(?:social|ssn|ss#|s\.s\.n|social security|socials|ss number)`)
	// birthCueRE marks a date in the same sentence as a date of birth.
	birthCueRE = regexp.MustCompile(`(?i)\b(?:born|birth|birthdate|birthday|birthdays|dob|d\.o\.b|bday|b-day|date of birth)\b`)
)

// before returns up to n bytes of text preceding position st.
func before(text string, st, n int) string {
	b := st - n
	if b < 0 {
		b = 0
	}
	return text[b:st]
}

// hasCueBefore reports whether re matches within n bytes before st.
func hasCueBefore(re *regexp.Regexp, text string, st, n int) bool {
	return re.MatchString(before(text, st, n))
}

// isAlnum reports whether the byte is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// isDigit reports whether the byte is an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// numericLeftOK reports whether a number starting at st stands on its own:
// it is not glued to a letter, digit or joining punctuation on its left and
// is not the continuation of a longer grouped number ("12 34…").
func numericLeftOK(text string, st int) bool {
	if st == 0 {
		return true
	}
	c := text[st-1]
	if isAlnum(c) || c == '_' || c == '+' || c == '-' || c == '.' || c == '/' || c == '@' || c == '$' || c == ',' && st >= 2 && isDigit(text[st-2]) {
		return false
	}
	if c == ' ' && st >= 2 && isDigit(text[st-2]) {
		return false
	}
	return true
}

// numericRightOK is the mirror image of numericLeftOK for a number ending
// at en.
func numericRightOK(text string, en int) bool {
	if en >= len(text) {
		return true
	}
	c := text[en]
	if isAlnum(c) || c == '_' || c == '@' {
		return false
	}
	if (c == '-' || c == '.' || c == '/' || c == ',' || c == ' ') && en+1 < len(text) && isDigit(text[en+1]) {
		return false
	}
	return true
}

// hasDigit reports whether s contains an ASCII digit; detectors of
// numbers use it to skip digit-free text cheaply.
func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// containsFold reports whether s contains the ASCII string sub, ignoring
// ASCII case.
func containsFold(s, sub string) bool {
	n := len(sub)
outer:
	for i := 0; i+n <= len(s); i++ {
		for j := 0; j < n; j++ {
			if s[i+j]|0x20 != sub[j]|0x20 {
				continue outer
			}
		}
		return true
	}
	return false
}

// digitsOf returns the ASCII digits of s.
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// abbrevs are words whose trailing period does not end a sentence.
var abbrevs = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "st": true,
	"jr": true, "sr": true, "apt": true, "ave": true, "rd": true, "blvd": true,
	"no": true, "vs": true, "etc": true, "inc": true, "ltd": true, "co": true,
	"mt": true, "ft": true, "ln": true, "ct": true, "pl": true, "jan": true,
	"feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true,
	"sep": true, "sept": true, "oct": true, "nov": true, "dec": true, "ext": true,
}

// sentenceBounds returns the bounds of the sentence around [st, en): it
// stops at a newline or at '.', '!' or '?' followed by white space (except
// after a known abbreviation or a single initial), and looks at most 400
// bytes either way.
func sentenceBounds(text string, st, en int) (int, int) {
	lo := st
	for lo > 0 && st-lo < 400 {
		if isSentenceEnd(text, lo-1) {
			break
		}
		lo--
	}
	hi := en
	for hi < len(text) && hi-en < 400 {
		if isSentenceEnd(text, hi) {
			hi++
			break
		}
		hi++
	}
	return lo, hi
}

// isSentenceEnd reports whether the byte at i ends a sentence.
func isSentenceEnd(text string, i int) bool {
	c := text[i]
	if c == '\n' {
		return true
	}
	if c != '.' && c != '!' && c != '?' {
		return false
	}
	if i+1 < len(text) && text[i+1] != ' ' && text[i+1] != '\n' && text[i+1] != '\t' {
		return false
	}
	if c == '.' {
		j := i
		for j > 0 && isAlnum(text[j-1]) {
			j--
		}
		w := strings.ToLower(text[j:i])
		if abbrevs[w] || (len(w) == 1 && w[0] >= 'a' && w[0] <= 'z') {
			return false
		}
	}
	return true
}
