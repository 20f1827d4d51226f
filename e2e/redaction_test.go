package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// piiCall plants PII of every type the detector knows, plain and obfuscated
// (other separators, full-width and zero-width characters, spelled-out
// digits, a lower-case name), and repeats a name alone in a later sentence.
var piiCall = []string{
	"Thank you for calling Acme, my name is Dana, how can I help?",
	"Hi Dana, my name is Anna Kowalski and I was born on 03/14/1985.",
	"My email is anna.k@example.com, or john.smith＠example.com, and my phone is (415) 555-0132.",
	"My card is 4111 1111 1111 1111 and the other one is 5555.5555.5555.4444.",
	"My social is 123-45-6789 and my IBAN is GB82 WEST 1234 5698 7654 32.",
	"I live at 123 Main Street, and my cell is ４１５５５５０１００.",
	"Or call me on two one two five five five oh one eight seven.",
	"my name is maria garcia by the way, the card is 6011\u200b1111\u200b1111\u200b1117.",
	"Thanks Anna, I'm sorry about the double charge, I will transfer you to a manager.",
	"I want a refund right now, this is ridiculous.",
}

// piiPlanted are the planted values (and digit-only forms an operator might
// normalise them to); none may appear in a redacted artifact.
var piiPlanted = []string{
	"Dana", "Anna", "Kowalski", "03/14/1985", "anna.k@example.com", "john.smith＠example.com", "john.smith",
	"(415) 555-0132", "555-0132", "4111 1111 1111 1111", "4111111111111111", "5555.5555.5555.4444", "5555555555554444",
	"123-45-6789", "123456789", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "123 Main Street",
	"４１５５５５０１００", "4155550100", "two one two five five five oh one eight seven", "2125550187",
	"maria", "garcia", "6011\u200b1111\u200b1111\u200b1117", "6011111111111117",
}

// piiDoc is piiCall as a media document with word timings (word j of
// sentence i from i*10+j to i*10+j+0.5 s).
func piiDoc() map[string]any {
	var sentences []sentenceIn
	for i, text := range piiCall {
		var words []any
		for j, w := range strings.Fields(text) {
			words = append(words, map[string]any{"word": w, "start_time": float64(i*10 + j), "end_time": float64(i*10+j) + 0.5})
		}
		sentences = append(sentences, sentenceIn{1 + i%2, float64(i * 10), float64(i*10 + 9), text, 0.9, words})
	}
	return map[string]any{"sentences": sentences}
}

// redactedSentence is a sentence as both routes serve it.
type redactedSentence struct {
	SentenceIndex int    `json:"sentence_index"`
	Transcript    string `json:"transcript"`
	Words         []struct {
		Word      string  `json:"word"`
		StartTime float64 `json:"start_time,string"` // strings, as the sentence's
		EndTime   float64 `json:"end_time,string"`
	} `json:"words"`
}

// resultParts is the part of an operator result that points into sentences.
type resultParts struct {
	Name             string `json:"name"`
	UtteranceResults []struct {
		UtteranceIndex int `json:"utterance_index"`
		UtteranceParts []struct {
			Text  string `json:"text"`
			Start int    `json:"start"`
			End   int    `json:"end"`
		} `json:"utterance_parts"`
	} `json:"utterance_results"`
}

// TestRedactedArtifactsHoldNoPII: with AutoRedaction and every pre-built
// operator, the redacted sentences and every redacted operator result,
// served plain (server-key Service) and sealed for the customer key
// (/Encrypted), hold none of the planted values; utterance parts index the
// redacted sentence text, and redacted sentences keep the timings of the
// words that are not PII.
func TestRedactedArtifactsHoldNoPII(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	keyed, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("redact-keyed").
		SetAutoRedaction(true).SetEncryptionCredentialSid(cred))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("redact-plain").SetAutoRedaction(true))
	if err != nil {
		t.Fatal(err)
	}
	prebuiltOps, err := c.IntelligenceV2.ListPrebuiltOperator(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{*keyed.Sid, *plain.Sid} {
		for _, op := range prebuiltOps {
			attach(t, s, svc, *op.Sid)
		}
	}
	create := func(svc string) string {
		tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(svc).
			SetChannel(Channel(DataURL(piiDoc()))))
		if err != nil {
			t.Fatal(err)
		}
		if done := WaitTranscript(t, c, *tr.Sid, 60*time.Second); *done.Status != "completed" || !*done.Redaction {
			t.Fatalf("transcript %s, redaction %v", *done.Status, *done.Redaction)
		}
		return *tr.Sid
	}
	keyedTr, plainTr := create(*keyed.Sid), create(*plain.Sid)

	// Each route's redacted sentences and results as JSON, and the
	// unredacted sentences to show the values were there to find.
	type route struct {
		name       string
		sentences  []byte
		results    [][]byte
		unredacted []byte
	}
	var routes []route
	{
		r := route{name: "encrypted"}
		get := func(redacted bool) []byte {
			enc, err := c.IntelligenceV2.FetchEncryptedSentences(keyedTr, (&intelligence.FetchEncryptedSentencesParams{}).SetRedacted(redacted))
			if err != nil {
				t.Fatal(err)
			}
			return SeedDecrypt(t, kf.Private, *enc.Location)
		}
		r.sentences, r.unredacted = get(true), get(false)
		enc, err := c.IntelligenceV2.FetchEncryptedOperatorResults(keyedTr, (&intelligence.FetchEncryptedOperatorResultsParams{}).SetRedacted(true))
		if err != nil {
			t.Fatal(err)
		}
		for _, loc := range *enc.Locations {
			r.results = append(r.results, SeedDecrypt(t, kf.Private, loc))
		}
		routes = append(routes, r)
	}
	{
		r := route{name: "plain"}
		get := func(redacted bool) []byte {
			list, err := c.IntelligenceV2.ListSentence(plainTr, (&intelligence.ListSentenceParams{}).SetRedacted(redacted).SetWordTimestamps(true))
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(map[string]any{"sentences": list})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		r.sentences, r.unredacted = get(true), get(false)
		list, err := c.IntelligenceV2.ListOperatorResult(plainTr, (&intelligence.ListOperatorResultParams{}).SetRedacted(true))
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range list {
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			r.results = append(r.results, b)
		}
		routes = append(routes, r)
	}

	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			if len(r.results) != len(prebuiltOps) {
				t.Fatalf("%d redacted operator results, want %d", len(r.results), len(prebuiltOps))
			}
			unredacted := strings.Join(jsonStrings(t, r.unredacted), "\n")
			for _, v := range []string{"Anna Kowalski", "maria garcia", "４１５５５５０１００", "123-45-6789"} {
				if !strings.Contains(unredacted, v) {
					t.Fatalf("the unredacted sentences lack %q: the test plants nothing", v)
				}
			}
			noPII := func(what string, doc []byte) {
				t.Helper()
				for _, str := range jsonStrings(t, doc) {
					for _, v := range piiPlanted {
						if strings.Contains(str, v) {
							t.Errorf("redacted %s holds %q in %q", what, v, str)
						}
					}
				}
			}
			noPII("sentences", r.sentences)
			var doc struct {
				Sentences []redactedSentence `json:"sentences"`
			}
			if err := json.Unmarshal(r.sentences, &doc); err != nil || len(doc.Sentences) != len(piiCall) {
				t.Fatalf("redacted sentences: %v (%d)", err, len(doc.Sentences))
			}
			// "Hi Dana, my name is Anna Kowalski …": "Hi" and "my" keep their
			// times, "Dana," and "Anna Kowalski" become placeholders.
			w := doc.Sentences[1].Words
			if len(w) < 6 || w[0].Word != "Hi" || w[0].StartTime != 10 || w[1].Word != "[PERSON]" || w[2].Word != "my" || w[2].StartTime != 12 ||
				w[5].Word != "[PERSON]" || w[5].StartTime != 15 || w[5].EndTime != 16.5 {
				t.Errorf("redacted words of sentence 1: %+v", w)
			}
			for _, res := range r.results {
				var p resultParts
				if err := json.Unmarshal(res, &p); err != nil {
					t.Fatal(err)
				}
				noPII(fmt.Sprintf("%s result", p.Name), res)
				for _, ur := range p.UtteranceResults {
					if ur.UtteranceIndex < 0 || ur.UtteranceIndex >= len(doc.Sentences) {
						t.Errorf("%s: utterance_index %d", p.Name, ur.UtteranceIndex)
						continue
					}
					text := doc.Sentences[ur.UtteranceIndex].Transcript
					for _, part := range ur.UtteranceParts {
						if part.Start < 0 || part.End > len(text) || part.Start > part.End || text[part.Start:part.End] != part.Text {
							t.Errorf("%s: utterance part %q [%d:%d] does not index redacted sentence %q", p.Name, part.Text, part.Start, part.End, text)
						}
					}
				}
			}
		})
	}
}

// jsonStrings returns every string (keys and values) in a JSON document.
func jsonStrings(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return out
}
