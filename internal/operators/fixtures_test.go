package operators

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/convoseal/convoseal"
)

// fixture is a sample conversation in testdata/*.json.
type fixture struct {
	TranscriptSID string `json:"transcript_sid"`
	Description   string `json:"description"`
	LanguageCode  string `json:"language_code"`
	Sentences     []struct {
		Channel int    `json:"ch"`
		Text    string `json:"text"`
	} `json:"sentences"`
}

// loadConversation reads testdata/<name>.json as a Conversation, with
// sentence indexes in order and four seconds per sentence.
func loadConversation(t testing.TB, name string) *Conversation {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	conv := &Conversation{TranscriptSID: f.TranscriptSID, LanguageCode: "en-US"}
	if f.LanguageCode != "" {
		conv.LanguageCode = f.LanguageCode
	}
	for i, s := range f.Sentences {
		conv.Sentences = append(conv.Sentences, convoseal.Sentence{SID: "GX" + strconv.Itoa(i), SentenceIndex: i,
			MediaChannel: s.Channel, StartTime: float64(4 * i), EndTime: float64(4*i + 3), Transcript: s.Text, Confidence: ptr(0.95)})
	}
	return conv
}

// fixtureNames lists the sample conversations.
func fixtureNames(t testing.TB) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".json"))
	}
	return names
}
