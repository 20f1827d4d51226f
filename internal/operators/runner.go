package operators

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/convoseal/convoseal"
)

// runFunc adapts a function to Runner.
type runFunc func(ctx context.Context, conv *Conversation) (*Result, error)

// Run calls f.
func (f runFunc) Run(ctx context.Context, conv *Conversation) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f(ctx, conv)
}

// prebuiltRunners make the runners of the pre-built operators, by catalog
// name.
var prebuiltRunners = map[string]func(Deps) Runner{
	"Sentiment Analysis":         newSentiment,
	"Summarization":              newSummarization,
	"Entity Recognition":         func(Deps) Runner { return runFunc(runEntities) },
	"Agent Introduction":         func(Deps) Runner { return runFunc(runAgentIntroduction) },
	"Escalation Request":         func(Deps) Runner { return runFunc(runEscalation) },
	"Recording Disclosure":       func(Deps) Runner { return runFunc(runRecordingDisclosure) },
	"Do Not Contact Me":          func(Deps) Runner { return runFunc(runDoNotContact) },
	"Password Reset":             func(Deps) Runner { return runFunc(runPasswordReset) },
	"Voicemail Detection":        func(Deps) Runner { return runFunc(runVoicemail) },
	"Unavailable Party Detector": func(Deps) Runner { return runFunc(runUnavailable) },
	"Outbound Call Disposition":  func(Deps) Runner { return runFunc(runDisposition) },
	"Call Transfer":              func(Deps) Runner { return runFunc(runTransfer) },
	"Non English Call":           func(Deps) Runner { return runFunc(runNonEnglish) },
	"PII Extraction":             func(Deps) Runner { return runFunc(runPII) },
}

// Custom operator type names (catalog typeDefs).
const (
	customPhraseMatching = "phrase-matching"
	customGenerative     = "generative"
)

// New returns the runner for an operator definition: pre-built ones by their
// catalog name (o.AccountSID == ""; the catalog SID is accepted too), custom
// ones by o.OperatorType ("phrase-matching", "generative") with o.Config.
//
// Pre-built operators run locally and deterministically, except Sentiment
// Analysis and Summarization, which use deps.LLM when it is set. Errors
// never contain conversation content.
func New(o *convoseal.Operator, deps Deps) (Runner, error) {
	if o == nil {
		return nil, errors.New("no operator definition")
	}
	if o.AccountSID == "" {
		if mk, ok := prebuiltRunners[o.FriendlyName]; ok {
			return mk(deps), nil
		}
		for name, mk := range prebuiltRunners {
			if o.SID != "" && o.SID == stableSID(convoseal.PrefixOperator, name) {
				return mk(deps), nil
			}
		}
		return nil, fmt.Errorf("unknown pre-built operator %q", o.FriendlyName)
	}
	switch o.OperatorType {
	case customPhraseMatching:
		return newPhraseMatching(o.Config)
	case customGenerative:
		return newGenerative(o.Config, deps)
	}
	return nil, fmt.Errorf("operators of type %q cannot be run", o.OperatorType)
}

// roles tells agent and customer channels apart. Sentences carry no
// participant roles, so the agent is taken to be the channel that speaks
// first — unless that first turn is a bare answer ("Hello?") and another
// channel then introduces itself, as on outbound calls, or a voicemail
// greeting, after which the other channel is the agent.
type roles struct {
	agent    int
	channels int // distinct media channels that speak
}

// conversationRoles works out the roles of conv's channels.
func conversationRoles(conv *Conversation) roles {
	seen := map[int]bool{}
	first := -1
	for i, s := range conv.Sentences {
		if strings.TrimSpace(s.Transcript) != "" {
			seen[s.MediaChannel] = true
			if first < 0 {
				first = i
			}
		}
	}
	r := roles{channels: len(seen)}
	if first < 0 {
		return r
	}
	r.agent = conv.Sentences[first].MediaChannel
	if r.channels < 2 {
		return r
	}
	// The first turn, and the first sentence of the other side.
	turnEnd, other := first, -1
	for i := first; i < len(conv.Sentences); i++ {
		if conv.Sentences[i].MediaChannel != r.agent && strings.TrimSpace(conv.Sentences[i].Transcript) != "" {
			other = i
			break
		}
		turnEnd = i
	}
	if other < 0 {
		return r
	}
	greeting := false
	for _, s := range conv.Sentences[first : turnEnd+1] {
		toks := tokenize(s.Transcript)
		greeting = greeting || len(matchRules(toks, voicemailStrong)) > 0 || len(matchRules(toks, voicemailGreeting)) > 0
	}
	switch {
	case greeting:
		r.agent = conv.Sentences[other].MediaChannel
	case len(tokenize(conv.Sentences[first].Transcript)) <= 3 && turnEnd == first &&
		len(matchRules(tokenize(conv.Sentences[other].Transcript), introRules)) > 0:
		r.agent = conv.Sentences[other].MediaChannel
	}
	return r
}

// isAgent reports whether channel ch is the agent's. With a single channel
// (a mono recording) every sentence may be anyone's.
func (r roles) isAgent(ch int) bool { return r.channels < 2 || ch == r.agent }

// isCustomer reports whether channel ch is a customer's (see isAgent).
func (r roles) isCustomer(ch int) bool { return r.channels < 2 || ch != r.agent }

// speakerLabel names channel ch for a language model prompt.
func (r roles) speakerLabel(ch int) string {
	if r.channels == 2 {
		if ch == r.agent {
			return "Agent"
		}
		return "Customer"
	}
	return "Speaker " + strconv.Itoa(ch)
}

// round4 rounds p to four decimals, as results report probabilities.
func round4(p float64) float64 { return math.Round(p*1e4) / 1e4 }

func ptr[T any](v T) *T { return &v }

// classifyResult is a conversation-classify result whose predicted label is
// the most probable of probs (normalised to sum to 1, ties going to the
// label listed first in order).
func classifyResult(order []string, probs map[string]float64) *Result {
	total := 0.0
	for _, l := range order {
		total += max(0, probs[l])
	}
	out := make(map[string]float64, len(order))
	best, bestP := order[0], -1.0
	sum := 0.0
	for i, l := range order {
		p := 1 / float64(len(order))
		if total > 0 {
			p = max(0, probs[l]) / total
		}
		p = round4(p)
		if i == len(order)-1 {
			p = round4(1 - sum) // the rounded probabilities still sum to 1
		}
		sum += p
		out[l] = p
		if p > bestP {
			best, bestP = l, p
		}
	}
	return &Result{OperatorType: TypeConversationClassify, PredictedLabel: ptr(best), PredictedProbability: ptr(bestP),
		LabelProbabilities: out}
}

// Labels of yes/no classifiers.
const (
	labelYes = "yes"
	labelNo  = "no"
)

// yesNoResult is a yes/no conversation-classify result where "yes" has
// probability pYes; evidence lists the sentences that support "yes".
func yesNoResult(pYes float64, evidence []UtteranceResult) *Result {
	res := classifyResult([]string{labelYes, labelNo}, map[string]float64{labelYes: pYes, labelNo: 1 - pYes})
	if *res.PredictedLabel == labelYes {
		res.UtteranceResults = evidence
	}
	return res
}
