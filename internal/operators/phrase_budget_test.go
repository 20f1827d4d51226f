package operators

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/convoseal/convoseal"
)

// TestPhraseMatchingWorkBounded: a phrase-matching operator with many fuzzy
// phrases over a huge transcript fails with a clear reason instead of
// running for minutes; the same operator on an ordinary transcript works.
func TestPhraseMatchingWorkBounded(t *testing.T) {
	phrases := make([]string, 500)
	for i := range phrases {
		phrases[i] = fmt.Sprintf("refundable purchase number%d arrangement", i)
	}
	cfg, _ := json.Marshal(map[string]any{"phrases": phrases, "match_type": "fuzzy"})
	r, err := newPhraseMatching(cfg)
	if err != nil {
		t.Fatal(err)
	}
	big := &Conversation{TranscriptSID: "GTbig"}
	line := strings.Repeat("someone wanted arrangements refundables purchased quickly ", 50)
	for i := range 200 { // 200 sentences × 350 words = 70,000 words
		big.Sentences = append(big.Sentences, convoseal.Sentence{SentenceIndex: i, MediaChannel: 1, Transcript: line})
	}
	_, err = r.Run(context.Background(), big)
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("huge transcript: err = %v, want a too-long failure", err)
	}
	small := &Conversation{TranscriptSID: "GTsmall", Sentences: []convoseal.Sentence{{MediaChannel: 1, Transcript: "a refundable purchase number7 arrangement please"}}}
	res, err := r.Run(context.Background(), small)
	if err != nil || res.ExtractMatch == nil || !*res.ExtractMatch {
		t.Fatalf("ordinary transcript: %v %+v", err, res)
	}
}
