package pii

import (
	"regexp"
	"strings"
)

// Building blocks of addressRE.
const (
	// addrNumPat is a house number, optionally with a letter ("221B").
	addrNumPat = `\b\d{1,6}[A-Za-z]?\b`
	// addrDirPat is an optional directional prefix ("N", "West").
	addrDirPat = `(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?`
	// addrNamePat is the street name: capitalised words or an ordinal.
	addrNamePat = `(?:[A-Z][A-Za-z'’\-]*|\d{1,3}(?:st|nd|rd|th))(?:[ \t]+[A-Z][A-Za-z'’\-]*){0,3}`
	// addrSuffixPat is a street type, spelled out or abbreviated (the
	// abbreviation may carry a period).
	addrSuffixPat = `(?:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Way|Place|Terrace|Circle|Loop|Parkway|Highway|Square|Trail|Plaza|Alley|Crescent|Close|Row|Pike|Path|Walk|Grove|Gardens|Heights|Point|Ridge|Crossing|Expressway|Freeway|Turnpike|Causeway|Commons|Mews|Parade|Esplanade)\b|(?:St|Ave|Av|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Cir|Pkwy|Hwy|Sq|Trl|Plz|Aly|Cres|Xing|Expy|Fwy|Tpke)\b\.?)`
	// addrPostDirPat is an optional directional suffix ("Ave NW").
	addrPostDirPat = `(?:[ \t]+(?:NE|NW|SE|SW|N|S|E|W)\b\.?)?`
	// addrPOBoxPat is a post-office box, which stands in for a street.
	addrPOBoxPat = `\b(?i:p\.?\s?o\.?\s?box|post\s+office\s+box)[ \t]+\d{1,6}\b`
	// addrUnitPat is an optional unit: "Apt 4B", "Suite 3400", "# 12".
	addrUnitPat = `(?:,?[ \t]+(?i:apt|apartment|unit|suite|ste|floor|fl|room|rm|bldg|building)\.?[ \t]*#?[ \t]*[A-Za-z0-9\-]{1,6}\b|,?[ \t]+#[ \t]?[A-Za-z0-9\-]{1,6}\b)?`
	// addrStatePat lists US state and territory codes and names.
	addrStatePat = `(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming)`
	// addrCityPat is an optional ", City, ST 12345" tail; the state is
	// required for the city to be included, the ZIP code is optional.
	addrCityPat = `(?:,?[ \t]+[A-Z][A-Za-z'.\-]+(?:[ \t]+[A-Z][A-Za-z'.\-]+){0,2},?[ \t]+` + addrStatePat + `\b(?:[ \t]+\d{5}(?:-\d{4})?\b)?)?`
)

// addressRE matches a US/UK-style street address.
var addressRE = regexp.MustCompile(`(?:` + addrNumPat + `[ \t]+(?:` + addrDirPat + addrNamePat + `[ \t]+` + addrSuffixPat + `|Broadway)` + addrPostDirPat + addrUnitPat + `|` + addrPOBoxPat + `)` + addrCityPat)

// detectAddresses appends candidate ADDRESS spans: a house number, a
// capitalised street name and a street type (or a PO box), optionally
// followed by a unit and by city, state and ZIP code.
func detectAddresses(text string, out []Span) []Span {
	if !hasDigit(text) {
		return out
	}
	for _, m := range addressRE.FindAllStringIndex(text, -1) {
		st, en := m[0], m[1]
		if isDigit(text[st]) && !numericLeftOK(text, st) {
			continue
		}
		// A trailing abbreviation period is usually the full stop.
		if strings.HasSuffix(text[st:en], ".") {
			en--
		}
		out = addSpan(out, text, st, en, Address)
	}
	return out
}
