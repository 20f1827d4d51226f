package operators

import (
	"context"
	"encoding/json"

	"github.com/convoseal/convoseal"
)

// Conversation is what an operator reads: one transcript's sentences.
type Conversation struct {
	TranscriptSID string
	LanguageCode  string // e.g. "en-US"
	Sentences     []convoseal.Sentence
}

// Result is one operator's result for one transcript, in the Intelligence v2
// OperatorResult shape (field names from the spec), plus convoseal's status.
// It is the plaintext of an operator-result artifact.
type Result struct {
	OperatorType          string              `json:"operator_type"` // conversation-classify, utterance-classify, extract, extract-normalize, pii-extract, text-generation, json
	Name                  string              `json:"name"`
	OperatorSID           string              `json:"operator_sid"`
	ExtractMatch          *bool               `json:"extract_match"`
	MatchProbability      *float64            `json:"match_probability"`
	NormalizedResult      *string             `json:"normalized_result"`
	UtteranceResults      []UtteranceResult   `json:"utterance_results"`
	UtteranceMatch        *bool               `json:"utterance_match"`
	PredictedLabel        *string             `json:"predicted_label"`
	PredictedProbability  *float64            `json:"predicted_probability"`
	LabelProbabilities    map[string]float64  `json:"label_probabilities"`
	ExtractResults        map[string][]string `json:"extract_results"`
	TextGenerationResults *TextGeneration     `json:"text_generation_results"`
	JSONResults           json.RawMessage     `json:"json_results"`
	TranscriptSID         string              `json:"transcript_sid"`

	// Status is "completed" or "failed" (convoseal extra); a failed result
	// has a FailureReason that never contains conversation content.
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason,omitempty"`
}

// UtteranceResult is one sentence an utterance-level operator matched.
type UtteranceResult struct {
	UtteranceIndex int             `json:"utterance_index"` // sentence_index
	MediaChannel   int             `json:"media_channel"`
	Label          string          `json:"label"`
	Probability    float64         `json:"probability"`
	UtteranceParts []UtterancePart `json:"utterance_parts"`
}

// UtterancePart is the matched part of an utterance.
type UtterancePart struct {
	Text  string `json:"text"`
	Start int    `json:"start"` // byte offsets in the sentence's transcript
	End   int    `json:"end"`
	Label string `json:"label,omitempty"`
}

// TextGeneration holds generated text.
type TextGeneration struct {
	Result string `json:"result"`
}

// Result statuses.
const (
	ResultCompleted = "completed"
	ResultFailed    = "failed"
)

// Runner runs one operator on a conversation. It fills the fields of its
// output type; the pipeline sets Name, OperatorSID, TranscriptSID and Status.
// An error means the operator failed for this transcript; its message is
// shown to the customer and must not contain conversation content.
type Runner interface {
	Run(ctx context.Context, conv *Conversation) (*Result, error)
}

// LLM is an OpenAI-compatible chat-completions backend (internal/llm). With a
// schema, the answer must be JSON valid against it.
type LLM interface {
	Complete(ctx context.Context, system, user string, schema json.RawMessage) (string, error)
}

// Deps are what runners may use. LLM is nil when no backend is configured,
// or when one is but the transcript's Service may not use it (LLMWithheld):
// pre-built operators then run locally, and generative custom operators fail
// with a reason saying which.
type Deps struct {
	LLM LLM
	// LLMWithheld means a language model is configured but withheld from
	// this transcript: its Service does not have the language model on.
	LLMWithheld bool
}
