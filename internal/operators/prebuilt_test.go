package operators

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/convoseal/convoseal"
)

// runPrebuilt runs the pre-built operator name on conv without an LLM.
func runPrebuilt(t *testing.T, name string, conv *Conversation) *Result {
	t.Helper()
	return runPrebuiltWith(t, name, conv, Deps{})
}

func runPrebuiltWith(t *testing.T, name string, conv *Conversation, deps Deps) *Result {
	t.Helper()
	for _, op := range Prebuilt() {
		if op.FriendlyName != name {
			continue
		}
		r, err := New(op, deps)
		if err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		res, err := r.Run(context.Background(), conv)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.OperatorType != op.OperatorType {
			t.Errorf("%s: operator_type %q, catalog says %q", name, res.OperatorType, op.OperatorType)
		}
		checkResult(t, name, conv, res)
		return res
	}
	t.Fatalf("no pre-built operator %q", name)
	return nil
}

// checkResult checks invariants every result must hold: probabilities in
// [0, 1] summing to 1, the predicted label the most probable, utterance
// parts that are the sentence's bytes.
func checkResult(t *testing.T, name string, conv *Conversation, res *Result) {
	t.Helper()
	if len(res.LabelProbabilities) > 0 {
		sum := 0.0
		for l, p := range res.LabelProbabilities {
			if p < 0 || p > 1 {
				t.Errorf("%s: probability of %s is %v", name, l, p)
			}
			sum += p
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: label probabilities sum to %v", name, sum)
		}
		if res.PredictedLabel == nil || res.PredictedProbability == nil {
			t.Fatalf("%s: no predicted label", name)
		}
		if got := res.LabelProbabilities[*res.PredictedLabel]; got != *res.PredictedProbability {
			t.Errorf("%s: predicted_probability %v, label_probabilities says %v", name, *res.PredictedProbability, got)
		}
	}
	for _, u := range res.UtteranceResults {
		var text string
		for _, s := range conv.Sentences {
			if s.SentenceIndex == u.UtteranceIndex {
				text = s.Transcript
				if s.MediaChannel != u.MediaChannel {
					t.Errorf("%s: sentence %d has channel %d, result says %d", name, u.UtteranceIndex, s.MediaChannel, u.MediaChannel)
				}
			}
		}
		if u.Probability <= 0 || u.Probability > 1 {
			t.Errorf("%s: utterance %d probability %v", name, u.UtteranceIndex, u.Probability)
		}
		for _, p := range u.UtteranceParts {
			if p.Start < 0 || p.End > len(text) || p.Start >= p.End || text[p.Start:p.End] != p.Text {
				t.Errorf("%s: utterance %d part %+v does not match the sentence", name, u.UtteranceIndex, p)
			}
		}
	}
}

func label(res *Result) string {
	if res.PredictedLabel == nil {
		return ""
	}
	return *res.PredictedLabel
}

// indexes returns the sentence indexes of the utterance results (with
// label, if not empty), deduplicated, in order.
func indexes(res *Result, label string) []int {
	var out []int
	for _, u := range res.UtteranceResults {
		if (label == "" || u.Label == label) && !slices.Contains(out, u.UtteranceIndex) {
			out = append(out, u.UtteranceIndex)
		}
	}
	return out
}

// classifierCase is an expected conversation-classify outcome: the label,
// and for "yes" (or a disposition) the evidence sentences.
type classifierCase struct {
	label    string
	evidence []int
}

func TestPrebuiltClassifiersOnSamples(t *testing.T) {
	no := classifierCase{label: "no"}
	yes := func(idx ...int) classifierCase { return classifierCase{"yes", idx} }
	expect := map[string]map[string]classifierCase{
		"refund_escalation": {"Agent Introduction": yes(0), "Escalation Request": yes(7), "Recording Disclosure": no,
			"Voicemail Detection": no, "Unavailable Party Detector": no, "Call Transfer": yes(8, 10),
			"Outbound Call Disposition": {"connected", nil}},
		"password_reset": {"Agent Introduction": yes(0), "Escalation Request": no, "Recording Disclosure": yes(0),
			"Voicemail Detection": no, "Unavailable Party Detector": no, "Call Transfer": no,
			"Outbound Call Disposition": {"connected", nil}},
		"voicemail": {"Agent Introduction": yes(2), "Escalation Request": no, "Recording Disclosure": no,
			"Voicemail Detection": yes(0, 1), "Unavailable Party Detector": no, "Call Transfer": no,
			"Outbound Call Disposition": {"voicemail", []int{0, 1}}},
		"unavailable": {"Agent Introduction": yes(1), "Escalation Request": no, "Recording Disclosure": no,
			"Voicemail Detection": no, "Unavailable Party Detector": yes(2, 3), "Call Transfer": no,
			"Outbound Call Disposition": {"unavailable", []int{2, 3}}},
		"transfer": {"Agent Introduction": yes(0), "Escalation Request": no, "Recording Disclosure": no,
			"Voicemail Detection": no, "Unavailable Party Detector": no, "Call Transfer": yes(2, 3),
			"Outbound Call Disposition": {"connected", nil}},
		"spanish": {"Agent Introduction": no, "Escalation Request": no, "Recording Disclosure": no,
			"Voicemail Detection": no, "Unavailable Party Detector": no, "Call Transfer": no},
		"do_not_contact": {"Agent Introduction": yes(1), "Escalation Request": no, "Recording Disclosure": no,
			"Voicemail Detection": no, "Unavailable Party Detector": no, "Call Transfer": no,
			"Outbound Call Disposition": {"not-interested", []int{2, 3, 5}}},
		"sale": {"Agent Introduction": yes(2), "Escalation Request": no, "Recording Disclosure": no,
			"Voicemail Detection": no, "Unavailable Party Detector": no, "Call Transfer": no,
			"Outbound Call Disposition": {"sale", []int{5, 6}}},
	}
	for _, name := range fixtureNames(t) {
		conv := loadConversation(t, name)
		cases, ok := expect[name]
		if !ok {
			t.Errorf("no expectations for sample %s", name)
		}
		for op, want := range cases {
			t.Run(name+"/"+op, func(t *testing.T) {
				res := runPrebuilt(t, op, conv)
				if got := label(res); got != want.label {
					t.Fatalf("label %q, want %q (probabilities %v)", got, want.label, res.LabelProbabilities)
				}
				if got := indexes(res, ""); !slices.Equal(got, want.evidence) {
					t.Errorf("evidence sentences %v, want %v", got, want.evidence)
				}
				if want.label == "yes" && *res.PredictedProbability < 0.9 {
					t.Errorf("yes with probability %v, want ≥ 0.9", *res.PredictedProbability)
				}
			})
		}
	}
}

func TestEvidenceParts(t *testing.T) {
	conv := loadConversation(t, "refund_escalation")
	res := runPrebuilt(t, "Escalation Request", conv)
	if got := res.UtteranceResults[0].UtteranceParts; len(got) != 1 || got[0].Text != "a manager right" {
		t.Errorf("escalation parts %+v, want one part \"a manager right\"", got)
	}
	res = runPrebuilt(t, "Agent Introduction", conv)
	if got := res.UtteranceResults[0].UtteranceParts; len(got) != 1 || got[0].Text != "this is Kevin" || got[0].Start != 44 {
		t.Errorf("introduction parts %+v, want \"this is Kevin\" at 44", got)
	}
}

func TestUtteranceClassifiersOnSamples(t *testing.T) {
	expect := map[string]map[string][]int{
		"Do Not Contact Me": {"do_not_contact": {3, 5}},
		"Password Reset":    {"password_reset": {1, 5, 6}},
	}
	for op, byConv := range expect {
		for _, name := range fixtureNames(t) {
			t.Run(op+"/"+name, func(t *testing.T) {
				res := runPrebuilt(t, op, loadConversation(t, name))
				want := byConv[name]
				if got := indexes(res, ""); !slices.Equal(got, want) {
					t.Fatalf("matched sentences %v, want %v", got, want)
				}
				if *res.UtteranceMatch != (len(want) > 0) {
					t.Errorf("utterance_match %v", *res.UtteranceMatch)
				}
				if res.UtteranceResults == nil {
					t.Error("utterance_results is null, want a list")
				}
			})
		}
	}
	res := runPrebuilt(t, "Do Not Contact Me", loadConversation(t, "do_not_contact"))
	var parts []string
	for _, u := range res.UtteranceResults {
		if u.Label != labelDoNotContact || u.MediaChannel != 2 {
			t.Errorf("result %+v: want label %s on the customer's channel 2", u, labelDoNotContact)
		}
		for _, p := range u.UtteranceParts {
			parts = append(parts, p.Text)
		}
	}
	if want := []string{"stop calling", "take me off your list", "don't contact me"}; !slices.Equal(parts, want) {
		t.Errorf("parts %q, want %q", parts, want)
	}
}

func TestSentimentOnSamples(t *testing.T) {
	expect := map[string]string{
		"refund_escalation": "negative", "do_not_contact": "negative",
		"password_reset": "positive", "sale": "positive",
		"voicemail": "neutral", "unavailable": "neutral", "transfer": "neutral",
	}
	for name, want := range expect {
		res := runPrebuilt(t, "Sentiment Analysis", loadConversation(t, name))
		if got := label(res); got != want {
			t.Errorf("%s: %s, want %s (%v)", name, got, want, res.LabelProbabilities)
		}
		if len(res.LabelProbabilities) != 4 {
			t.Errorf("%s: label probabilities %v, want the four labels", name, res.LabelProbabilities)
		}
	}
}

// conversation builds a Conversation from alternating (channel, text)
// pairs.
func conversation(lines ...any) *Conversation {
	conv := &Conversation{TranscriptSID: "GT0", LanguageCode: "en-US"}
	for i := 0; i+1 < len(lines); i += 2 {
		conv.Sentences = append(conv.Sentences, convoseal.Sentence{SentenceIndex: i / 2, MediaChannel: lines[i].(int),
			Transcript: lines[i+1].(string)})
	}
	return conv
}

func TestSentimentMixedAndRules(t *testing.T) {
	mixed := conversation(
		1, "Thanks for calling, how can I help?",
		2, "The technician who came out yesterday was wonderful and really friendly, I loved that.",
		2, "But the bill is a complete disaster, I'm furious about these hidden fees.",
		1, "Let me look into the fees for you.",
	)
	if got := label(runPrebuilt(t, "Sentiment Analysis", mixed)); got != "mixed" {
		t.Errorf("mixed conversation: %s", got)
	}
	// VADER's rules: negation flips, "but" shifts weight to the second half.
	for _, c := range []struct{ text, want string }{
		{"This is not good at all.", "negative"},
		{"The wait was long, but the agent was fantastic and solved everything.", "positive"},
		{"I am extremely unhappy with this terrible service!", "negative"},
		{"Okay.", "neutral"},
	} {
		if got := label(runPrebuilt(t, "Sentiment Analysis", conversation(2, c.text))); got != c.want {
			t.Errorf("%q: %s, want %s", c.text, got, c.want)
		}
	}
	if got := label(runPrebuilt(t, "Sentiment Analysis", conversation())); got != "neutral" {
		t.Errorf("empty conversation: %s", got)
	}
}

func TestSummarizationOnSamples(t *testing.T) {
	expect := map[string][]string{
		"refund_escalation": {"Yeah, I was charged twice for order NW-48213 and I want my money back."},
		"password_reset": {"Hi Priya, I forgot my password and now I'm locked out of my online banking.",
			"Thank you, I've sent a password reset link to that address."},
		"sale":      {"Wonderful, your order is confirmed and the installation is scheduled for Friday, June 14th between 9 am and noon."},
		"transfer":  {"Hi Lisa, I have a question about a charge on my bill from last month."},
		"voicemail": {"Hi Tom, this is Rachel from Fabrikam Insurance calling about your policy renewal."},
	}
	fillers := []string{"Thank you for calling", "have a wonderful day", "have a great day", "Okay, thanks."}
	for _, name := range fixtureNames(t) {
		conv := loadConversation(t, name)
		res := runPrebuilt(t, "Summarization", conv)
		sum := res.TextGenerationResults.Result
		for _, want := range expect[name] {
			if !strings.Contains(sum, want) {
				t.Errorf("%s: summary %q lacks %q", name, sum, want)
			}
		}
		for _, f := range fillers {
			if strings.Contains(sum, f) {
				t.Errorf("%s: summary %q contains the filler %q", name, sum, f)
			}
		}
		// Two or three whole sentences of the conversation, in order.
		last, n := -1, 0
		for _, s := range conv.Sentences {
			if i := strings.Index(sum, s.Transcript); i >= 0 {
				if i < last {
					t.Errorf("%s: sentences out of order in %q", name, sum)
				}
				last = i
				n++
			}
		}
		if n < 2 || n > 3 {
			t.Errorf("%s: summary has %d sentences: %q", name, n, sum)
		}
	}
	if got := runPrebuilt(t, "Summarization", conversation()).TextGenerationResults.Result; got != "" {
		t.Errorf("empty conversation summary %q", got)
	}
}

func TestEntityRecognitionOnSamples(t *testing.T) {
	expect := map[string]map[string][]string{
		"refund_escalation": {"ORGANIZATION": {"Northwind Outfitters"}, "PERSON": {"Kevin"}, "ORDER_ID": {"NW-48213"},
			"MONEY": {"$89.99"}, "DATE": {"March 3rd", "five to seven business days"}},
		"password_reset": {"ORGANIZATION": {"Contoso Bank"}, "PERSON": {"Priya"}, "EMAIL": {"dana.whitfield@example.com"}},
		"voicemail": {"PERSON": {"Tom Becker", "Tom", "Rachel"}, "ORGANIZATION": {"Fabrikam Insurance"},
			"PHONE_NUMBER": {"555-201-4477"}},
		"unavailable": {"PERSON": {"James Carter", "Mr. Patel"}, "ORGANIZATION": {"Litware Solutions"},
			"DATE": {"today", "tomorrow"}, "TIME": {"2 pm"}},
		"transfer":       {"ORGANIZATION": {"Adventure Works"}, "PERSON": {"Lisa"}, "DATE": {"last month"}},
		"spanish":        {"PERSON": {"Carmen"}},
		"do_not_contact": {"PERSON": {"Mark"}, "ORGANIZATION": {"Blue Yonder Solar"}, "DATE": {"this week"}},
		"sale": {"PERSON": {"Angela Moore", "David"}, "ORGANIZATION": {"Proseware Internet"}, "MONEY": {"$49.99"},
			"PERCENT": {"20 percent"}, "DATE": {"Friday", "June 14th"}, "TIME": {"9 am", "noon"}},
	}
	for _, name := range fixtureNames(t) {
		res := runPrebuilt(t, "Entity Recognition", loadConversation(t, name))
		if !reflect.DeepEqual(res.ExtractResults, expect[name]) {
			t.Errorf("%s: entities\n got %v\nwant %v", name, res.ExtractResults, expect[name])
		}
		if !*res.ExtractMatch {
			t.Errorf("%s: extract_match false", name)
		}
	}
}

func TestEntityPatterns(t *testing.T) {
	for _, c := range []struct {
		text string
		want map[string][]string
	}{
		{"Call me at (415) 555-0134 or 1-800-555-0199, or email j.doe@acme.io.",
			map[string][]string{"PHONE_NUMBER": {"(415) 555-0134", "1-800-555-0199"}, "EMAIL": {"j.doe@acme.io"}}},
		{"The refund of twenty five dollars and a 15% fee posted on 3/14/2024 at 3:30 pm.",
			map[string][]string{"MONEY": {"twenty five dollars"}, "PERCENT": {"15%"}, "DATE": {"3/14/2024"}, "TIME": {"3:30 pm"}}},
		{"My confirmation number is QX7781Z and I live in Springfield, Illinois.",
			map[string][]string{"ORDER_ID": {"QX7781Z"}, "LOCATION": {"Springfield", "Illinois"}}},
		{"I moved from New York to Chicago next Monday and switched to Bank of America.",
			map[string][]string{"LOCATION": {"New York", "Chicago"}, "DATE": {"next Monday"}, "ORGANIZATION": {"Bank of America"}}},
		{"You may first need to check the website at www.contoso.com/help.",
			map[string][]string{"URL": {"www.contoso.com/help"}}},
		{"Okay, I'll check with Will and Dr. Nguyen.", map[string][]string{"PERSON": {"Will", "Dr. Nguyen"}}},
		{"Nothing to see here.", map[string][]string{}},
	} {
		res := runPrebuilt(t, "Entity Recognition", conversation(1, c.text))
		if !reflect.DeepEqual(res.ExtractResults, c.want) {
			t.Errorf("%q:\n got %v\nwant %v", c.text, res.ExtractResults, c.want)
		}
		if *res.ExtractMatch != (len(c.want) > 0) {
			t.Errorf("%q: extract_match %v", c.text, *res.ExtractMatch)
		}
	}
}

func TestNonEnglishOnSamples(t *testing.T) {
	for _, name := range fixtureNames(t) {
		res := runPrebuilt(t, "Non English Call", loadConversation(t, name))
		wantLabel, wantLang := "no", "en"
		if name == "spanish" {
			wantLabel, wantLang = "yes", "es"
		}
		if label(res) != wantLabel || res.NormalizedResult == nil || *res.NormalizedResult != wantLang {
			t.Errorf("%s: %s / %v, want %s / %s", name, label(res), res.NormalizedResult, wantLabel, wantLang)
		}
	}
	for _, c := range []struct{ text, label, lang string }{
		{"Bonjour, je voudrais annuler mon abonnement, s'il vous plaît. Merci beaucoup pour votre aide.", "yes", "fr"},
		{"Guten Tag, ich möchte meine Rechnung bezahlen, aber die Webseite funktioniert nicht.", "yes", "de"},
		{"Здравствуйте, я хотел бы узнать баланс моего счёта.", "yes", "ru"},
		{"Yes.", "no", "en"},
	} {
		res := runPrebuilt(t, "Non English Call", conversation(1, c.text))
		if label(res) != c.label || *res.NormalizedResult != c.lang {
			t.Errorf("%q: %s / %s, want %s / %s", c.text, label(res), *res.NormalizedResult, c.label, c.lang)
		}
	}
}

func TestPIIExtractionOnSamples(t *testing.T) {
	res := runPrebuilt(t, "PII Extraction", loadConversation(t, "password_reset"))
	if got := res.ExtractResults["EMAIL"]; !slices.Equal(got, []string{"dana.whitfield@example.com"}) {
		t.Errorf("EMAIL %v", got)
	}
	if got := indexes(res, "EMAIL"); !slices.Equal(got, []int{4}) {
		t.Errorf("EMAIL sentences %v, want [4]", got)
	}
	if !*res.ExtractMatch || !*res.UtteranceMatch {
		t.Error("no match flags")
	}
	res = runPrebuilt(t, "PII Extraction", loadConversation(t, "voicemail"))
	if got := res.ExtractResults["PHONE_NUMBER"]; !slices.Equal(got, []string{"555-201-4477"}) {
		t.Errorf("PHONE_NUMBER %v", got)
	}
	for _, u := range res.UtteranceResults {
		for _, p := range u.UtteranceParts {
			if p.Label != u.Label {
				t.Errorf("part %+v labelled differently from its result %s", p, u.Label)
			}
		}
	}
	res = runPrebuilt(t, "PII Extraction", conversation(2, "My card is 4111 1111 1111 1111."))
	if got := res.ExtractResults["CREDIT_CARD"]; !slices.Equal(got, []string{"4111 1111 1111 1111"}) {
		t.Errorf("CREDIT_CARD %v", got)
	}
	res = runPrebuilt(t, "PII Extraction", conversation(2, "Nothing here."))
	if *res.ExtractMatch || len(res.UtteranceResults) != 0 || len(res.ExtractResults) != 0 {
		t.Errorf("no PII: %+v", res)
	}
}

func TestClassifierPhrasings(t *testing.T) {
	for _, c := range []struct {
		op   string
		conv *Conversation
		want string
	}{
		// Negation and speaker side.
		{"Escalation Request", conversation(1, "How can I help?", 2, "I don't need a manager, just fix it."), "no"},
		{"Escalation Request", conversation(1, "Would you like me to get my supervisor?", 2, "No thanks."), "no"},
		{"Escalation Request", conversation(1, "How can I help?", 2, "Can I talk to someone higher up please?"), "yes"},
		{"Escalation Request", conversation(1, "How can I help?", 2, "I want this escalated today."), "yes"},
		{"Recording Disclosure", conversation(1, "Just so you know, this conversation is being recorded."), "yes"},
		{"Recording Disclosure", conversation(1, "We record all calls for training purposes."), "yes"},
		{"Recording Disclosure", conversation(1, "Your payment was recorded yesterday."), "no"},
		{"Call Transfer", conversation(1, "I can't transfer you, sorry."), "no"},
		{"Call Transfer", conversation(1, "I'll put you through to billing."), "yes"},
		{"Call Transfer", conversation(1, "How can I help?", 2, "Can you transfer me to sales?"), "no"},
		{"Agent Introduction", conversation(1, "This is ridiculous.", 2, "I know."), "no"},
		{"Agent Introduction", conversation(1, "Hi, you're speaking with Dana.", 2, "Hi Dana."), "yes"},
		// The customer introducing themselves is not the agent's introduction.
		{"Agent Introduction", conversation(1, "Billing, how can I help?", 2, "Hi, my name is Tom Becker."), "no"},
		{"Voicemail Detection", conversation(2, "The person you are trying to reach is not available.", 1, "Hi, it's Sam, call me."), "yes"},
		{"Voicemail Detection", conversation(1, "Sorry, the mailbox is full and cannot accept messages."), "yes"},
		{"Voicemail Detection", conversation(1, "Hi, did you get my voicemail?", 2, "Yes I did.", 1, "Great.", 2, "So what's up?"), "no"},
		{"Unavailable Party Detector", conversation(2, "Hello?", 1, "Hi, this is Ann from Contoso, is Mr. Diaz there?", 2, "Sorry, he stepped out."), "yes"},
		{"Unavailable Party Detector", conversation(1, "That feature is not available right now."), "no"},
	} {
		if got := label(runPrebuilt(t, c.op, c.conv)); got != c.want {
			t.Errorf("%s on %q: %s, want %s", c.op, c.conv.Sentences[len(c.conv.Sentences)-1].Transcript, got, c.want)
		}
	}
	for _, c := range []struct {
		conv *Conversation
		want string
	}{
		{conversation(), "no-answer"},
		{conversation(2, "Hello?", 1, "Hi, is this Maria?", 2, "No, you have the wrong number."), "wrong-number"},
		{conversation(2, "Hello?", 1, "Hi, this is Ann from Contoso.", 2, "I'm busy right now, can you call me back tomorrow?"), "callback-requested"},
		{conversation(2, "Hello?", 1, "Hi, this is Ann from Contoso with an offer.", 2, "No thanks, not today."), "not-interested"},
	} {
		if got := label(runPrebuilt(t, "Outbound Call Disposition", c.conv)); got != c.want {
			t.Errorf("disposition of %v: %s, want %s", c.conv.Sentences, got, c.want)
		}
	}
	for _, c := range []struct {
		op, text string
		want     bool
	}{
		{"Password Reset", "I can't log in to the app.", true},
		{"Password Reset", "My pasword isn't working.", true},
		{"Password Reset", "Please reset my pin.", true},
		{"Password Reset", "I'd like to change my address.", false},
		{"Do Not Contact Me", "Please remove my number from your calling list.", true},
		{"Do Not Contact Me", "I want to unsubscribe from the emails.", true},
		{"Do Not Contact Me", "Never call this number again.", true},
		{"Do Not Contact Me", "You can contact me by email.", false},
	} {
		res := runPrebuilt(t, c.op, conversation(1, "How can I help?", 2, c.text))
		if got := *res.UtteranceMatch; got != c.want {
			t.Errorf("%s on %q: %v, want %v", c.op, c.text, got, c.want)
		}
	}
}

func TestNew(t *testing.T) {
	for _, op := range Prebuilt() {
		if _, err := New(op, Deps{}); err != nil {
			t.Errorf("%s: %v", op.FriendlyName, err)
		}
		bySID := &convoseal.Operator{SID: op.SID}
		if _, err := New(bySID, Deps{}); err != nil {
			t.Errorf("%s by SID: %v", op.FriendlyName, err)
		}
	}
	if len(prebuiltRunners) != len(Prebuilt()) {
		t.Errorf("%d runners for %d catalog entries", len(prebuiltRunners), len(Prebuilt()))
	}
	for _, o := range []*convoseal.Operator{
		nil,
		{FriendlyName: "Mind Reading"},
		{AccountSID: "AC1", OperatorType: "classification", Config: json.RawMessage(`{}`)},
		{AccountSID: "AC1", OperatorType: "phrase-matching", Config: json.RawMessage(`{"phrases":[]}`)},
		{AccountSID: "AC1", OperatorType: "phrase-matching", Config: json.RawMessage(`{"phrases":["a"],"match_type":"regex"}`)},
		{AccountSID: "AC1", OperatorType: "phrase-matching", Config: json.RawMessage(`{"phrases":["a"],"extra":1}`)},
		{AccountSID: "AC1", OperatorType: "phrase-matching", Config: json.RawMessage(`not json`)},
		{AccountSID: "AC1", OperatorType: "generative", Config: json.RawMessage(`{"prompt":""}`)},
		{AccountSID: "AC1", OperatorType: "generative", Config: json.RawMessage(`{"prompt":"x","json_result_schema":[1]}`)},
	} {
		if _, err := New(o, Deps{LLM: &fakeLLM{}}); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, op := range Prebuilt() {
		r, _ := New(op, Deps{})
		if _, err := r.Run(ctx, loadConversation(t, "sale")); err == nil {
			t.Errorf("%s ran with a canceled context", op.FriendlyName)
		}
	}
}

func TestDeterministic(t *testing.T) {
	conv := loadConversation(t, "refund_escalation")
	for _, op := range Prebuilt() {
		a := runPrebuilt(t, op.FriendlyName, conv)
		b := runPrebuilt(t, op.FriendlyName, conv)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s: two runs differ:\n%s\n%s", op.FriendlyName, ja, jb)
		}
	}
}
