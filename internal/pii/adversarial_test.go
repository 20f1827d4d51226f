package pii

import "testing"

// TestPrecisionRecallAdversarial evaluates Detect on
// testdata/adversarial.jsonl: PII obfuscated the way a caller or a hostile
// tenant would write it to slip past redaction (other separators, full-width
// and mathematical digits, zero-width and other format characters inside
// values, spelled-out digits, lower-case names after a cue), plus hard
// negatives of the same shapes. The set was written before the detector
// learnt to normalise its input.
func TestPrecisionRecallAdversarial(t *testing.T) {
	evaluate(t, "testdata/adversarial.jsonl")
}
