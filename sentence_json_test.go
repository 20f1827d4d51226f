package convoseal

import (
	"encoding/json"
	"testing"
)

// TestSentencesDocumentJSON: word times are written as strings like the
// sentence's, unknown confidence and missing words as null, and documents
// sealed by earlier versions (word times as numbers, no words key) still read.
func TestSentencesDocumentJSON(t *testing.T) {
	old := `{"transcript_sid":"GT1","sentences":[` +
		`{"sid":"GX1","start_time":"0","end_time":"1.5","transcript":"hi there","confidence":"0.9","words":[{"word":"hi","start_time":0.1,"end_time":0.4}]},` +
		`{"sid":"GX2","start_time":"2","end_time":"3","transcript":"bye","confidence":"1"}]}`
	var doc SentencesDocument
	if err := json.Unmarshal([]byte(old), &doc); err != nil {
		t.Fatal(err)
	}
	if w := doc.Sentences[0].Words; len(w) != 1 || w[0].StartTime != 0.1 || w[0].EndTime != 0.4 {
		t.Fatalf("words %+v", w)
	}
	doc.Sentences[1].Confidence = nil
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"transcript_sid":"GT1","sentences":[` +
		`{"sid":"GX1","sentence_index":0,"media_channel":0,"start_time":"0","end_time":"1.5","transcript":"hi there","confidence":"0.9","words":[{"word":"hi","start_time":"0.1","end_time":"0.4"}]},` +
		`{"sid":"GX2","sentence_index":0,"media_channel":0,"start_time":"2","end_time":"3","transcript":"bye","confidence":null,"words":null}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var again SentencesDocument
	if err := json.Unmarshal(b, &again); err != nil || again.Sentences[0].Words[0].EndTime != 0.4 || again.Sentences[1].Confidence != nil {
		t.Fatalf("round trip: %v %+v", err, again)
	}
	if err := json.Unmarshal([]byte(`{"word":"x","start_time":"soon"}`), new(Word)); err == nil {
		t.Error("a word time that is not a number was accepted")
	}
}
