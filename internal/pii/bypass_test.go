package pii

import (
	"strings"
	"testing"
)

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
		// Speech-recognition homophones of digit words inside a spelled run.
		{"homophone for at the start of a phone", "my number is for one five five five five zero one three two", "my number is [PHONE_NUMBER]"},
		{"homophone to inside a phone", "call me on four one five five five five zero to one three", "call me on [PHONE_NUMBER]"},
		{"homophone too inside a phone after to", "text it to four one five too five five zero one three two", "text it to [PHONE_NUMBER]"},
		{"homophone ate inside an SSN", "my social is one two three four five six seven ate nine", "my social is [SSN]"},
		{"homophone for at the start of a card", "card for one one one one one one one one one one one one one one one", "card [CREDIT_CARD]"},
		{"to before a spelled phone stays a word", "send it to four one five five five five zero one zero zero", "send it to [PHONE_NUMBER]"},
		{"for after a spelled phone stays a word", "four one five five five five zero one zero zero for the office", "[PHONE_NUMBER] for the office"},
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
		// Homophones of digit words in ordinary speech.
		"I waited for two hours",
		"can I talk to one of you",
		"for one thing, the app is slow",
		"I ate one of the samples",
		"I was on hold from two to three",
		"press one two three to continue",
		"we are open nine to five, five days a week",
		"I've had this card for four years",
		"the reference for one two three four five six seven eight nine is wrong",
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

// TestDetectHomophoneOffsets: a digit homophone read as a digit is part of
// the span, in the original text; a preposition next to a run is not.
func TestDetectHomophoneOffsets(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ok for one five five five five zero one three two.", "for one five five five five zero one three two"},
		{"text it to four one five too five five zero one three two", "four one five too five five zero one three two"},
	} {
		spans := Detect(tc.in)
		if len(spans) != 1 || spans[0].Text != tc.want || tc.in[spans[0].Start:spans[0].End] != tc.want {
			t.Errorf("Detect(%q) = %v, want one span %q", tc.in, spans, tc.want)
		}
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

// TestSpelledDigitHomophoneViews: "for", "to", "too" and "ate" are read as
// digits only next to a run of at least three genuine digit words.
func TestSpelledDigitHomophoneViews(t *testing.T) {
	for _, in := range []string{
		"I waited for two hours",
		"can I talk to one of you",
		"for one thing, the app is slow",
		"I ate one",
		"I was on hold from two to three",
		"we open at nine and close at five, five days a week",
		"double for one two",
		"for oh oh one",
	} {
		if _, more := normalize(in); len(more) != 0 {
			t.Errorf("normalize(%q) read a homophone: %q", in, more[0].text)
		}
	}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"for one five five five five zero one three two", []string{"4155550132"}},
		{"send it to four one five too five five zero one three two", []string{"send it to 4152550132", "send it 24152550132"}},
		{"one two three four five six seven ate nine to go", []string{"123456789 to go", "1234567892 go"}},
		{"four one five double to one three two", []string{"41522132"}},
	} {
		_, more := normalize(tc.in)
		var got []string
		for _, v := range more {
			got = append(got, v.text)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("normalize(%q) homophone views %q, want %q", tc.in, got, tc.want)
		}
	}
}
