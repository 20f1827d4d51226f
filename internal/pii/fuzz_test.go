package pii

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRedact checks the invariants of Detect and Redact on arbitrary input:
// spans lie within the text, are sorted and non-overlapping, start and end
// on UTF-8 sequence boundaries, carry their own text and a known type;
// detection is deterministic; Redact equals RedactSpans over the detected
// spans, keeps valid UTF-8 valid, and its output contains no span text.
func FuzzRedact(f *testing.F) {
	if fh, err := os.Open("testdata/labelled.jsonl"); err == nil {
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l labelled
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				f.Add(l.Text)
			}
		}
		fh.Close()
	}
	for _, s := range []string{
		"", " ", "\x00", "\xff\xfe", "é", "[EMAIL]", "a@b.co", "+", "+1", "(", "1-",
		"Mr.", "Dr", "I'm", "my name is", "born 1/1/1900", "GB82 WEST 1234 5698 7654 32",
		"4111 1111 1111 1111 4111 1111 1111 1111", "123-45-6789123-45-6789",
		"Maria\xc3Gonzalez", "José\x80 Martínez", "1 A St, B, CA 00000", "aaaa",
		strings.Repeat("9", 100), strings.Repeat("Maria Gonzalez ", 20),
	} {
		f.Add(s)
	}
	known := map[string]bool{}
	for _, t := range Types {
		known[t] = true
	}
	f.Fuzz(func(t *testing.T, text string) {
		spans := Detect(text)
		// Rune boundaries as utf8.DecodeRuneInString walks the text.
		bound := make([]bool, len(text)+1)
		for i := 0; i < len(text); {
			bound[i] = true
			_, w := utf8.DecodeRuneInString(text[i:])
			i += w
		}
		bound[len(text)] = true
		prevEnd := 0
		for i, s := range spans {
			if s.Start < 0 || s.End > len(text) || s.Start >= s.End {
				t.Fatalf("span %d out of bounds: %+v (len %d)", i, s, len(text))
			}
			if s.Start < prevEnd {
				t.Fatalf("span %d overlaps or is unsorted: %+v", i, spans)
			}
			prevEnd = s.End
			if !bound[s.Start] || !bound[s.End] {
				t.Fatalf("span %d not on rune boundaries: %+v in %q", i, s, text)
			}
			if s.Text != text[s.Start:s.End] {
				t.Fatalf("span %d text %q != %q", i, s.Text, text[s.Start:s.End])
			}
			if !known[s.Type] {
				t.Fatalf("span %d has unknown type %q", i, s.Type)
			}
		}
		again := Detect(text)
		if len(again) != len(spans) {
			t.Fatalf("non-deterministic: %v vs %v", spans, again)
		}
		for i := range again {
			if again[i] != spans[i] {
				t.Fatalf("non-deterministic: %v vs %v", spans, again)
			}
		}
		out := Redact(text)
		if out != RedactSpans(text, spans) {
			t.Fatalf("Redact differs from RedactSpans(Detect)")
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("Redact made invalid UTF-8: %q", out)
		}
		for _, s := range spans {
			if strings.Contains(out, s.Text) {
				t.Fatalf("Redact output %q still contains span text %q", out, s.Text)
			}
		}
	})
}
