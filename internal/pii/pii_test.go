package pii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// detectCase is one table entry: the input and the span texts expected for
// one type (nil: no span of that type).
type detectCase struct {
	in   string
	want []string
}

// runTable checks that Detect finds exactly the wanted spans of typ.
func runTable(t *testing.T, typ string, cases []detectCase) {
	t.Helper()
	for _, c := range cases {
		var got []string
		for _, s := range Detect(c.in) {
			if s.Type == typ {
				got = append(got, s.Text)
			}
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s in %q: got %q, want %q", typ, c.in, got, c.want)
		}
	}
}

// TestEmail covers written and dictated e-mail addresses.
func TestEmail(t *testing.T) {
	runTable(t, Email, []detectCase{
		{"my email is jane.doe@example.com.", []string{"jane.doe@example.com"}},
		{"send it to J.O'Neil? no, jo_neil+tag@sub.mail.co.uk please", []string{"jo_neil+tag@sub.mail.co.uk"}},
		{"UPPER@EXAMPLE.ORG works", []string{"UPPER@EXAMPLE.ORG"}},
		{"reach me at john dot smith at gmail dot com", []string{"john dot smith at gmail dot com"}},
		{"it's maria underscore g at hotmail dot com", []string{"maria underscore g at hotmail dot com"}},
		{"email me at gmail dot com", nil},
		{"I'm at home at five", nil},
		{"visit www.example.com/support", nil},
		{"the @ sign and user@localhost", nil},
		{"price is 5@3.50", nil},
	})
}

// TestPhone covers NANP, international, national and local formats, and
// numbers that must not be taken for phone numbers.
func TestPhone(t *testing.T) {
	runTable(t, Phone, []detectCase{
		{"call me back on (415) 555-0132 ok", []string{"(415) 555-0132"}},
		{"it's 415.555.0132", []string{"415.555.0132"}},
		{"it's 415 555 0132", []string{"415 555 0132"}},
		{"+1 415 555 0132 or 1-800-555-0199", []string{"+1 415 555 0132", "1-800-555-0199"}},
		{"my cell is +1 (917) 555-0162.", []string{"+1 (917) 555-0162"}},
		{"call me at 9175550162", []string{"9175550162"}},
		{"London is +44 20 7946 0958.", []string{"+44 20 7946 0958"}},
		{"my mobile is 07700 900123", []string{"07700 900123"}},
		{"my number is 555-0132", []string{"555-0132"}},
		{"reference 9876543210 please", nil},
		{"the year 1985 and 2024", nil},
		{"order 4000-1234-5678", nil},
		{"room 123-4567", nil},
		{"ID 881 4453 2290", nil},
		{"4111 1111 1111 1111", nil},
		{"123-45-6789", nil},
		{"area code 123 555 0132", nil},
		{"it costs 555.01", nil},
	})
}

// TestCreditCard covers Luhn-valid card numbers in common groupings and
// digit runs that are not cards.
func TestCreditCard(t *testing.T) {
	runTable(t, CreditCard, []detectCase{
		{"my card number is 4111 1111 1111 1111", []string{"4111 1111 1111 1111"}},
		{"5555-5555-5555-4444", []string{"5555-5555-5555-4444"}},
		{"amex 3782 822463 10005.", []string{"3782 822463 10005"}},
		{"4111111111111111", []string{"4111111111111111"}},
		{"visa 4222222222222", []string{"4222222222222"}},
		{"it's 4111 1111 1111 1111 09 27", []string{"4111 1111 1111 1111"}},
		{"4111 1111 1111 1112", nil},       // Luhn fails
		{"1234 5678 9012 3456", nil},       // Luhn fails
		{"order 4111 1111 1111 1111", nil}, // identifier cue, no card cue
		{"order for card 4111 1111 1111 1111", []string{"4111 1111 1111 1111"}},
		{"tracking 1Z999AA10123456784", nil},
		{"0000 0000 0000 0000", nil}, // no network starts with 0
		{"9400100000000000000000", nil},
	})
}

// TestSSN covers formatted and cue-dependent nine-digit SSNs and the
// numbers the SSA never issues.
func TestSSN(t *testing.T) {
	runTable(t, SSN, []detectCase{
		{"my social is 123-45-6789.", []string{"123-45-6789"}},
		{"ssn 078 05 1120", []string{"078 05 1120"}},
		{"social security number 536224417", []string{"536224417"}},
		{"123-45-6789 on file", []string{"123-45-6789"}},
		{"the number 536224417", nil}, // nine digits need an SSN cue
		{"ssn 000-12-3456", nil},
		{"ssn 666-12-3456", nil},
		{"ssn 912-12-3456", nil},
		{"ssn 123-00-3456", nil},
		{"ssn 123-45-0000", nil},
		{"ssn 123-45 6789", nil}, // mixed separators
		{"case number 123-45-6789", nil},
		{"1123-45-67890", nil},
	})
}

// TestIBAN covers grouped and compact IBANs and invalid check digits,
// lengths and countries.
func TestIBAN(t *testing.T) {
	runTable(t, IBAN, []detectCase{
		{"IBAN GB82 WEST 1234 5698 7654 32 thanks", []string{"GB82 WEST 1234 5698 7654 32"}},
		{"DE89370400440532013000.", []string{"DE89370400440532013000"}},
		{"to NO93 8601 1117 947 and BE68 5390 0754 7034 and", []string{"NO93 8601 1117 947", "BE68 5390 0754 7034"}},
		{"lower gb82west12345698765432 ok", []string{"gb82west12345698765432"}},
		{"GB82 WEST 1234 5698 7654 33", nil}, // bad check digits
		{"GB82 WEST 1234 5698 7654", nil},    // too short
		{"XX82 WEST 1234 5698 7654 32", nil}, // unknown country
		{"AB12 and CD34", nil},
	})
}

// TestDateOfBirth covers written and spoken date formats and the birth-cue
// requirement.
func TestDateOfBirth(t *testing.T) {
	runTable(t, DateOfBirth, []detectCase{
		{"I was born on March 3rd, 1985.", []string{"March 3rd, 1985"}},
		{"date of birth 07/14/1962", []string{"07/14/1962"}},
		{"DOB: 1979-11-02", []string{"1979-11-02"}},
		{"my birthday is 5 June 1992", []string{"5 June 1992"}},
		{"born the 3rd of May, 1988", []string{"3rd of May, 1988"}},
		{"born 15.03.1987", []string{"15.03.1987"}},
		{"born on the fourteenth of February nineteen seventy", []string{"fourteenth of February nineteen seventy"}},
		{"born on june third two thousand and four", []string{"june third two thousand and four"}},
		{"the meeting is on March 3rd, 2024", nil},
		{"Born in Ohio. The meeting is on 03/15/2025.", nil}, // cue in another sentence
		{"born 13/13/1985", nil},
		{"born 03/15/1785", nil},
		{"happy birthday!", nil},
	})
}

// TestAddress covers street addresses with units, directions, PO boxes and
// city/state/ZIP tails, and numbers that are not addresses.
func TestAddress(t *testing.T) {
	runTable(t, Address, []detectCase{
		{"I live at 1600 Pennsylvania Avenue, so", []string{"1600 Pennsylvania Avenue"}},
		{"85 Maple Street, Apt 4B, Boston, MA 02118 last", []string{"85 Maple Street, Apt 4B, Boston, MA 02118"}},
		{"ship to 2100 N Highland Ave Apt 12, Los Angeles, CA 90068", []string{"2100 N Highland Ave Apt 12, Los Angeles, CA 90068"}},
		{"It's 48 Willow Court.", []string{"48 Willow Court"}},
		{"at 1234 Elm St.", []string{"1234 Elm St"}},
		{"350 W 42nd St, New York, NY 10036", []string{"350 W 42nd St, New York, NY 10036"}},
		{"5400 Wisconsin Ave NW, Washington, DC 20015", []string{"5400 Wisconsin Ave NW, Washington, DC 20015"}},
		{"PO Box 1234, Dayton, OH 45401", []string{"PO Box 1234, Dayton, OH 45401"}},
		{"900 Broadway, New York, NY 10003", []string{"900 Broadway, New York, NY 10003"}},
		{"The office is on Main Street.", nil},
		{"Room 1205 on the 12th floor", nil},
		{"Gate 4, then turn onto Ocean Drive", nil},
		{"we have 3 dogs", nil},
	})
}

// TestPerson covers cue-based and list-based names and capitalised words
// that are not names.
func TestPerson(t *testing.T) {
	runTable(t, Person, []detectCase{
		{"Hi, this is Maria Gonzalez speaking.", []string{"Maria Gonzalez"}},
		{"my name is Wei Zhang", []string{"Wei Zhang"}},
		{"This is Wei Zhang speaking", []string{"Wei Zhang"}},
		{"Okay Mr. Thompson, thanks", []string{"Thompson"}},
		{"Ask for Dr. Emily Stone.", []string{"Emily Stone"}},
		{"I'm Linda Brown's daughter", []string{"Linda Brown"}},
		{"Hi, it's José Martínez here", []string{"José Martínez"}},
		{"I spoke with Jessica yesterday", []string{"Jessica"}},
		{"Can I speak to Daniel Kim please", []string{"Daniel Kim"}},
		{"John F. Kennedy was president", []string{"John F. Kennedy"}},
		{"Sure, Thank you so much.", nil},
		{"I'm sorry, I'm not sure.", nil},
		{"I'm Calling About The Invoice.", nil},
		{"Monday works, or maybe Friday April 12.", nil},
		{"Apple and Microsoft both offer that.", nil},
		{"Virginia Beach is where we're based.", nil},
		{"We have branches in Austin, Jackson and Charlotte.", nil},
		{"Dear Customer Service,", nil},
		{"Is this the Customer Support line?", nil},
		{"IT and HR, H-A-S-S-A-N", nil},
	})
}

// TestLuhn checks the Luhn implementation against known values.
func TestLuhn(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"79927398713", true},
		{"79927398710", false},
		{"378282246310005", true},
		{"6011111111111117", true},
		{"0", false},
		{"00", true},
		{"", false},
		{"4111-1111", false}, // non-digits are rejected, not skipped
	} {
		if got := luhnValid(c.in); got != c.want {
			t.Errorf("luhnValid(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestMod97 checks IBAN validation and the mod 97-10 remainder.
func TestMod97(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"GB82 WEST 1234 5698 7654 32", true},
		{"GB82WEST12345698765432", true},
		{"gb82 west 1234 5698 7654 32", true},
		{"DE89 3704 0044 0532 0130 00", true},
		{"FR14 2004 1010 0505 0001 3M02 606", true},
		{"MT84 MALT 0110 0001 2345 MTLC AST0 01S", true},
		{"NO93 8601 1117 947", true},
		{"GB82 WEST 1234 5698 7654 33", false},
		{"GB28 WEST 1234 5698 7654 32", false},
		{"GB82 WEST 1234 5698 7654 3", false}, // wrong length
		{"ZZ82 WEST 1234 5698 7654 32", false},
		{"GB8", false},
		{"", false},
	} {
		if got := ibanValid(c.in); got != c.want {
			t.Errorf("ibanValid(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if r := mod97("3214282912345698765432161182"); r != 1 {
		t.Errorf("mod97 = %d, want 1", r)
	}
	if r := mod97("12-3"); r != -1 {
		t.Errorf("mod97 of invalid characters = %d, want -1", r)
	}
}

// TestRedactDiffersOnlyAtSpans checks that Redact keeps every byte outside
// the detected spans, in order, and replaces each span by its label.
func TestRedactDiffersOnlyAtSpans(t *testing.T) {
	texts, _ := loadLabelled(t, "testdata/labelled.jsonl")
	texts = append(texts, "no pii here", "", "Maria Gonzalez and Maria Gonzalez again")
	for _, text := range texts {
		spans := Detect(text)
		got := Redact(text)
		var want strings.Builder
		pos := 0
		for _, s := range spans {
			want.WriteString(text[pos:s.Start])
			want.WriteString("[" + s.Type + "]")
			pos = s.End
		}
		want.WriteString(text[pos:])
		if got != want.String() {
			t.Errorf("Redact(%q) = %q, want %q", text, got, want.String())
		}
		// Walk the output against the input: outside spans identical.
		i, j := 0, 0
		for _, s := range spans {
			if text[i:s.Start] != got[j:j+s.Start-i] {
				t.Fatalf("text before span %v differs in %q", s, got)
			}
			j += s.Start - i
			label := "[" + s.Type + "]"
			if !strings.HasPrefix(got[j:], label) {
				t.Fatalf("span %v not replaced by %s in %q", s, label, got)
			}
			j += len(label)
			i = s.End
		}
		if text[i:] != got[j:] {
			t.Fatalf("tail differs in %q", got)
		}
	}
}

// TestPropagation checks that repeated values are redacted everywhere.
func TestPropagation(t *testing.T) {
	text := "My name is Zed Quux. Yes, Zed Quux. SSN 123-45-6789 or x123-45-6789"
	got := Redact(text)
	want := "My name is [PERSON]. Yes, [PERSON]. SSN [SSN] or x[SSN]"
	if got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}

// TestRedactSpansRobust checks RedactSpans on out-of-range, unsorted,
// overlapping, empty and mid-rune spans.
func TestRedactSpansRobust(t *testing.T) {
	text := "héllo wörld"
	cases := []struct {
		spans []Span
		want  string
	}{
		{nil, text},
		{[]Span{{Start: -5, End: 2, Type: "X"}}, "[X]llo wörld"},                             // clamped, widened past é
		{[]Span{{Start: 8, End: 100, Type: "X"}}, "héllo w[X]"},                              // clamped at end, widened to ö
		{[]Span{{Start: 7, End: 9}, {Start: 0, End: 1, Type: "A"}}, "[A]éllo [REDACTED]rld"}, // unsorted, empty type
		{[]Span{{Start: 0, End: 4, Type: "A"}, {Start: 2, End: 6, Type: "B"}}, "[A] wörld"},  // overlap merged
		{[]Span{{Start: 5, End: 3, Type: "A"}}, text},                                        // empty
	}
	for _, c := range cases {
		if got := RedactSpans(text, c.spans); got != c.want {
			t.Errorf("RedactSpans(%v) = %q, want %q", c.spans, got, c.want)
		}
		if got := RedactSpans(text, c.spans); !utf8.ValidString(got) {
			t.Errorf("RedactSpans(%v) produced invalid UTF-8 %q", c.spans, got)
		}
	}
}

// TestDetectDeterministicAndSorted checks ordering and determinism on a
// sentence with several PII types.
func TestDetectDeterministicAndSorted(t *testing.T) {
	text := "Call (415) 555-0132, email a@b.io, card 4111 1111 1111 1111, this is Maria Gonzalez speaking."
	a, b := Detect(text), Detect(text)
	if len(a) != 4 || len(a) != len(b) {
		t.Fatalf("Detect = %v", a)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("non-deterministic: %v vs %v", a, b)
		}
		if i > 0 && a[i-1].End > a[i].Start {
			t.Fatalf("overlap or unsorted: %v", a)
		}
	}
}
