package operators

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/jonreiter/govader"
)

// Sentiment labels, in the order results list them.
var sentimentLabels = []string{"positive", "negative", "neutral", "mixed"}

// newSentiment returns the Sentiment Analysis runner: the language model
// when one is configured, else the local VADER scorer.
func newSentiment(deps Deps) Runner {
	if deps.LLM != nil {
		return runFunc(func(ctx context.Context, conv *Conversation) (*Result, error) {
			return llmSentiment(ctx, deps.LLM, conv)
		})
	}
	return runFunc(func(_ context.Context, conv *Conversation) (*Result, error) {
		return localSentiment(conv), nil
	})
}

// callCentreNeutral are VADER lexicon words that carry no sentiment in
// service calls ("how can I help", "customer care", "credit card", "no, I
// haven't", "you're welcome"), removed from the lexicon.
var callCentreNeutral = strings.Fields(`like help please ok okay yes yeah yep sure alright well pretty kind care
support credit free save interest security protect welcome no pay honestly chance`)

// vader is the shared VADER analyser (read-only after construction, so safe
// for concurrent use); building it parses the 7,500-word lexicon (~25 ms).
var vader = sync.OnceValue(func() *govader.SentimentIntensityAnalyzer {
	a := govader.NewSentimentIntensityAnalyzer()
	for _, w := range callCentreNeutral {
		delete(a.Lexicon, w)
	}
	return a
})

// Thresholds on VADER's compound score (−1…1).
const (
	sentimentMinimum = 0.05 // |compound| below this is neutral (VADER's own threshold)
	sentimentClear   = 0.5  // a clearly positive or negative sentence
	neutralBaseline  = 0.08 // the mean |compound| per sentence below which a conversation is neutral
	agentWeight      = 0.5  // the agent's sentences count half the customer's
)

// politeRules are courtesy formulas, which say nothing about how a call
// went: removed from the agent's sentences before scoring (with the
// greetings and closings of fillerRules, removed from everyone's).
var politeRules = []rule{mkRule("polite", 1, anyone, false,
	"thank|thanks you? so? very? much?", "i am sorry|apologize", "sorry to hear|about|for that", "i understand",
	"happy|glad|pleased to help|assist", "no problem", "of course", "you are welcome")}

// ackWords make up sentences that only acknowledge ("Okay, thanks.").
var ackWords = wordSet(`okay ok thanks thank you yes yeah yep sure alright right bye goodbye hello hi hey uh um mhm
so well cool got it`)

// localSentiment scores each sentence with VADER (valence lexicon,
// negation, intensifiers, "but", capitals, punctuation), courtesy formulas
// and bare acknowledgements set aside, and aggregates: positive and
// negative evidence are the summed compound scores; neutral evidence is a
// baseline per sentence, so a conversation with little opinion is neutral;
// "mixed" (twice the weaker side) competes when the conversation has both
// clearly positive and clearly negative sentences. The agent's sentences
// count half.
func localSentiment(conv *Conversation) *Result {
	a := vader()
	r := conversationRoles(conv)
	var pos, neg, total float64
	var clearPos, clearNeg bool
	for _, s := range conv.Sentences {
		t := strings.TrimSpace(s.Transcript)
		if t == "" {
			continue
		}
		isAgent := r.channels >= 2 && s.MediaChannel == r.agent
		w := 1.0
		if isAgent {
			w = agentWeight
		}
		c := a.PolarityScores(sentimentText(t, isAgent)).Compound
		switch {
		case c >= sentimentMinimum:
			pos += w * c
		case c <= -sentimentMinimum:
			neg += w * -c
		}
		total += w
		clearPos = clearPos || c >= sentimentClear
		clearNeg = clearNeg || c <= -sentimentClear
	}
	mixed := 0.0
	if clearPos && clearNeg {
		mixed = 2 * min(pos, neg)
	}
	neu := neutralBaseline * total
	if pos+neg+neu+mixed == 0 {
		neu = 1
	}
	return classifyResult(sentimentLabels, map[string]float64{"positive": pos, "negative": neg, "neutral": neu, "mixed": mixed})
}

// sentimentText returns the part of a sentence that carries sentiment:
// greetings, closings and (for the agent) courtesy formulas blanked out, and
// nothing at all for a bare acknowledgement.
func sentimentText(t string, agent bool) string {
	toks := tokenize(t)
	ack := true
	for _, tk := range toks {
		ack = ack && ackWords[tk.norm]
	}
	if ack {
		return ""
	}
	hits := matchRules(toks, fillerRules)
	if agent {
		hits = append(hits, matchRules(toks, politeRules)...)
	}
	if len(hits) == 0 {
		return t
	}
	b := []byte(t)
	for _, h := range hits {
		for _, p := range h.parts {
			for i := p.Start; i < p.End; i++ {
				b[i] = ' '
			}
		}
	}
	return string(b)
}

// sentimentSchema is the JSON Schema of the language model's answer.
var sentimentSchema = json.RawMessage(`{"type":"object","required":["label","probabilities"],"additionalProperties":false,` +
	`"properties":{"label":{"type":"string","enum":["positive","negative","neutral","mixed"]},` +
	`"probabilities":{"type":"object","required":["positive","negative","neutral","mixed"],"additionalProperties":false,` +
	`"properties":{"positive":{"type":"number","minimum":0,"maximum":1},"negative":{"type":"number","minimum":0,"maximum":1},` +
	`"neutral":{"type":"number","minimum":0,"maximum":1},"mixed":{"type":"number","minimum":0,"maximum":1}}}}}`)

const sentimentSystem = `You classify the overall sentiment of a customer-service conversation, mostly as the customer expresses it. ` +
	`Answer with JSON: "label" is one of positive, negative, neutral or mixed (mixed: clearly positive and clearly negative ` +
	`parts, neither dominating); "probabilities" gives each label's probability, summing to 1.`

// errBadAnswer is returned when a language model's answer cannot be used.
var errBadAnswer = errors.New("the language model returned an answer that is not valid for this operator")

// llmSentiment asks the language model for the sentiment.
func llmSentiment(ctx context.Context, m LLM, conv *Conversation) (*Result, error) {
	out, err := m.Complete(ctx, sentimentSystem+dataRule, conversationMessage(conv), sentimentSchema)
	if err != nil {
		return nil, fmt.Errorf("sentiment analysis: %w", err)
	}
	var ans struct {
		Label         string             `json:"label"`
		Probabilities map[string]float64 `json:"probabilities"`
	}
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		return nil, errBadAnswer
	}
	known := false
	for _, l := range sentimentLabels {
		known = known || l == ans.Label
	}
	if !known {
		return nil, errBadAnswer
	}
	probs := map[string]float64{}
	total := 0.0
	for _, l := range sentimentLabels {
		p := ans.Probabilities[l]
		if math.IsNaN(p) || p < 0 {
			p = 0
		}
		probs[l] = p
		total += p
	}
	if total == 0 {
		probs[ans.Label] = 1
	}
	res := classifyResult(sentimentLabels, probs)
	// The model's label stands even if its probabilities disagree.
	res.PredictedLabel = ptr(ans.Label)
	res.PredictedProbability = ptr(res.LabelProbabilities[ans.Label])
	return res, nil
}
