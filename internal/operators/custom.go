package operators

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// phraseConfig is a phrase-matching operator's configuration.
type phraseConfig struct {
	Phrases      []string `json:"phrases"`
	MatchType    string   `json:"match_type"`
	MediaChannel *int     `json:"media_channel"`
}

// maxPhraseWork bounds the work of one phrase-matching operator on one
// transcript, in words × candidate phrases compared (fuzzy matching compares
// every phrase with every word, 70 to 150 ns each): a second or so of CPU,
// enough for 500 phrases over 20,000 words, or 20 phrases over 500,000. A
// transcript beyond it gets a failed result, not minutes of a worker.
const maxPhraseWork = 10_000_000

// phraseMatcher runs a phrase-matching operator.
type phraseMatcher struct {
	phrases []string
	pats    []*pattern
	byFirst map[string][]int // exact matching: phrases by their first word
	channel int              // 0: every channel
}

// newPhraseMatching compiles a phrase-matching configuration. Matching is
// case-insensitive on whole words, with contractions expanded on both sides
// ("don't" = "do not"). match_type "fuzzy" also accepts words of 5+ letters
// within a normalised Damerau-Levenshtein distance of 0.2 ("refunds",
// "refnd" for "refund"; not "refuse"), and, in phrases of three words or
// more, one inserted word.
func newPhraseMatching(raw json.RawMessage) (Runner, error) {
	var cfg phraseConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, errors.New("invalid phrase-matching configuration: it must be an object with phrases, match_type and media_channel")
	}
	if len(cfg.Phrases) == 0 || len(cfg.Phrases) > 500 {
		return nil, errors.New("invalid phrase-matching configuration: phrases must be a list of 1 to 500 strings")
	}
	fuzzy := false
	switch cfg.MatchType {
	case "", "exact":
	case "fuzzy":
		fuzzy = true
	default:
		return nil, errors.New("invalid phrase-matching configuration: match_type must be exact or fuzzy")
	}
	m := &phraseMatcher{phrases: cfg.Phrases}
	if cfg.MediaChannel != nil {
		m.channel = *cfg.MediaChannel
		if m.channel < 1 {
			return nil, errors.New("invalid phrase-matching configuration: media_channel must be 1 or more")
		}
	}
	if !fuzzy {
		m.byFirst = map[string][]int{}
	}
	for i, p := range cfg.Phrases {
		if strings.TrimSpace(p) == "" || len(p) > 200 {
			return nil, errors.New("invalid phrase-matching configuration: each phrase must be a string of 1 to 200 characters")
		}
		pat := literalPattern(p, fuzzy)
		m.pats = append(m.pats, pat)
		if m.byFirst != nil && len(pat.elems) > 0 {
			first := pat.elems[0].alts[0]
			m.byFirst[first] = append(m.byFirst[first], i)
		}
	}
	return m, nil
}

// Run implements Runner: one utterance result per sentence and matched
// phrase, labelled with the phrase as configured, its occurrences as
// utterance_parts; the probability is 1 for an exact match and the word
// similarity (less 0.1 per inserted word) for a fuzzy one.
func (m *phraseMatcher) Run(ctx context.Context, conv *Conversation) (*Result, error) {
	var out []UtteranceResult
	work := 0 // words × phrases compared so far
	for si, s := range conv.Sentences {
		if si%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if m.channel != 0 && s.MediaChannel != m.channel {
			continue
		}
		toks := tokenize(s.Transcript)
		cands := m.candidates(toks)
		if work += len(toks) * len(cands); work > maxPhraseWork {
			return nil, fmt.Errorf("the transcript is too long for this operator: it would compare more than %d words × phrases (%d phrases); use fewer phrases or exact matching", maxPhraseWork, len(m.phrases))
		}
		for _, pi := range cands {
			ms := m.pats[pi].findAll(toks)
			if len(ms) == 0 {
				continue
			}
			ur := UtteranceResult{UtteranceIndex: s.SentenceIndex, MediaChannel: s.MediaChannel, Label: m.phrases[pi]}
			for _, x := range ms {
				ur.Probability = max(ur.Probability, round4(x.score))
				ur.UtteranceParts = append(ur.UtteranceParts, UtterancePart{Text: s.Transcript[x.start:x.end], Start: x.start, End: x.end})
			}
			out = append(out, ur)
		}
	}
	// An extract result, as the type's output_type (text-extraction) says:
	// extract_results maps each matched phrase to the texts it matched.
	res := &Result{OperatorType: TypeExtract, ExtractMatch: ptr(len(out) > 0), ExtractResults: map[string][]string{}, UtteranceResults: out}
	if out == nil {
		res.UtteranceResults = []UtteranceResult{}
	}
	for _, ur := range out {
		for _, p := range ur.UtteranceParts {
			res.ExtractResults[ur.Label] = append(res.ExtractResults[ur.Label], p.Text)
		}
	}
	return res, nil
}

// candidates returns the indexes of the phrases that may match toks, in
// configuration order: with exact matching only those whose first word
// occurs; with fuzzy matching all.
func (m *phraseMatcher) candidates(toks []token) []int {
	if m.byFirst == nil {
		all := make([]int, len(m.pats))
		for i := range all {
			all[i] = i
		}
		return all
	}
	var idx []int
	seen := map[int]bool{}
	for _, t := range toks {
		for _, i := range m.byFirst[t.norm] {
			if !seen[i] {
				seen[i] = true
				idx = append(idx, i)
			}
		}
	}
	// Configuration order, for stable results.
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && idx[j] < idx[j-1]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}

// generativeConfig is a generative operator's configuration.
type generativeConfig struct {
	Prompt           string          `json:"prompt"`
	JSONResultSchema json.RawMessage `json:"json_result_schema"`
}

// errNoLLM is returned for generative operators without a language model.
var errNoLLM = errors.New("no language model is configured: start convoseal serve with --llm-url")

// errLLMWithheld is returned for generative operators of a Service whose
// transcripts may not go to the language model (Deps.LLMWithheld).
var errLLMWithheld = errors.New("the operator of this server has not enabled the language model for this Service " +
	"(convoseal services llm), so its transcripts are not sent to it")

const generativeSystem = `You analyse a customer-service conversation and follow the instruction below about it. ` +
	`Base the answer only on the conversation.`

// newGenerative returns a generative operator's runner: the configured
// prompt (with the instructions) and the conversation (as data, see
// conversationMessage) go to the language model; with
// json_result_schema the answer is JSON valid against it (json_results,
// operator_type "json"), else free text (text_generation_results).
func newGenerative(raw json.RawMessage, deps Deps) (Runner, error) {
	var cfg generativeConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, errors.New("invalid generative configuration: it must be an object with prompt and json_result_schema")
	}
	if strings.TrimSpace(cfg.Prompt) == "" {
		return nil, errors.New("invalid generative configuration: prompt must not be empty")
	}
	schema := cfg.JSONResultSchema
	if t := bytes.TrimSpace(schema); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		schema = nil
	} else if t[0] != '{' {
		return nil, errors.New("invalid generative configuration: json_result_schema must be an object")
	}
	if deps.LLM == nil {
		if deps.LLMWithheld {
			return nil, errLLMWithheld
		}
		return nil, errNoLLM
	}
	system := generativeSystem
	if schema != nil {
		system += ` Answer with JSON valid against the given JSON Schema.`
	}
	// The instruction is the operator's configuration, not conversation
	// text: it goes with the instructions, the conversation with the data.
	system += dataRule + "\n\nInstruction:\n" + cfg.Prompt
	return runFunc(func(ctx context.Context, conv *Conversation) (*Result, error) {
		out, err := deps.LLM.Complete(ctx, system, conversationMessage(conv), schema)
		if err != nil {
			return nil, fmt.Errorf("generative operator: %w", err)
		}
		if schema == nil {
			out = strings.TrimSpace(out)
			if out == "" {
				return nil, errBadAnswer
			}
			return textResult(out), nil
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(strings.TrimSpace(out))); err != nil {
			return nil, errBadAnswer
		}
		return &Result{OperatorType: TypeJSON, JSONResults: json.RawMessage(buf.Bytes())}, nil
	}), nil
}
