// Package auth makes and checks account credentials: Account SIDs and Auth
// Tokens (32 hex characters, as Twilio's; twilio-go accepts only alphanumeric
// credentials). Tokens are random, so a SHA-256 of the token is a sufficient
// stored verifier, compared in constant time; the token itself is never stored.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"regexp"
)

var tokenPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// NewToken returns a fresh auth token.
func NewToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidToken reports whether s has the form of an auth token.
func ValidToken(s string) bool { return tokenPattern.MatchString(s) }

// Hash returns the stored verifier of a token.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte("convoseal/auth-token/v1\x00" + token))
	return []byte(hex.EncodeToString(sum[:]))
}

// Verify reports whether token matches the stored verifier, in constant time.
func Verify(hash []byte, token string) bool {
	return subtle.ConstantTimeCompare(hash, Hash(token)) == 1
}
