package operators

import (
	"context"
	"strings"
)

// Phrase-rule classifiers: the pre-built operators that recognise what was
// said from phrase patterns (see pattern for the syntax), matched with fuzzy
// tolerance for longer words, restricted to the agent's or the customer's
// channel where that matters, and voided by a negation just before them
// where that matters ("I don't want a manager").

// who restricts a rule to a side of the conversation.
type who uint8

const (
	anyone who = iota
	agentSide
	customerSide
)

// rule is a set of patterns that signal one label with a probability.
type rule struct {
	label     string
	prob      float64
	who       who
	negatable bool       // a negation just before the match voids it
	also      []*pattern // if set, one of these must match the sentence too
	pats      []*pattern
}

// mkRule builds a rule from pattern sources (fuzzy matching on).
func mkRule(label string, prob float64, w who, negatable bool, pats ...string) rule {
	r := rule{label: label, prob: prob, who: w, negatable: negatable}
	for _, p := range pats {
		r.pats = append(r.pats, compilePattern(p, true))
	}
	return r
}

// withAlso returns r requiring one of the patterns also to match.
func (r rule) withAlso(pats ...string) rule {
	for _, p := range pats {
		r.also = append(r.also, compilePattern(p, true))
	}
	return r
}

// hit is one sentence's evidence for one label.
type hit struct {
	label string
	prob  float64
	parts []UtterancePart
}

// matchRules matches the rules against one sentence's tokens and returns
// the best evidence per label, in rule order. Speaker restrictions (rule.who)
// are the caller's to apply.
func matchRules(toks []token, rules []rule) []hit {
	var hits []hit
	for ri := range rules {
		r := &rules[ri]
		best := 0.0
		var spans []match
		for _, p := range r.pats {
			for _, m := range p.findAll(toks) {
				if r.negatable && negated(toks, m.tokStart) {
					continue
				}
				spans = append(spans, m)
				best = max(best, m.score)
			}
		}
		if len(spans) == 0 || !alsoMatches(toks, r) {
			continue
		}
		h := hit{label: r.label, prob: round4(r.prob * best)}
		for _, m := range spans {
			h.parts = appendPart(h.parts, m.start, m.end)
		}
		merged := false
		for i := range hits {
			if hits[i].label == h.label {
				if h.prob > hits[i].prob {
					hits[i].prob = h.prob
				}
				for _, p := range h.parts {
					hits[i].parts = appendPart(hits[i].parts, p.Start, p.End)
				}
				merged = true
			}
		}
		if !merged {
			hits = append(hits, h)
		}
	}
	return hits
}

// alsoMatches reports whether r's co-occurrence condition holds.
func alsoMatches(toks []token, r *rule) bool {
	if len(r.also) == 0 {
		return true
	}
	for _, p := range r.also {
		for _, m := range p.findAll(toks) {
			if !r.negatable || !negated(toks, m.tokStart) {
				return true
			}
		}
	}
	return false
}

// appendPart adds the span [start, end), merged with a part it overlaps;
// Text is filled in by the caller that has the sentence.
func appendPart(parts []UtterancePart, start, end int) []UtterancePart {
	for i, p := range parts {
		if start < p.End && p.Start < end { // overlapping: merge
			parts[i].Start, parts[i].End = min(p.Start, start), max(p.End, end)
			return parts
		}
	}
	return append(parts, UtterancePart{Start: start, End: end})
}

// scan matches rules against every sentence of conv and returns one
// utterance result per sentence and label, in sentence order.
func scan(conv *Conversation, r roles, rules []rule) []UtteranceResult {
	var out []UtteranceResult
	for _, s := range conv.Sentences {
		var applicable []rule
		for _, rl := range rules {
			if rl.who == anyone || (rl.who == agentSide && r.isAgent(s.MediaChannel)) ||
				(rl.who == customerSide && r.isCustomer(s.MediaChannel)) {
				applicable = append(applicable, rl)
			}
		}
		if len(applicable) == 0 {
			continue
		}
		for _, h := range matchRules(tokenize(s.Transcript), applicable) {
			for i := range h.parts {
				h.parts[i].Text = s.Transcript[h.parts[i].Start:h.parts[i].End]
			}
			out = append(out, UtteranceResult{UtteranceIndex: s.SentenceIndex, MediaChannel: s.MediaChannel,
				Label: h.label, Probability: h.prob, UtteranceParts: h.parts})
		}
	}
	return out
}

// maxProb returns the highest probability among results with label (any
// label if empty).
func maxProb(rs []UtteranceResult, label string) float64 {
	p := 0.0
	for _, r := range rs {
		if label == "" || r.Label == label {
			p = max(p, r.Probability)
		}
	}
	return p
}

// withLabel returns the results with label.
func withLabel(rs []UtteranceResult, label string) []UtteranceResult {
	var out []UtteranceResult
	for _, r := range rs {
		if r.Label == label {
			out = append(out, r)
		}
	}
	return out
}

// noEvidence is the probability of "yes" when no phrase was found.
const noEvidence = 0.05

// yesNoFromRules runs a yes/no classifier defined by rules.
func yesNoFromRules(conv *Conversation, rules []rule) *Result {
	ev := scan(conv, conversationRoles(conv), rules)
	return yesNoResult(max(noEvidence, maxProb(ev, "")), ev)
}

// utteranceResult is an utterance-classify result of the matched sentences.
func utteranceResult(ev []UtteranceResult) *Result {
	if ev == nil {
		ev = []UtteranceResult{}
	}
	return &Result{OperatorType: TypeUtteranceClassify, UtteranceMatch: ptr(len(ev) > 0), UtteranceResults: ev}
}

// Agent Introduction.

var introRules = []rule{
	mkRule(labelYes, 0.95, agentSide, false,
		"my name is|was {name}", "my name is",
		"this is {first}", "this is {name} from|with|at|speaking|here|calling",
		"you are speaking|talking with|to {name}", "you are speaking|talking with|to",
		"{first} speaking", "{first} here from|with|at|calling",
		"i am {first}", "i am {name} from|with|at|calling|and|your",
		"my first? name is|was {name}"),
}

func runAgentIntroduction(_ context.Context, conv *Conversation) (*Result, error) {
	return yesNoFromRules(conv, introRules), nil
}

// Escalation Request.

var escalationRules = []rule{
	mkRule(labelYes, 0.95, customerSide, true, "a|the|your|some|another|ur manager|supervisor|superior|boss|supervisors|managers").
		withAlso("speak|talk|get|want|need|request|transfer|connect|put|escalate|see|give|bring|let|demand|like|please|now"),
	mkRule(labelYes, 0.9, customerSide, true, "manager|supervisor please|now|right", "manager|supervisor on the phone|line"),
	mkRule(labelYes, 0.9, customerSide, true, "someone|somebody|anyone|person higher up",
		"someone|somebody|anyone|person above you", "someone|somebody|anyone|person in charge",
		"higher up|authority", "escalate|escalated|escalating|escalation", "corporate office|headquarters"),
}

func runEscalation(_ context.Context, conv *Conversation) (*Result, error) {
	return yesNoFromRules(conv, escalationRules), nil
}

// Recording Disclosure.

var recordingRules = []rule{
	mkRule(labelYes, 0.95, anyone, false,
		"call|calls|conversation|conversations|line|session may|might|will|can|could|is|are be? being? recorded|monitored|taped",
		"recorded|monitored and|or? recorded|monitored? for quality|training|compliance|record",
		"we|i are|am|will|do? recording|record|monitoring|monitor|tape|taping all? this|these|our|your|the? calls|call|conversation|conversations",
		"being recorded"),
}

func runRecordingDisclosure(_ context.Context, conv *Conversation) (*Result, error) {
	return yesNoFromRules(conv, recordingRules), nil
}

// Do Not Contact Me.

const labelDoNotContact = "do-not-contact"

var doNotContactRules = []rule{
	mkRule(labelDoNotContact, 0.95, customerSide, false,
		"stop|quit calling|texting|emailing|contacting|messaging|phoning|bothering|harassing",
		"take|remove|delete|get|scratch me|us|my|our number|name|email|details|information? off|from your|the|this|that|their|all? calling|call|mailing|contact|phone|marketing|email|sales|lists? list|lists",
		"do not call|contact|text|email|phone|message me|us|this|here|my|our|again",
		"do not call|contact list|registry",
		"never call|contact|text|email me|us|this|here|again",
		"unsubscribe|unsubscribed", "opt me|us? out",
		"no more calls|texts|emails|messages",
		"stop sending me|us", "do not want|wish to be contacted|called|emailed|texted",
		"do not want any? more? calls|emails|texts|messages"),
	mkRule(labelDoNotContact, 0.75, customerSide, false, "leave me|us alone"),
}

func runDoNotContact(_ context.Context, conv *Conversation) (*Result, error) {
	return utteranceResult(scan(conv, conversationRoles(conv), doNotContactRules)), nil
}

// Password Reset.

const labelPasswordReset = "password-reset"

var passwordRules = []rule{
	mkRule(labelPasswordReset, 0.95, anyone, false,
		"reset|resetting|change|changing|update|recover|forgot|forget|forgotten|lost|new|unlock|retrieve|remember|create my|the|your|a|his|her? account|online|new|current|old? password|passcode|passphrase|pin|login|credentials",
		"password|passcode|pin reset|change|recovery|link|expired",
		"locked out", "locked me|us out", "account is|got|has|was been? locked"),
	mkRule(labelPasswordReset, 0.8, anyone, false,
		"password|passcode|pin is|does|was not? working|work|expired|incorrect|wrong|invalid|rejected",
		"reset link|email|code", "can|could not log|sign|get in|into|on", "cannot|unable to? log|sign|get in|into|on"),
}

func runPasswordReset(_ context.Context, conv *Conversation) (*Result, error) {
	return utteranceResult(scan(conv, conversationRoles(conv), passwordRules)), nil
}

// Voicemail Detection.

var voicemailStrong = []rule{
	mkRule(labelYes, 0.95, anyone, false,
		"leave|record a|your|me|us? message|name|number after|at the? tone|beep",
		"after the tone|beep", "at the tone|beep",
		"not available to take|answer your|the|my|this? call|calls|phone",
		"can|could not come|get to the phone", "cannot come|get to the phone", "can|could|cannot not? answer the phone",
		"mailbox|voicemail|inbox is full", "voice mailbox",
		"leave your name|number and|name? number|message|a",
		"please leave a|your message",
		"the person|party|number|subscriber you are|have calling|called|dialed|reached|trying to? reach? is|are not? available|unavailable",
		"when you are finished recording", "finished recording", "press pound|hash", "record your message"),
}

// voicemailGreeting is how a voicemail greeting starts.
var voicemailGreeting = []rule{mkRule(labelYes, 0.6, anyone, false, "you have reached")}

var voicemailWeak = []rule{
	mkRule(labelYes, 0.6, anyone, false,
		"you have reached", "voicemail|voicemails", "voice mail",
		"get back to you as soon as possible|i|we|can", "return your call"),
}

func runVoicemail(_ context.Context, conv *Conversation) (*Result, error) {
	return voicemailResult(conv), nil
}

// voicemailResult combines greeting phrases with the call's shape: a
// voicemail has one side talking, or two monologues (greeting, message).
func voicemailResult(conv *Conversation) *Result {
	r := conversationRoles(conv)
	ev := scan(conv, r, append(append([]rule{}, voicemailStrong...), voicemailWeak...))
	p := maxProb(ev, "")
	turns, n := speakerTurns(conv)
	oneSided := n > 0 && n <= 8 && (r.channels == 1 || turns <= 2)
	switch {
	case p > 0 && oneSided:
		p = 1 - (1-p)*0.5
	case p == 0 && oneSided:
		p = 0.55
	case p > 0 && p < 0.9 && turns >= 4:
		p *= 0.5 // "voicemail" mentioned in a real conversation
	}
	return yesNoResult(max(noEvidence, round4(p)), ev)
}

// speakerTurns counts speaker turns and non-empty sentences.
func speakerTurns(conv *Conversation) (turns, sentences int) {
	last := -1
	for _, s := range conv.Sentences {
		if strings.TrimSpace(s.Transcript) == "" {
			continue
		}
		sentences++
		if s.MediaChannel != last {
			turns++
			last = s.MediaChannel
		}
	}
	return turns, sentences
}

// Unavailable Party Detector.

var unavailableRules = []rule{
	mkRule(labelYes, 0.9, anyone, false,
		"he|she|they|{name} is|are not here|in|available|around|home|reachable|back",
		"he|she|they|{name} is|are out of the? office|town|country",
		"he|she|they|{name} is|are out today|sick",
		"he|she|they|{name} is|are on vacation|leave|holiday|lunch|break",
		"he|she|they|{name} is|are in a|an meeting|appointment",
		"he|she|they|{name} is|are away|unavailable|asleep|sleeping",
		"he|she|they|{name} is|are on another|the other? call|line|phone",
		"he|she|they|{name} just? stepped|went out|away",
		"take a message", "out of the office"),
}

func runUnavailable(_ context.Context, conv *Conversation) (*Result, error) {
	return yesNoFromRules(conv, unavailableRules), nil
}

// Call Transfer.

var transferRules = []rule{
	mkRule(labelYes, 0.95, anyone, true,
		"transferring|forwarding|routing|connecting you", "transferring|forwarding|routing your call",
		"transfer|forward|route you", "transfer|forward|route your call", "connect you to|with|through|over|now",
		"put|patch you through", "you are|have being|been transferred|forwarded", "you are being connected",
		"hold while i|we transfer|connect"),
}

func runTransfer(_ context.Context, conv *Conversation) (*Result, error) {
	return yesNoFromRules(conv, transferRules), nil
}

// Outbound Call Disposition.

// Disposition labels, in priority order: the first label with enough
// evidence wins.
var dispositionLabels = []string{"no-answer", "voicemail", "wrong-number", "sale", "not-interested",
	"unavailable", "callback-requested", "connected"}

var dispositionRules = []rule{
	mkRule("wrong-number", 0.95, anyone, true, "wrong number", "you have|got the wrong", "wrong person"),
	mkRule("wrong-number", 0.9, anyone, false,
		"no one|nobody|noone here? by|with that|this name", "no one|nobody|noone here? named|called",
		"do|does not know|have anyone|anybody by|named|called|with", "does|do not live|work here|there"),
	mkRule("sale", 0.9, anyone, true,
		"order|purchase|payment|subscription|upgrade|plan|policy is|has been? confirmed|placed|complete|completed|processed|through|successful|active",
		"thank|thanks you? for your|the purchase|order",
		"sign|signed me|us up", "welcome aboard", "you are|have been? all? signed up",
		"you are|have been? all? enrolled|registered", "confirmation number for your|the order|purchase"),
	mkRule("sale", 0.85, customerSide, true,
		"i|we will take it|them|that|one|the|both",
		"i|we would like to buy|purchase|order|upgrade|subscribe|sign",
		"i|we want to buy|purchase|order|upgrade|subscribe|sign", "let us do it|this"),
	mkRule("not-interested", 0.9, customerSide, false, "not interested", "no interest", "not looking for",
		"stop calling", "take me off", "do not call me|again", "do not need|want it|that|this|any|anything"),
	mkRule("not-interested", 0.6, customerSide, true, "no thank|thanks you?", "not right now", "not today"),
	mkRule("callback-requested", 0.85, customerSide, true,
		"call|ring|try me|us? back later|tomorrow|another|next|in|after|on|this|at|when|some",
		"call|ring me|us later|tomorrow|next|another|on|after|this|in|at|back",
		"better time to call|reach|talk", "busy right now", "busy at the moment", "in the middle of something"),
	mkRule("callback-requested", 0.75, anyone, true, "call|ring you|me back", "better time to call|reach|talk"),
}

func runDisposition(_ context.Context, conv *Conversation) (*Result, error) {
	r := conversationRoles(conv)
	ev := scan(conv, r, dispositionRules)
	score := map[string]float64{}
	for _, e := range ev {
		score[e.Label] = max(score[e.Label], e.Probability)
	}
	words := 0
	for _, s := range conv.Sentences {
		words += len(tokenize(s.Transcript))
	}
	if words < 3 {
		score["no-answer"] = 0.9
	}
	if vm := voicemailResult(conv); *vm.PredictedLabel == labelYes {
		score["voicemail"] = *vm.PredictedProbability
		ev = append(ev, relabel(vm.UtteranceResults, "voicemail")...)
	}
	if un := yesNoFromRules(conv, unavailableRules); *un.PredictedLabel == labelYes {
		score["unavailable"] = *un.PredictedProbability
		ev = append(ev, relabel(un.UtteranceResults, "unavailable")...)
	}
	if r.channels >= 2 {
		score["connected"] = 0.7
	} else {
		score["connected"] = 0.5
	}
	winner := "connected"
	for _, l := range dispositionLabels {
		if score[l] >= 0.5 {
			winner = l
			break
		}
	}
	// The winner keeps its own probability; the rest share what is left in
	// proportion to their evidence.
	pw := score[winner]
	rest := 0.0
	for _, l := range dispositionLabels {
		if l != winner {
			rest += score[l] + 0.01
		}
	}
	probs := map[string]float64{winner: pw}
	for _, l := range dispositionLabels {
		if l != winner {
			probs[l] = (1 - pw) * (score[l] + 0.01) / rest
		}
	}
	res := classifyResult(dispositionLabels, probs)
	res.UtteranceResults = withLabel(ev, winner)
	return res, nil
}

// relabel copies results with another label.
func relabel(rs []UtteranceResult, label string) []UtteranceResult {
	out := make([]UtteranceResult, len(rs))
	for i, r := range rs {
		r.Label = label
		out[i] = r
	}
	return out
}
