package pii

import (
	"regexp"
	"strings"
)

// E-mail expressions.
var (
	// emailRE is a pragmatic subset of RFC 5322 addr-spec: a dot-atom local
	// part of the characters people actually use, and a domain of LDH labels
	// ending in an alphabetic top-level domain.
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b`)

	// spokenEmailRE matches addresses dictated as words, e.g.
	// "john dot smith at gmail dot com". The domain must end in a common
	// top-level domain so that ordinary "… at …" phrases do not match.
	spokenEmailRE = regexp.MustCompile(`(?i)\b([a-z0-9]+(?:\s+(?:dot|underscore|dash|hyphen)\s+[a-z0-9]+)*)\s+at\s+[a-z0-9]+(?:\s+dot\s+[a-z0-9]+)*\s+dot\s+(?:com|net|org|edu|gov|mil|io|co|us|uk|ca|de|fr|es|it|nl|me|info|biz|ai|app|au|in)\b`)
)

// spokenLocalStop are words that precede "at" in ordinary speech and are
// therefore not accepted as a one-word dictated local part.
var spokenLocalStop = map[string]bool{
	"me": true, "us": true, "him": true, "her": true, "them": true, "you": true,
	"it": true, "is": true, "email": true, "mail": true, "reach": true,
	"contact": true, "address": true, "that": true, "this": true, "was": true,
	"be": true, "am": true, "are": true, "look": true, "arrive": true,
	"arrives": true, "arrived": true, "here": true, "there": true, "and": true,
}

// detectEmails appends candidate EMAIL spans.
func detectEmails(text string, out []Span) []Span {
	if strings.IndexByte(text, '@') >= 0 {
		for _, m := range emailRE.FindAllStringIndex(text, -1) {
			st, en := m[0], m[1]
			for st < en && text[st] == '.' {
				st++
			}
			at := strings.IndexByte(text[st:en], '@')
			if at <= 0 {
				continue
			}
			out = addSpan(out, text, st, en, Email)
		}
	}
	if !containsFold(text, " dot ") {
		return out
	}
	for _, m := range spokenEmailRE.FindAllStringSubmatchIndex(text, -1) {
		local := strings.ToLower(text[m[2]:m[3]])
		if spokenLocalStop[local] {
			continue
		}
		out = addSpan(out, text, m[0], m[1], Email)
	}
	return out
}
