package pii

import "testing"

// TestRedactBypasses: obfuscations that once left PII readable. Each value
// must be replaced whole, in the original text, by its placeholder.
func TestRedactBypasses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"card with dots", "My card is 4111.1111.1111.1111 thanks.", "My card is [CREDIT_CARD] thanks."},
		{"full-width card digits", "my card is ４１１１ １１１１ １１１１ １１１１ ok", "my card is [CREDIT_CARD] ok"},
		{"card split by zero-width characters", "card 4111\u200b1111\u200d1111\u20601111.", "card [CREDIT_CARD]."},
		{"digits split inside a group", "my number is 41\u200b5 55\ufeff5 0100", "my number is [PHONE_NUMBER]"},
		{"full-width at sign", "It's john.smith＠example.com, thanks.", "It's [EMAIL], thanks."},
		{"full-width phone", "call me at ４１５５５５０１００ tonight", "call me at [PHONE_NUMBER] tonight"},
		{"spelled-out phone", "my number is four one five five five five zero one zero zero.", "my number is [PHONE_NUMBER]."},
		{"spelled-out phone with oh and double", "call me on two one two double five five oh one eight seven please", "call me on [PHONE_NUMBER] please"},
		{"spelled-out card", "card four one one one one one one one one one one one one one one one", "card [CREDIT_CARD]"},
		{"spelled-out SSN", "my social is one two three four five six seven eight nine", "my social is [SSN]"},
		{"lower-case name after my name is", "my name is maria garcia and I need help", "my name is [PERSON] and I need help"},
		{"lower-case name after this is", "hi this is john smith calling about my bill", "hi this is [PERSON] calling about my bill"},
		{"lower-case name after I'm", "i'm sarah, from accounting", "i'm [PERSON], from accounting"},
		{"SSN with dots", "ssn 123.45.6789 on file", "ssn [SSN] on file"},
		{"en dashes", "my number is 415–555–0100", "my number is [PHONE_NUMBER]"},
		{"soft hyphen in an e-mail", "mail jane\u00addoe@example.com now", "mail [EMAIL] now"},
		{"mathematical digits", "Reach me on 𝟒𝟏𝟓-𝟓𝟓𝟓-𝟎𝟏𝟑𝟐 later.", "Reach me on [PHONE_NUMBER] later."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRedactNoFalseAlarms: ordinary speech of the same shapes stays as it is.
func TestRedactNoFalseAlarms(t *testing.T) {
	for _, in := range []string{
		"I counted one two three four and then stopped.",
		"this is great, thanks for your help",
		"i'm fine, just calling about the order",
		"my name is on the account already",
		"my name is spelled with two l's",
		"we open at nine and close at five, five days a week",
		"the tracking number is one two three four five six seven eight nine zero",
		"version 1.2.3.4 of the app crashed",
		"the order number is ４５６７８９ and it shipped",
	} {
		if got := Redact(in); got != in {
			t.Errorf("Redact(%q) = %q, want it unchanged", in, got)
		}
	}
}

// TestDetectOffsetsIntoOriginal: spans found in the normalised text index
// the original text, and Text is the original bytes.
func TestDetectOffsetsIntoOriginal(t *testing.T) {
	in := "x ４１５５５５０１００ and jo\u200bhn@example.com"
	spans := Detect(in)
	if len(spans) != 2 {
		t.Fatalf("Detect(%q) = %v, want 2 spans", in, spans)
	}
	for _, s := range spans {
		if in[s.Start:s.End] != s.Text {
			t.Errorf("span %v: text %q, original has %q", s, s.Text, in[s.Start:s.End])
		}
	}
	if spans[0].Text != "４１５５５５０１００" || spans[1].Text != "jo\u200bhn@example.com" {
		t.Errorf("spans %q %q", spans[0].Text, spans[1].Text)
	}
}

// TestDetectEachAcrossSentences: a value detected in one sentence is
// redacted where it later stands alone, as a whole word only.
func TestDetectEachAcrossSentences(t *testing.T) {
	texts := []string{"Hi, my name is Anna Kowalski.", "Thanks Anna, and Kowalski is spelled K-O-W.", "Annabel is my sister."}
	got := DetectEach(texts)
	want := []string{"Hi, my name is [PERSON].", "Thanks [PERSON], and [PERSON] is spelled K-O-W.", "Annabel is my sister."}
	for i := range texts {
		if r := RedactSpans(texts[i], got[i]); r != want[i] {
			t.Errorf("text %d: %q, want %q", i, r, want[i])
		}
	}
}
