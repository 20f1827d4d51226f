package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// refundCall is an agent (channel 1) and an angry customer (channel 2).
var refundCall = []sentenceIn{
	{1, 0.0, 3.0, "Thank you for calling Acme support, my name is Dana, this call may be recorded for quality purposes.", 0.95, nil},
	{2, 3.2, 7.0, "I was charged twice for my order and I want a refund right now.", 0.93, nil},
	{1, 7.2, 9.0, "I'm sorry to hear that, can I have your email address?", 0.96, nil},
	{2, 9.1, 13.0, "It's jane.doe@example.com and my phone is (415) 555-0132.", 0.90, nil},
	{2, 13.2, 16.0, "This is ridiculous, I want to speak to your manager.", 0.92, nil},
	{1, 16.2, 19.0, "Of course, let me transfer you to my supervisor.", 0.97, nil},
}

// fakeLLM answers as an OpenAI-compatible chat-completions endpoint would.
type fakeLLM struct {
	*httptest.Server
	mu       sync.Mutex
	requests []map[string]any
	mode     atomic.Value // "ok", "500", "badjson", "hang"
	answer   string
}

func newFakeLLM(t *testing.T, answer string) *fakeLLM {
	f := &fakeLLM{answer: answer}
	f.mode.Store("ok")
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.mu.Unlock()
		content := f.answer
		switch f.mode.Load().(string) {
		case "500":
			http.Error(w, `{"error":{"message":"overloaded"}}`, 500)
			return
		case "badjson":
			content = "Sure! Here is your JSON: {refund: yes"
		case "hang":
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return
		}
		if rf, ok := req["response_format"].(map[string]any); !ok || rf["type"] != "json_schema" {
			content = "A customer was double charged and asked for a refund and a manager."
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "model": req["model"],
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}}})
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeLLM) sawConversation(text string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.requests {
		b, _ := json.Marshal(r["messages"])
		if strings.Contains(string(b), text) {
			return true
		}
	}
	return false
}

type opResult struct {
	OperatorType         string              `json:"operator_type"`
	Name                 string              `json:"name"`
	OperatorSID          string              `json:"operator_sid"`
	ExtractMatch         *bool               `json:"extract_match"`
	UtteranceMatch       *bool               `json:"utterance_match"`
	PredictedLabel       *string             `json:"predicted_label"`
	PredictedProbability *float64            `json:"predicted_probability"`
	ExtractResults       map[string][]string `json:"extract_results"`
	UtteranceResults     []struct {
		UtteranceIndex int    `json:"utterance_index"`
		Label          string `json:"label"`
	} `json:"utterance_results"`
	TextGenerationResults *struct {
		Result string `json:"result"`
	} `json:"text_generation_results"`
	JSONResults   map[string]any `json:"json_results"`
	TranscriptSID string         `json:"transcript_sid"`
	Status        string         `json:"status"`
	FailureReason string         `json:"failure_reason"`
}

func prebuilt(t *testing.T, s *Server, name string) string {
	t.Helper()
	ops, err := s.Twilio().IntelligenceV2.ListPrebuiltOperator(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		if *o.FriendlyName == name {
			return *o.Sid
		}
	}
	t.Fatalf("no pre-built operator %q", name)
	return ""
}

func customOperator(t *testing.T, s *Server, name, typ string, config map[string]any) string {
	t.Helper()
	o, err := s.Twilio().IntelligenceV2.CreateCustomOperator((&intelligence.CreateCustomOperatorParams{}).
		SetFriendlyName(name).SetOperatorType(typ).SetConfig(config))
	if err != nil {
		t.Fatalf("create custom operator %s: %v", name, err)
	}
	return *o.Sid
}

func attach(t *testing.T, s *Server, serviceSID string, ops ...string) {
	t.Helper()
	for _, op := range ops {
		if _, err := s.Twilio().IntelligenceV2.CreateOperatorAttachment(serviceSID, op); err != nil {
			t.Fatalf("attach %s: %v", op, err)
		}
	}
}

// decryptResults fetches OperatorResults/Encrypted and decrypts every
// location with the documented script, keyed by operator SID.
func decryptResults(t *testing.T, s *Server, key, transcriptSID string, redacted bool) map[string]opResult {
	t.Helper()
	enc, err := s.Twilio().IntelligenceV2.FetchEncryptedOperatorResults(transcriptSID, (&intelligence.FetchEncryptedOperatorResultsParams{}).SetRedacted(redacted))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]opResult{}
	for _, loc := range *enc.Locations {
		var r opResult
		if err := json.Unmarshal(SeedDecrypt(t, key, loc), &r); err != nil {
			t.Fatalf("operator result is not JSON: %v", err)
		}
		out[r.OperatorSID] = r
	}
	return out
}

// TestOperatorsEndToEnd: three pre-built and two custom operators on an
// encrypted Service; every result decrypts with the documented script and
// says what the operator should say about this conversation.
func TestOperatorsEndToEnd(t *testing.T) {
	model := newFakeLLM(t, `{"refund_requested":true,"reason":"double charge"}`)
	s := StartServer(t, ServerOptions{Extra: []string{"--llm-url", model.URL + "/v1", "--llm-model", "test-model"}})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("ops").SetEncryptionCredentialSid(cred))
	if err != nil {
		t.Fatal(err)
	}
	// A customer-key Service uses the language model only with the operator's consent.
	if out, err := s.CLI("services", "llm", *svc.Sid, "on").CombinedOutput(); err != nil {
		t.Fatalf("services llm on: %v %s", err, out)
	}
	escalation := prebuilt(t, s, "Escalation Request")
	intro := prebuilt(t, s, "Agent Introduction")
	piiOp := prebuilt(t, s, "PII Extraction")
	phrases := customOperator(t, s, "Refund mentions", "phrase-matching", map[string]any{"phrases": []string{"refund", "charged twice"}})
	generative := customOperator(t, s, "Refund facts", "generative", map[string]any{
		"prompt": "Did the customer ask for a refund, and why?",
		"json_result_schema": map[string]any{"type": "object", "required": []string{"refund_requested", "reason"},
			"properties": map[string]any{"refund_requested": map[string]any{"type": "boolean"}, "reason": map[string]any{"type": "string"}}},
	})
	attach(t, s, *svc.Sid, escalation, intro, piiOp, phrases, generative)

	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": refundCall}))))
	if err != nil {
		t.Fatal(err)
	}
	if done := WaitTranscript(t, c, *tr.Sid, 60*time.Second); *done.Status != "completed" {
		t.Fatalf("transcript %s", *done.Status)
	}
	res := decryptResults(t, s, kf.Private, *tr.Sid, false)
	if len(res) != 5 {
		t.Fatalf("%d operator results, want 5", len(res))
	}
	for sid, r := range res {
		if r.Status != "completed" || r.TranscriptSID != *tr.Sid {
			t.Fatalf("operator %s (%s): status %s %s", sid, r.Name, r.Status, r.FailureReason)
		}
	}
	if r := res[escalation]; r.PredictedLabel == nil || *r.PredictedLabel != "yes" {
		t.Errorf("Escalation Request: %+v", r)
	}
	if r := res[intro]; r.PredictedLabel == nil || *r.PredictedLabel != "yes" {
		t.Errorf("Agent Introduction: %+v", r)
	}
	if r := res[piiOp]; !contains(r.ExtractResults["EMAIL"], "jane.doe@example.com") || !contains(r.ExtractResults["PHONE_NUMBER"], "(415) 555-0132") {
		t.Errorf("PII Extraction: %+v", r.ExtractResults)
	}
	r := res[phrases]
	matched := map[string]int{} // phrase → sentence index
	for _, u := range r.UtteranceResults {
		matched[u.Label] = u.UtteranceIndex
	}
	// Phrase matching's OperatorType has output_type text-extraction: its
	// results are extract results.
	if r.OperatorType != "extract" || r.ExtractMatch == nil || !*r.ExtractMatch || len(matched) != 2 || matched["refund"] != 1 || matched["charged twice"] != 1 ||
		!contains(r.ExtractResults["refund"], "refund") {
		t.Errorf("phrase matching: type %s, match %v, extract %v, utterances %v", r.OperatorType, r.ExtractMatch, r.ExtractResults, r.UtteranceResults)
	}
	if g := res[generative]; g.OperatorType != "json" || g.JSONResults["refund_requested"] != true || g.JSONResults["reason"] != "double charge" {
		t.Errorf("generative: %+v", g)
	}
	if !model.sawConversation("I want a refund right now") {
		t.Error("the language model was not given the conversation")
	}
	// The plain OperatorResults endpoint refuses: the server cannot read them.
	_, err = c.IntelligenceV2.ListOperatorResult(*tr.Sid, nil)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Status != 400 {
		t.Fatalf("plain operator results of an encrypted transcript: %v", err)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestFailingLanguageModel: a model that errors, answers garbage or hangs
// leaves the transcript completed, that operator's result failed with a
// readable reason, and the other operators unaffected.
func TestFailingLanguageModel(t *testing.T) {
	model := newFakeLLM(t, `{"refund_requested":true,"reason":"x"}`)
	s := StartServer(t, ServerOptions{Extra: []string{"--llm-url", model.URL + "/v1", "--llm-model", "m", "--llm-timeout", "1s"}})
	c := s.Twilio()
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("flaky"))
	if err != nil {
		t.Fatal(err)
	}
	generative := customOperator(t, s, "facts", "generative", map[string]any{"prompt": "Facts?",
		"json_result_schema": map[string]any{"type": "object", "required": []string{"refund_requested"}, "properties": map[string]any{"refund_requested": map[string]any{"type": "boolean"}}}})
	phrases := customOperator(t, s, "refunds", "phrase-matching", map[string]any{"phrases": []string{"refund"}})
	attach(t, s, *svc.Sid, generative, phrases)

	for _, mode := range []string{"500", "badjson", "hang"} {
		t.Run(mode, func(t *testing.T) {
			model.mode.Store(mode)
			tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
				SetChannel(Channel(DataURL(map[string]any{"sentences": refundCall}))))
			if err != nil {
				t.Fatal(err)
			}
			if done := WaitTranscript(t, c, *tr.Sid, 90*time.Second); *done.Status != "completed" {
				t.Fatalf("transcript %s", *done.Status)
			}
			results, err := c.IntelligenceV2.ListOperatorResult(*tr.Sid, nil)
			if err != nil {
				t.Fatal(err)
			}
			raw := map[string]map[string]any{}
			for _, r := range results {
				code, body := s.Do(t, "GET", "/v2/Transcripts/"+*tr.Sid+"/OperatorResults/"+*r.OperatorSid, nil)
				if code != 200 {
					t.Fatalf("fetch result: %d", code)
				}
				raw[*r.OperatorSid] = body
			}
			g, p := raw[generative], raw[phrases]
			// A failed result's operator_type is its type's, from the spec's enum.
			if g["status"] != "failed" || g["operator_type"] != "json" || g["failure_reason"] == "" || !strings.Contains(fmt.Sprint(g["failure_reason"]), "llm") {
				t.Fatalf("generative result with a %s model: %v", mode, g)
			}
			if strings.Contains(fmt.Sprint(g["failure_reason"]), "refund") {
				t.Fatalf("failure reason repeats conversation content: %v", g["failure_reason"])
			}
			if p["status"] != "completed" || p["operator_type"] != "extract" || p["extract_match"] != true {
				t.Fatalf("phrase matching was affected: %v", p)
			}
		})
	}
}

// TestAutoRedaction: with AutoRedaction on, the redacted and unredacted
// variants of the sentences and of operator results differ exactly at the PII.
func TestAutoRedaction(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("redacting").
		SetAutoRedaction(true).SetEncryptionCredentialSid(cred))
	if err != nil {
		t.Fatal(err)
	}
	piiOp := prebuilt(t, s, "PII Extraction")
	attach(t, s, *svc.Sid, piiOp)
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": refundCall}))))
	if err != nil {
		t.Fatal(err)
	}
	if done := WaitTranscript(t, c, *tr.Sid, 60*time.Second); !*done.Redaction {
		t.Fatal("transcript does not record redaction")
	}
	get := func(redacted bool) sealedSentences {
		enc, err := c.IntelligenceV2.FetchEncryptedSentences(*tr.Sid, (&intelligence.FetchEncryptedSentencesParams{}).SetRedacted(redacted))
		if err != nil {
			t.Fatal(err)
		}
		var doc sealedSentences
		if err := json.Unmarshal(SeedDecrypt(t, kf.Private, *enc.Location), &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	plain, red := get(false), get(true)
	want := map[int]string{ // sentence index → expected redacted text
		0: "Thank you for calling Acme support, my name is [PERSON], this call may be recorded for quality purposes.",
		3: "It's [EMAIL] and my phone is [PHONE_NUMBER].",
	}
	for i := range plain.Sentences {
		p, r := plain.Sentences[i].Transcript, red.Sentences[i].Transcript
		if p != refundCall[i].Transcript {
			t.Fatalf("unredacted sentence %d changed: %q", i, p)
		}
		if w, ok := want[i]; ok {
			if r != w {
				t.Errorf("redacted sentence %d = %q, want %q", i, r, w)
			}
		} else if r != p {
			t.Errorf("sentence %d has no PII but differs: %q vs %q", i, r, p)
		}
	}
	// Default (Redacted omitted) is the redacted variant, as in the spec.
	if def := get(true); def.Sentences[3].Transcript != want[3] {
		t.Errorf("default variant is not redacted")
	}
	pr, rr := decryptResults(t, s, kf.Private, *tr.Sid, false)[piiOp], decryptResults(t, s, kf.Private, *tr.Sid, true)[piiOp]
	// The redacted result is the operator run on the redacted text: it
	// finds no PII there (TestRedactedArtifactsHoldNoPII covers the rest).
	if !contains(pr.ExtractResults["EMAIL"], "jane.doe@example.com") || len(rr.ExtractResults) != 0 {
		t.Errorf("PII operator result variants: unredacted %v, redacted %v", pr.ExtractResults, rr.ExtractResults)
	}
	for _, m := range []string{"jane.doe@example.com", "555-0132"} {
		b, _ := json.Marshal(rr)
		if strings.Contains(string(b), m) {
			t.Errorf("redacted operator result contains %q", m)
		}
	}
}

// TestWebhooks: completion and failure events are signed as Twilio signs
// them (validated with twilio-go's validator) and retried until delivered.
func TestWebhooks(t *testing.T) {
	type hit struct {
		valid  bool
		params url.Values
		status int
	}
	var (
		mu   sync.Mutex
		hits []hit
		fail = 2 // the receiver fails the first two deliveries
	)
	var s *Server
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		params := map[string]string{}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
		fullURL := "http://" + r.Host + r.URL.RequestURI()
		v := client.NewRequestValidator(s.AuthToken)
		valid := v.Validate(fullURL, params, r.Header.Get("X-Twilio-Signature"))
		mu.Lock()
		defer mu.Unlock()
		status := 204
		if fail > 0 {
			fail--
			status = 500
		}
		hits = append(hits, hit{valid, r.PostForm, status})
		w.WriteHeader(status)
	}))
	defer recv.Close()
	s = StartServer(t, ServerOptions{Extra: []string{"--webhook-retry", "200ms"}})
	c := s.Twilio()
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("hooked").
		SetWebhookUrl(recv.URL + "/events?source=convoseal").SetWebhookHttpMethod("POST"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": refundCall}))).SetCustomerKey("order-77"))
	if err != nil {
		t.Fatal(err)
	}
	WaitTranscript(t, c, *tr.Sid, 30*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(hits)
		mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // no further deliveries after the success
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 3 || hits[2].status != 204 {
		t.Fatalf("deliveries: %d (want 2 failures then 1 success)", len(hits))
	}
	for i, h := range hits {
		if !h.valid {
			t.Fatalf("delivery %d: X-Twilio-Signature does not validate with twilio-go", i)
		}
		if h.params.Get("TranscriptSid") != *tr.Sid || h.params.Get("Status") != "completed" ||
			h.params.Get("EventType") != "voice_intelligence_transcript_available" || h.params.Get("CustomerKey") != "order-77" {
			t.Fatalf("delivery %d params: %v", i, h.params)
		}
		for k, v := range h.params {
			if strings.Contains(strings.Join(v, " "), "refund") {
				t.Fatalf("webhook carries transcript content in %s", k)
			}
		}
	}
	// The delivery state shows in /metrics (summed over the processes, as
	// a dashboard over their scrapes would).
	for series, want := range map[string]float64{`convoseal_webhook_deliveries_total{outcome="retry"}`: 2,
		`convoseal_webhook_deliveries_total{outcome="delivered"}`: 1} {
		if got := s.Metric(t, series); got != want {
			t.Errorf("/metrics: %s is %v, want %v", series, got, want)
		}
	}
	// A wrong token does not validate: the check above can fail.
	other := client.NewRequestValidator("0123456789abcdef0123456789abcdef")
	if other.Validate(recv.URL, map[string]string{"a": "b"}, "bogus") {
		t.Fatal("validator accepts anything")
	}
}

// TestDataLogging: only the operator can switch it on; then each new
// transcript leaves a copy sealed with the server key in its own area, which
// the customer's key cannot open, and nothing in the clear on disk.
func TestDataLogging(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	_, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("logged").SetEncryptionCredentialSid(cred))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.IntelligenceV2.UpdateService(*svc.Sid, (&intelligence.UpdateServiceParams{}).SetDataLogging(true)); err == nil {
		t.Fatal("data logging switched on through the API")
	}
	out, err := s.CLI("services", "data-logging", *svc.Sid, "on").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "data logging ON") {
		t.Fatalf("services data-logging: %v %s", err, out)
	}
	if got, _ := c.IntelligenceV2.FetchService(*svc.Sid); !*got.DataLogging {
		t.Fatal("service resource does not show data_logging")
	}
	marker := "DATALOG-MARKER-" + fmt.Sprint(time.Now().UnixNano())
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": []sentenceIn{{1, 0, 1, "hello " + marker, 0.9, nil}}}))))
	if err != nil {
		t.Fatal(err)
	}
	if done := WaitTranscript(t, c, *tr.Sid, 30*time.Second); !*done.DataLogging {
		t.Fatal("transcript does not record data logging")
	}
	copyKey := "datalogging/" + s.AccountSID + "/" + *tr.Sid + "/sentences/unredacted"
	b, ok := s.ReadBlob(t, copyKey)
	if !ok {
		t.Fatalf("no data-logging copy %s among %v", copyKey, s.Blobs(t))
	}
	if !strings.Contains(string(b), "A256GCMKW") || strings.Contains(string(b), marker) {
		t.Fatal("data-logging copy is not sealed with the server key")
	}
	if err := c.IntelligenceV2.DeleteTranscript(*tr.Sid); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.ReadBlob(t, copyKey); ok {
		t.Fatal("data-logging copy survives the transcript's deletion")
	}
}

// TestWebhookOnFailure: a transcript that fails sends the failed event, by
// GET when the Service asks for GET, still signed.
func TestWebhookOnFailure(t *testing.T) {
	got := make(chan url.Values, 4)
	var s *Server
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := client.NewRequestValidator(s.AuthToken)
		if r.Method != http.MethodGet || !v.Validate("http://"+r.Host+r.URL.RequestURI(), map[string]string{}, r.Header.Get("X-Twilio-Signature")) {
			w.WriteHeader(400)
			got <- nil
			return
		}
		got <- r.URL.Query()
	}))
	defer recv.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"sentences":[{"media_channel":1,"start_time":2,"end_time":1,"transcript":"backwards"}]}`))
	}))
	defer bad.Close()
	s = StartServer(t, ServerOptions{})
	c := s.Twilio()
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("hooked-get").
		SetWebhookUrl(recv.URL + "/hook").SetWebhookHttpMethod("GET"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(bad.URL + "/doc.json")))
	if err != nil {
		t.Fatal(err)
	}
	if done := WaitTranscript(t, c, *tr.Sid, 30*time.Second); *done.Status != "failed" {
		t.Fatalf("transcript %s, want failed", *done.Status)
	}
	select {
	case q := <-got:
		if q == nil {
			t.Fatal("GET webhook was not signed as twilio-go expects")
		}
		if q.Get("TranscriptSid") != *tr.Sid || q.Get("Status") != "failed" || q.Get("EventType") != "voice_intelligence_transcript_failed" {
			t.Fatalf("failure event: %v", q)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook for the failed transcript")
	}
}
