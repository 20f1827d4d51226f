package pii

import (
	"regexp"
	"strings"
)

// digitRunRE matches runs of digit groups separated by single spaces,
// dashes, dots or slashes, e.g. "4111 1111 1111 1111", "3782-822463-10005"
// or "4111.1111.1111.1111".
var digitRunRE = regexp.MustCompile(`\d+(?:[ .\-/]\d+)*`)

// luhnValid reports whether digits (ASCII digits only) passes the Luhn
// (mod 10) check used by payment cards. Strings with non-digits or fewer
// than two digits are not valid.
func luhnValid(digits string) bool {
	if len(digits) < 2 {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if !isDigit(c) {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// cardIINPlausible reports whether a digit string of a Luhn-valid length
// (13–19) starts like a card issued by a major network (Visa, Mastercard,
// American Express, Discover, Diners, JCB, UnionPay, Maestro) with a length
// that network uses. It is deliberately permissive; its job is to reject
// runs starting with 0, 1, 7, 8 or 9, which are not payment cards.
func cardIINPlausible(d string) bool {
	n := len(d)
	if n < 13 || n > 19 {
		return false
	}
	switch d[0] {
	case '4': // Visa
		return n == 13 || n == 16 || n == 19
	case '2': // Mastercard 2221–2720
		p := atoi(d[:4])
		return p >= 2221 && p <= 2720 && n == 16
	case '3':
		switch d[1] {
		case '4', '7': // American Express
			return n == 15
		case '5': // JCB
			return n >= 16
		case '0', '6', '8', '9': // Diners Club
			return n >= 14
		}
		return false
	case '5', '6': // Mastercard, Maestro, Discover, UnionPay, RuPay
		return true
	}
	return false
}

// atoi converts a short ASCII digit string; non-digits count as zero.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n *= 10
		if isDigit(s[i]) {
			n += int(s[i] - '0')
		}
	}
	return n
}

// detectCards appends candidate CREDIT_CARD spans: digit runs of 13–19
// digits that pass the Luhn check and look like a card number. When a whole
// run is not a card, its leading groups are tried (a card read out followed
// by more digits, such as the expiry date).
func detectCards(text string, out []Span) []Span {
	if !hasDigit(text) {
		return out
	}
	for _, m := range digitRunRE.FindAllStringIndex(text, -1) {
		st, en := m[0], m[1]
		if !numericLeftOK(text, st) {
			continue
		}
		if en < len(text) && (isAlnum(text[en]) || text[en] == '_') {
			continue
		}
		// Group ends (byte offsets) and the number of digits up to each.
		var ends, count []int
		total := 0
		for i := st; i < en; i++ {
			if isDigit(text[i]) {
				total++
				if i+1 == en || !isDigit(text[i+1]) {
					ends = append(ends, i+1)
					count = append(count, total)
				}
			}
		}
		if total < 13 {
			continue
		}
		// Try the whole run, then ever shorter leading parts of it.
		for k := len(ends) - 1; k >= 0 && count[k] >= 13; k-- {
			if count[k] > 19 {
				continue
			}
			e := ends[k]
			if k < len(ends)-1 && !numericRightOKCard(text, e) {
				continue
			}
			d := digitsOf(text[st:e])
			if !cardIINPlausible(d) || !luhnValid(d) {
				continue
			}
			if hasCueBefore(idCueRE, text, st, 30) && !hasCueBefore(cardCueRE, text, st, 30) {
				break
			}
			out = addSpan(out, text, st, e, CreditCard)
			break
		}
	}
	return out
}

// numericRightOKCard accepts a card that ends at a group boundary inside a
// longer run: the next character is a separator.
func numericRightOKCard(text string, e int) bool {
	return e < len(text) && strings.IndexByte(" -./", text[e]) >= 0
}
