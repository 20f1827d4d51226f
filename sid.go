package convoseal

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// SID prefixes.
const (
	PrefixAccount      = "AC"
	PrefixPublicKey    = "CR"
	PrefixService      = "GA"
	PrefixTranscript   = "GT"
	PrefixSentence     = "GX"
	PrefixOperator     = "LY"
	PrefixOperatorType = "EY"
)

var sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)

// NewSID returns a fresh random SID: the two-letter prefix and 32 lowercase
// hex digits, as Twilio's.
func NewSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// ValidSID reports whether s is a well-formed SID with the given prefix.
// Twilio's patterns allow upper-case hex; convoseal normalises on lower case.
func ValidSID(prefix, s string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	return sidPattern.MatchString(s[:2] + lowerHex(s[2:]))
}

func lowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// NormalizeSID lower-cases the hex part of a SID so look-ups match however
// the client wrote it.
func NormalizeSID(s string) string {
	if len(s) != 34 {
		return s
	}
	return s[:2] + lowerHex(s[2:])
}
