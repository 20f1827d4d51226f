package pii

import (
	"regexp"
	"strings"
)

// Building blocks of the date expressions.
const (
	// monthPat matches English month names and their usual abbreviations.
	monthPat = `(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`
	// ordWordPat matches spoken day ordinals, "first" … "thirty-first".
	ordWordPat = `(?:(?:twenty|thirty)[\s\-](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)`
	// unitWord and teenWord are spoken numbers used inside years.
	unitWord = `(?:one|two|three|four|five|six|seven|eight|nine)`
	teenWord = `(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)`
	tensWord = `(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)`
	// yearWordPat matches spoken years such as "nineteen eighty five",
	// "nineteen oh two" and "two thousand (and) three".
	yearWordPat = `(?:nineteen\s+(?:(?:oh|o)\s+` + unitWord + `|` + teenWord + `|` + tensWord + `(?:[\s\-]` + unitWord + `)?|hundred)|two\s+thousand(?:\s+(?:and\s+)?(?:` + teenWord + `|` + tensWord + `(?:[\s\-]` + unitWord + `)?|` + unitWord + `))?)`
	// dayPat is a numeric day with optional ordinal suffix or a spoken one.
	dayPat  = `(?:\d{1,2}(?:st|nd|rd|th)?|` + ordWordPat + `)`
	yearPat = `(?:\d{4}|` + yearWordPat + `)`
)

// Date expressions; a match is a date of birth only next to a birth cue.
var (
	// numDateRE matches 03/15/1985, 15.03.1985, 3-15-85 (same separator).
	numDateRE = regexp.MustCompile(`\b(\d{1,2})([/.\-])(\d{1,2})([/.\-])(\d{4}|\d{2})\b`)
	// isoDateRE matches 1985-03-15.
	isoDateRE = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`)
	// mdyRE matches "March 3rd, 1985", "Jan. 5 1950", "March the third nineteen eighty five".
	mdyRE = regexp.MustCompile(`(?i)\b` + monthPat + `\.?\s+(?:the\s+)?(` + dayPat + `),?\s+(` + yearPat + `)\b`)
	// dmyRE matches "3 May 1988", "3rd of May, 1988", "fourteenth of February nineteen seventy".
	dmyRE = regexp.MustCompile(`(?i)\b(` + dayPat + `)\s+(?:of\s+)?` + monthPat + `\.?,?\s+(` + yearPat + `)\b`)
)

// plausibleYear accepts four-digit years 1900–2099 and any two-digit year.
func plausibleYear(y string) bool {
	if len(y) == 2 {
		return true
	}
	n := atoi(y)
	return len(y) == 4 && n >= 1900 && n <= 2099
}

// plausibleDay checks a numeric day (with optional ordinal suffix); spoken
// ordinals are always plausible.
func plausibleDay(d string) bool {
	dd := digitsOf(d)
	if dd == "" {
		return true
	}
	n := atoi(dd)
	return n >= 1 && n <= 31
}

// detectDatesOfBirth appends candidate DATE_OF_BIRTH spans: dates in common
// written and spoken formats whose sentence contains a birth cue.
func detectDatesOfBirth(text string, out []Span) []Span {
	if !hasDigit(text) && !containsFold(text, "teen") && !containsFold(text, "thousand") {
		return out // every date needs digits or a spoken year
	}
	if !birthCueRE.MatchString(text) {
		return out
	}
	var dates [][2]int
	for _, m := range numDateRE.FindAllStringSubmatchIndex(text, -1) {
		if text[m[4]:m[5]] != text[m[8]:m[9]] {
			continue
		}
		a, b := atoi(text[m[2]:m[3]]), atoi(text[m[6]:m[7]])
		if !((a >= 1 && a <= 12 && b >= 1 && b <= 31) || (a >= 1 && a <= 31 && b >= 1 && b <= 12)) {
			continue
		}
		if !plausibleYear(text[m[10]:m[11]]) || !numericLeftOK(text, m[0]) || !numericRightOK(text, m[1]) {
			continue
		}
		dates = append(dates, [2]int{m[0], m[1]})
	}
	for _, m := range isoDateRE.FindAllStringSubmatchIndex(text, -1) {
		mo, d := atoi(text[m[4]:m[5]]), atoi(text[m[6]:m[7]])
		if mo < 1 || mo > 12 || d < 1 || d > 31 || !plausibleYear(text[m[2]:m[3]]) {
			continue
		}
		if !numericLeftOK(text, m[0]) || !numericRightOK(text, m[1]) {
			continue
		}
		dates = append(dates, [2]int{m[0], m[1]})
	}
	for _, re := range []*regexp.Regexp{mdyRE, dmyRE} {
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			day, year := text[m[2]:m[3]], text[m[4]:m[5]]
			if !plausibleDay(day) {
				continue
			}
			if isDigit(year[0]) && !plausibleYear(year) {
				continue
			}
			st := m[0]
			if strings.HasPrefix(strings.ToLower(text[st:m[1]]), "the ") {
				st += 4
			}
			dates = append(dates, [2]int{st, m[1]})
		}
	}
	for _, d := range dates {
		lo, hi := sentenceBounds(text, d[0], d[1])
		if birthCueRE.MatchString(text[lo:hi]) {
			out = addSpan(out, text, d[0], d[1], DateOfBirth)
		}
	}
	return out
}
