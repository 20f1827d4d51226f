package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/llm/llmtest"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestLanguageModelNeedsOperatorConsent: with --llm-url, a Service sealed
// with a customer key sends nothing to the language model until the operator
// switches it on with `convoseal services llm`: Summarization falls back to
// the local model, generative operators fail saying why, and the model sees
// no request. The Service shows language_model, the API cannot change it,
// getting a customer key switches it off, and serve warns at start about
// every customer-key Service that has it on.
func TestLanguageModelNeedsOperatorConsent(t *testing.T) {
	model := llmtest.NewServer(t, func(r llmtest.Request) llmtest.Response {
		if r.Schema != nil {
			return llmtest.Response{Content: `{"refund_requested":true}`}
		}
		return llmtest.Response{Content: "The customer asked for a refund."}
	})
	s := StartServer(t, ServerOptions{Extra: []string{"--llm-url", model.URL, "--llm-model", "test-model"}})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	keyed, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("llm-keyed").SetEncryptionCredentialSid(cred))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("llm-server-key"))
	if err != nil {
		t.Fatal(err)
	}
	languageModel := func(svc string) any {
		t.Helper()
		code, body := s.Do(t, "GET", "/v2/Services/"+svc, nil)
		if code != 200 {
			t.Fatalf("fetch service: %d %v", code, body)
		}
		return body["language_model"]
	}
	if got := languageModel(*keyed.Sid); got != false {
		t.Fatalf("customer-key Service: language_model %v, want false", got)
	}
	if got := languageModel(*plain.Sid); got != true {
		t.Fatalf("server-key Service: language_model %v, want true", got)
	}

	// The API cannot switch it, on create or update.
	for _, req := range []struct {
		path string
		form url.Values
	}{
		{"/v2/Services/" + *keyed.Sid, url.Values{"LanguageModel": {"true"}}},
		{"/v2/Services", url.Values{"UniqueName": {"llm-x"}, "EncryptionCredentialSid": {cred}, "LanguageModel": {"true"}}},
	} {
		if code, body := s.Do(t, "POST", req.path, req.form); code != 403 || !strings.Contains(fmt.Sprint(body["message"]), "LanguageModel") {
			t.Fatalf("POST %s %v: %d %v, want 403", req.path, req.form, code, body)
		}
	}

	summary := prebuilt(t, s, "Summarization")
	generative := customOperator(t, s, "refund?", "generative", map[string]any{"prompt": "Did the customer ask for a refund?",
		"json_result_schema": map[string]any{"type": "object", "required": []string{"refund_requested"},
			"properties": map[string]any{"refund_requested": map[string]any{"type": "boolean"}}}})
	attach(t, s, *keyed.Sid, summary, generative)
	run := func(marker string) map[string]opResult {
		t.Helper()
		call := append([]sentenceIn(nil), refundCall...)
		call[1].Transcript = "I was charged twice, " + marker + ", and I want a refund right now."
		tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*keyed.Sid).
			SetChannel(Channel(DataURL(map[string]any{"sentences": call}))))
		if err != nil {
			t.Fatal(err)
		}
		if done := WaitTranscript(t, c, *tr.Sid, 60*time.Second); *done.Status != "completed" {
			t.Fatalf("transcript %s", *done.Status)
		}
		return decryptResults(t, s, kf.Private, *tr.Sid, false)
	}

	// Off by default: nothing reaches the model.
	res := run("MARKER-OFF")
	if n := len(model.Requests()); n != 0 {
		t.Fatalf("the language model received %d request(s) for a customer-key Service without consent", n)
	}
	if r := res[summary]; r.Status != "completed" || r.TextGenerationResults == nil || r.TextGenerationResults.Result == "" ||
		r.TextGenerationResults.Result == "The customer asked for a refund." {
		t.Errorf("Summarization did not fall back to the local model: %+v", r)
	}
	if r := res[generative]; r.Status != "failed" || !strings.Contains(r.FailureReason, "not enabled the language model for this Service") {
		t.Errorf("generative operator without consent: %+v", r)
	}

	// Start-up warning only for customer-key Services that have it on.
	out, err := s.CLI("services", "llm", *keyed.Sid, "on").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "language model ON") {
		t.Fatalf("services llm on: %v %s", err, out)
	}
	if got := languageModel(*keyed.Sid); got != true {
		t.Fatalf("after services llm on: language_model %v", got)
	}
	before := len(s.Log())
	s.Stop()
	s.Restart()
	warned := false
	for _, l := range strings.Split(string(s.Log()[before:]), "\n") {
		if strings.Contains(l, "LANGUAGE MODEL") {
			warned = strings.Contains(l, *keyed.Sid)
			if strings.Contains(l, *plain.Sid) {
				t.Errorf("warning names a server-key Service: %s", l)
			}
		}
	}
	if !warned {
		t.Errorf("no start-up warning naming %s in:\n%s", *keyed.Sid, s.Log()[before:])
	}

	// On: the model is used, and gets the conversation.
	res = run("MARKER-ON")
	reqs := model.Requests()
	if len(reqs) == 0 || !strings.Contains(string(reqs[len(reqs)-1].Body)+string(reqs[0].Body), "MARKER-ON") {
		t.Fatalf("with the language model on, the model received %d request(s) without the conversation", len(reqs))
	}
	for _, r := range reqs {
		if strings.Contains(string(r.Body), "MARKER-OFF") {
			t.Fatal("the model received the transcript made before consent")
		}
	}
	if r := res[generative]; r.Status != "completed" || r.JSONResults["refund_requested"] != true {
		t.Errorf("generative operator with consent: %+v", r)
	}
	if r := res[summary]; r.TextGenerationResults == nil || r.TextGenerationResults.Result != "The customer asked for a refund." {
		t.Errorf("Summarization with consent: %+v", r)
	}

	// A server-key Service that gets a customer key stops using the model.
	if _, err := c.IntelligenceV2.UpdateService(*plain.Sid, (&intelligence.UpdateServiceParams{}).SetEncryptionCredentialSid(cred)); err != nil {
		t.Fatal(err)
	}
	if got := languageModel(*plain.Sid); got != false {
		t.Fatalf("server-key Service given a customer key: language_model %v, want false", got)
	}
}
