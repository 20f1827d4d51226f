package operators

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/convoseal/convoseal"
)

// fakeLLM is an LLM that records its calls and answers from a script.
type fakeLLM struct {
	answer string
	err    error
	calls  []fakeCall
}

type fakeCall struct {
	system, user string
	schema       json.RawMessage
}

func (f *fakeLLM) Complete(_ context.Context, system, user string, schema json.RawMessage) (string, error) {
	f.calls = append(f.calls, fakeCall{system, user, schema})
	return f.answer, f.err
}

func custom(typ, config string) *convoseal.Operator {
	return &convoseal.Operator{SID: "LY1", AccountSID: "AC1", FriendlyName: "mine", OperatorType: typ, Config: json.RawMessage(config)}
}

func runCustom(t *testing.T, o *convoseal.Operator, deps Deps, conv *Conversation) *Result {
	t.Helper()
	r, err := New(o, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	res, err := r.Run(context.Background(), conv)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkResult(t, o.FriendlyName, conv, res)
	return res
}

func TestPhraseMatchingExact(t *testing.T) {
	conv := loadConversation(t, "refund_escalation")
	res := runCustom(t, custom("phrase-matching", `{"phrases":["refund","Money Back","manager","transfer you","charges"]}`), Deps{}, conv)
	if res.OperatorType != TypeExtract || res.OperatorType != ResultType("phrase-matching") || !*res.ExtractMatch || res.UtteranceMatch != nil ||
		!slices.Equal(res.ExtractResults["Money Back"], []string{"money back"}) {
		t.Fatalf("result %+v", res)
	}
	type hit struct {
		idx   int
		label string
		text  string
		start int
	}
	var got []hit
	for _, u := range res.UtteranceResults {
		if u.Probability != 1 {
			t.Errorf("exact match probability %v", u.Probability)
		}
		for _, p := range u.UtteranceParts {
			got = append(got, hit{u.UtteranceIndex, u.Label, p.Text, p.Start})
		}
	}
	want := []hit{
		{1, "Money Back", "money back", 59},
		{4, "charges", "charges", 14},
		{6, "refund", "refund", 29},
		{7, "manager", "manager", 48},
		{8, "transfer you", "transfer you", 18},
	}
	if !slices.Equal(got, want) {
		t.Errorf("matches\n got %+v\nwant %+v", got, want)
	}
	// Whole words only: "charge" is not in "charges"; no fuzzy "refunds".
	res = runCustom(t, custom("phrase-matching", `{"phrases":["charge","refunds","anager"],"match_type":"exact"}`), Deps{}, conv)
	if *res.ExtractMatch || len(res.UtteranceResults) != 0 || len(res.ExtractResults) != 0 {
		t.Errorf("partial words matched: %+v", res.UtteranceResults)
	}
}

func TestPhraseMatchingContractionsAndChannel(t *testing.T) {
	conv := loadConversation(t, "do_not_contact")
	res := runCustom(t, custom("phrase-matching", `{"phrases":["do not contact me","I am not interested"]}`), Deps{}, conv)
	if got := indexes(res, ""); !slices.Equal(got, []int{2, 5}) {
		t.Errorf("contractions: sentences %v, want [2 5]", got)
	}
	if p := res.UtteranceResults[1].UtteranceParts[0]; p.Text != "don't contact me" {
		t.Errorf("part %+v", p)
	}
	// "do not call" is said by the agent (channel 1) only.
	res = runCustom(t, custom("phrase-matching", `{"phrases":["do not call"],"media_channel":2}`), Deps{}, conv)
	if *res.ExtractMatch {
		t.Errorf("channel filter: %+v", res.UtteranceResults)
	}
	res = runCustom(t, custom("phrase-matching", `{"phrases":["do not call"],"media_channel":1}`), Deps{}, conv)
	if got := indexes(res, "do not call"); !slices.Equal(got, []int{6}) {
		t.Errorf("channel 1: %v", got)
	}
}

func TestPhraseMatchingFuzzy(t *testing.T) {
	conv := conversation(
		2, "I'd like a refnd please.",
		2, "Both refunds were late.",
		2, "I refuse to pay that.",
		2, "Take me off of your list.",
		2, "The refund arrived.",
		2, "Can I speak to your mangaer?",
		2, "Fun and rent are unrelated.",
	)
	res := runCustom(t, custom("phrase-matching", `{"phrases":["refund","take me off your list","manager"],"match_type":"fuzzy"}`), Deps{}, conv)
	got := map[int]string{}
	for _, u := range res.UtteranceResults {
		got[u.UtteranceIndex] = u.Label
		if u.UtteranceIndex == 4 && u.Probability != 1 {
			t.Errorf("exact word in fuzzy mode: probability %v", u.Probability)
		}
		if u.UtteranceIndex != 4 && (u.Probability >= 1 || u.Probability < 0.7) {
			t.Errorf("sentence %d: approximate match probability %v", u.UtteranceIndex, u.Probability)
		}
	}
	want := map[int]string{0: "refund", 1: "refund", 3: "take me off your list", 4: "refund", 5: "manager"}
	if len(got) != len(want) {
		t.Errorf("fuzzy matches %v, want %v", got, want)
	}
	for i, l := range want {
		if got[i] != l {
			t.Errorf("sentence %d: %q, want %q", i, got[i], l)
		}
	}
	if p := res.UtteranceResults[0].UtteranceParts[0]; p.Text != "refnd" {
		t.Errorf("part %+v", p)
	}
}

func TestWordSimilarity(t *testing.T) {
	for _, c := range []struct {
		a, b string
		ok   bool
	}{
		{"refund", "refunds", true}, {"refund", "refnd", true}, {"refund", "rfeund", true}, // transposition
		{"refund", "refuse", false}, {"cat", "cut", false}, {"manager", "managers", true},
		{"12345", "12346", false}, {"password", "passwort", true}, {"cancel", "parcel", false},
	} {
		if got := wordSimilarity(c.a, c.b, true) > 0; got != c.ok {
			t.Errorf("%s ~ %s: %v, want %v", c.a, c.b, got, c.ok)
		}
	}
	if d := osaDistance("ca", "abc", 5); d != 3 {
		t.Errorf("osa(ca, abc) = %d, want 3", d)
	}
}

func TestTokenize(t *testing.T) {
	toks := tokenize("I don't think he's here — it’s Sarah's.")
	var norms []string
	for _, tk := range toks {
		norms = append(norms, tk.norm)
	}
	want := []string{"i", "do", "not", "think", "he", "is", "here", "it", "is", "sarah"}
	if !slices.Equal(norms, want) {
		t.Errorf("tokens %q, want %q", norms, want)
	}
	if toks[1].start != 2 || toks[2].end != 7 {
		t.Errorf("contraction span %d-%d", toks[1].start, toks[2].end)
	}
}

func TestGenerative(t *testing.T) {
	conv := loadConversation(t, "refund_escalation")
	llm := &fakeLLM{answer: "  The customer wants a refund.  "}
	res := runCustom(t, custom("generative", `{"prompt":"Why did the customer call?"}`), Deps{LLM: llm}, conv)
	if res.OperatorType != TypeTextGeneration || res.TextGenerationResults.Result != "The customer wants a refund." {
		t.Errorf("text result %+v", res)
	}
	call := llm.calls[0]
	if call.schema != nil {
		t.Errorf("schema %s for a text prompt", call.schema)
	}
	if !strings.HasSuffix(call.system, "\nInstruction:\nWhy did the customer call?") || !strings.HasPrefix(call.user, "<conversation>\n") ||
		!strings.Contains(call.user, `{"speaker":"Customer","text":"No, that's not acceptable, I want to speak to a manager right now."}`) ||
		!strings.Contains(call.user, `{"speaker":"Agent","text":"Thank you for calling Northwind Outfitters`) {
		t.Errorf("system message:\n%s\nuser message:\n%s", call.system, call.user)
	}

	schema := `{"type":"object","properties":{"reason":{"type":"string"},"escalated":{"type":"boolean"}}}`
	llm = &fakeLLM{answer: "{\n  \"reason\": \"double charge\",\n  \"escalated\": true\n}"}
	res = runCustom(t, custom("generative", `{"prompt":"Extract the reason.","json_result_schema":`+schema+`}`), Deps{LLM: llm}, conv)
	if res.OperatorType != TypeJSON || string(res.JSONResults) != `{"reason":"double charge","escalated":true}` {
		t.Errorf("json result %s %s", res.OperatorType, res.JSONResults)
	}
	if string(llm.calls[0].schema) != schema {
		t.Errorf("schema sent %s", llm.calls[0].schema)
	}

	// Failures: no model, a model error, an unusable answer. No message
	// carries conversation text.
	if _, err := New(custom("generative", `{"prompt":"x"}`), Deps{}); err == nil ||
		err.Error() != "no language model is configured: start convoseal serve with --llm-url" {
		t.Errorf("without LLM: %v", err)
	}
	if _, err := New(custom("generative", `{"prompt":"x"}`), Deps{LLMWithheld: true}); err == nil ||
		!strings.Contains(err.Error(), "has not enabled the language model for this Service") {
		t.Errorf("with the LLM withheld: %v", err)
	}
	for _, c := range []struct {
		cfg string
		llm *fakeLLM
	}{
		{`{"prompt":"x"}`, &fakeLLM{err: errors.New("llm: timed out after 3 attempts")}},
		{`{"prompt":"x"}`, &fakeLLM{answer: "   "}},
		{`{"prompt":"x","json_result_schema":{"type":"object"}}`, &fakeLLM{answer: "not json"}},
	} {
		r, err := New(custom("generative", c.cfg), Deps{LLM: c.llm})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Run(context.Background(), conv)
		if err == nil {
			t.Errorf("%s with %+v: no error", c.cfg, c.llm)
			continue
		}
		assertNoContent(t, err, conv)
	}
}

// assertNoContent fails if err's message quotes the conversation.
func assertNoContent(t *testing.T, err error, conv *Conversation) {
	t.Helper()
	for _, s := range conv.Sentences {
		for _, w := range strings.Fields(s.Transcript) {
			if len(w) > 6 && strings.Contains(err.Error(), w) {
				t.Errorf("error %q contains conversation text %q", err, w)
			}
		}
	}
}

func TestLLMSentimentAndSummary(t *testing.T) {
	conv := loadConversation(t, "sale")
	llm := &fakeLLM{answer: `{"label":"positive","probabilities":{"positive":0.8,"negative":0.05,"neutral":0.1,"mixed":0.05}}`}
	res := runPrebuiltWith(t, "Sentiment Analysis", conv, Deps{LLM: llm})
	if label(res) != "positive" || *res.PredictedProbability != 0.8 || res.LabelProbabilities["neutral"] != 0.1 {
		t.Errorf("LLM sentiment %v %v", label(res), res.LabelProbabilities)
	}
	if len(llm.calls) != 1 || !strings.Contains(string(llm.calls[0].schema), `"enum":["positive","negative","neutral","mixed"]`) ||
		!strings.Contains(llm.calls[0].user, `{"speaker":"Customer","text":"Okay, sign me up."}`) {
		t.Errorf("LLM call %+v", llm.calls)
	}
	// Unnormalised probabilities are normalised.
	llm = &fakeLLM{answer: `{"label":"mixed","probabilities":{"positive":1,"negative":1,"neutral":0,"mixed":2}}`}
	res = runPrebuiltWith(t, "Sentiment Analysis", conv, Deps{LLM: llm})
	if label(res) != "mixed" || *res.PredictedProbability != 0.5 {
		t.Errorf("normalised %v %v", label(res), res.LabelProbabilities)
	}

	llm = &fakeLLM{answer: "The customer signed up for the fiber plan at $49.99 a month; installation is on Friday."}
	res = runPrebuiltWith(t, "Summarization", conv, Deps{LLM: llm})
	if res.TextGenerationResults.Result != llm.answer {
		t.Errorf("LLM summary %q", res.TextGenerationResults.Result)
	}
	if !strings.Contains(llm.calls[0].system, "2 to 3") || llm.calls[0].schema != nil {
		t.Errorf("summary call %+v", llm.calls[0])
	}

	for _, c := range []struct {
		op  string
		llm *fakeLLM
	}{
		{"Sentiment Analysis", &fakeLLM{err: errors.New("llm: service unavailable")}},
		{"Sentiment Analysis", &fakeLLM{answer: `{"label":"ecstatic","probabilities":{}}`}},
		{"Sentiment Analysis", &fakeLLM{answer: `positive`}},
		{"Summarization", &fakeLLM{err: errors.New("llm: service unavailable")}},
		{"Summarization", &fakeLLM{answer: ""}},
	} {
		var op *convoseal.Operator
		for _, o := range Prebuilt() {
			if o.FriendlyName == c.op {
				op = o
			}
		}
		r, _ := New(op, Deps{LLM: c.llm})
		if _, err := r.Run(context.Background(), conv); err == nil {
			t.Errorf("%s with %+v: no error", c.op, c.llm)
		} else {
			assertNoContent(t, err, conv)
		}
	}
	// Other pre-built operators never call the model.
	llm = &fakeLLM{}
	for _, op := range Prebuilt() {
		if op.FriendlyName == "Sentiment Analysis" || op.FriendlyName == "Summarization" {
			continue
		}
		runPrebuiltWith(t, op.FriendlyName, conv, Deps{LLM: llm})
	}
	if len(llm.calls) != 0 {
		t.Errorf("%d unexpected LLM calls", len(llm.calls))
	}
}
