// Package operators holds convoseal's language operators: the catalog of
// operator types and pre-built operators served by the API, and (issue 4) the
// code that runs them on transcripts.
package operators

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/llm"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// catalogDate is the creation date reported for catalog entries.
var catalogDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// stableSID derives a fixed SID for a catalog entry, so it is the same on
// every installation and across restarts.
func stableSID(prefix, name string) string {
	sum := sha256.Sum256([]byte("convoseal/catalog/" + prefix + "/" + name))
	return prefix + hex.EncodeToString(sum[:16])
}

// Operator type names.
const (
	TypeConversationClassify = "conversation-classify"
	TypeUtteranceClassify    = "utterance-classify"
	TypeExtract              = "extract"
	TypeExtractNormalize     = "extract-normalize"
	TypePIIExtract           = "pii-extract"
	TypeTextGeneration       = "text-generation"
	TypeJSON                 = "json"
)

type typeDef struct {
	name, friendly, description, output string
	configurable                        bool
	schema                              string
}

var typeDefs = []typeDef{
	{"phrase-matching", "Phrase Matching", "Finds sentences containing configured phrases, exactly or approximately, optionally for one participant.", "text-extraction", true,
		`{"type":"object","required":["phrases"],"properties":{"phrases":{"type":"array","minItems":1,"maxItems":500,"items":{"type":"string","minLength":1,"maxLength":200}},"match_type":{"enum":["exact","fuzzy"]},"media_channel":{"type":"integer","minimum":1,"maximum":16}},"additionalProperties":false}`},
	{"generative", "Generative", "Answers a prompt about the conversation with a language model, as text or as JSON following a schema.", "json", true,
		`{"type":"object","required":["prompt"],"properties":{"prompt":{"type":"string","minLength":1,"maxLength":8000},"json_result_schema":{"type":"object"}},"additionalProperties":false}`},
	{"classification", "Classification", "Labels the whole conversation with one of a fixed set of labels.", "text-classification", false, ``},
	{"extraction", "Extraction", "Extracts entities from the conversation.", "text-extraction", false, ``},
	{"text-generation", "Text Generation", "Generates text about the conversation, such as a summary.", "text-generation", false, ``},
}

// ResultType is the operator_type of the results of operators of type
// operatorType (an OperatorType name, or a pre-built operator's result
// type): one of the spec's operator_result_enum_operator_type values,
// consistent with the OperatorType's output_type.
func ResultType(operatorType string) string {
	switch operatorType {
	case TypeConversationClassify, TypeUtteranceClassify, TypeExtract, TypeExtractNormalize, TypePIIExtract, TypeTextGeneration, TypeJSON:
		return operatorType
	}
	if t, ok := OperatorType(operatorType); ok {
		switch t.OutputType {
		case "text-classification":
			return TypeConversationClassify
		case "text-extraction":
			return TypeExtract
		case "text-extraction-normalized":
			return TypeExtractNormalize
		case "text-generation":
			return TypeTextGeneration
		}
	}
	return TypeJSON
}

// SupportsLanguage reports whether operators of operatorType (an
// OperatorType name, or a pre-built operator's result type) support the
// language lang (a BCP 47 tag, compared without regard to case).
func SupportsLanguage(operatorType, lang string) bool {
	langs := []string{"en-US"}
	if t, ok := OperatorType(operatorType); ok {
		langs = t.SupportedLanguages
	}
	return slices.ContainsFunc(langs, func(l string) bool { return strings.EqualFold(l, lang) })
}

// OperatorTypes returns the catalog of operator types.
func OperatorTypes() []*convoseal.OperatorType {
	out := make([]*convoseal.OperatorType, len(typeDefs))
	for i, d := range typeDefs {
		var schema json.RawMessage
		if d.schema != "" {
			schema = json.RawMessage(d.schema)
		}
		out[i] = &convoseal.OperatorType{SID: stableSID(convoseal.PrefixOperatorType, d.name), Name: d.name, FriendlyName: d.friendly,
			Description: d.description, DocsLink: "https://www.twilio.com/docs/conversational-intelligence/language-operators",
			OutputType: d.output, SupportedLanguages: []string{"en-US"}, Provider: "twilio", Availability: "general-availability",
			Configurable: d.configurable, ConfigSchema: schema, DateCreated: catalogDate, DateUpdated: catalogDate}
	}
	return out
}

// OperatorType returns a catalog type by SID or name.
func OperatorType(sidOrName string) (*convoseal.OperatorType, bool) {
	for _, t := range OperatorTypes() {
		if t.SID == sidOrName || t.Name == sidOrName {
			return t, true
		}
	}
	return nil, false
}

type prebuiltDef struct {
	name, description, operatorType string
}

var prebuiltDefs = []prebuiltDef{
	{"Sentiment Analysis", "Classifies the conversation's overall sentiment as positive, negative, neutral or mixed.", TypeConversationClassify},
	{"Summarization", "Summarises the conversation in a few sentences.", TypeTextGeneration},
	{"Entity Recognition", "Extracts people, organisations, locations, dates, amounts and other entities.", TypeExtract},
	{"Agent Introduction", "Detects whether the agent introduced themselves.", TypeConversationClassify},
	{"Escalation Request", "Detects whether the customer asked to escalate (a manager, a supervisor).", TypeConversationClassify},
	{"Recording Disclosure", "Detects whether the agent disclosed that the call is recorded.", TypeConversationClassify},
	{"Do Not Contact Me", "Finds sentences in which the customer asks not to be contacted again.", TypeUtteranceClassify},
	{"Password Reset", "Finds sentences about resetting a password.", TypeUtteranceClassify},
	{"Voicemail Detection", "Classifies whether the call reached a voicemail.", TypeConversationClassify},
	{"Unavailable Party Detector", "Classifies whether the called party was unavailable.", TypeConversationClassify},
	{"Outbound Call Disposition", "Classifies the outcome of an outbound call.", TypeConversationClassify},
	{"Call Transfer", "Detects whether the call was transferred.", TypeConversationClassify},
	{"Non English Call", "Classifies whether the conversation is not in English.", TypeConversationClassify},
	{"PII Extraction", "Extracts personally identifiable information: emails, phone numbers, card numbers, SSNs and more.", TypePIIExtract},
}

// Prebuilt returns the catalog of pre-built operators.
func Prebuilt() []*convoseal.Operator {
	out := make([]*convoseal.Operator, len(prebuiltDefs))
	for i, d := range prebuiltDefs {
		out[i] = &convoseal.Operator{SID: stableSID(convoseal.PrefixOperator, d.name), FriendlyName: d.name, Description: d.description,
			Author: "convoseal", OperatorType: d.operatorType, Version: 1, Availability: "general-availability",
			Config: json.RawMessage("{}"), DateCreated: catalogDate, DateUpdated: catalogDate}
	}
	return out
}

// ValidateConfig checks a custom operator's configuration against its type's
// JSON Schema (config_schema), with a standard JSON-Schema validator.
func ValidateConfig(t *convoseal.OperatorType, cfg map[string]any) error {
	if len(t.ConfigSchema) == 0 {
		return nil
	}
	sch, err := compileSchema(t)
	if err != nil {
		return err
	}
	if err := sch.Validate(cfg); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return errString(validationMessage(ve))
		}
		return err
	}
	if t.Name == "generative" {
		if s, ok := cfg["json_result_schema"]; ok {
			// The customer's schema may name files or URLs; the compiler
			// must load none of them (a local-file oracle, and a request
			// that blocks reading /proc/self/fd/0), so one message for all.
			c := llm.NewSchemaCompiler()
			if err := c.AddResource(llm.SchemaURL, s); err != nil {
				return errString("json_result_schema is not a JSON Schema")
			}
			if _, err := c.Compile(llm.SchemaURL); err != nil {
				return errString("json_result_schema is not a valid self-contained JSON Schema (references to files or URLs are not allowed)")
			}
		}
	}
	return nil
}

var (
	schemaMu    sync.Mutex
	schemaCache = map[string]*jsonschema.Schema{}
)

func compileSchema(t *convoseal.OperatorType) (*jsonschema.Schema, error) {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemaCache[t.Name]; ok {
		return s, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(t.ConfigSchema))
	if err != nil {
		return nil, err
	}
	c := llm.NewSchemaCompiler()
	if err := c.AddResource("mem:///"+t.Name+".json", doc); err != nil {
		return nil, err
	}
	s, err := c.Compile("mem:///" + t.Name + ".json")
	if err != nil {
		return nil, err
	}
	schemaCache[t.Name] = s
	return s, nil
}

// validationMessage flattens a validation error to its leaf causes, e.g.
// "at /phrases/0: minLength: got 0, want 1".
func validationMessage(ve *jsonschema.ValidationError) string {
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			leaves = append(leaves, "at "+loc+": "+e.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(leaves, "; ")
}

type errString string

func (e errString) Error() string { return string(e) }
