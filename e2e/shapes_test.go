package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// doHeader is Server.Do that also returns the response headers.
func doHeader(t *testing.T, s *Server, method, path string, form url.Values, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	var body []byte
	if form != nil && method != http.MethodGet {
		body = []byte(form.Encode())
	} else if form != nil {
		path += "?" + form.Encode()
	}
	req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

// TestShapesSentences: every sentence has the spec's `words` key (null
// without word timings), unknown confidence is null, and word times are
// strings like the sentence's.
func TestShapesSentences(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("shapes"))
	if err != nil {
		t.Fatal(err)
	}
	doc := []sentenceIn{
		{1, 0.0, 2.1, "Hello there.", 0.94, []any{map[string]any{"word": "Hello", "start_time": 0.0, "end_time": 0.3}, map[string]any{"word": "there", "start_time": 0.4, "end_time": 0.9}}},
		{2, 2.4, 5.0, "No confidence and no words here.", 0, nil},
	}
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": doc}))))
	if err != nil {
		t.Fatal(err)
	}
	if done := WaitTranscript(t, c, *tr.Sid, 60*time.Second); *done.Status != "completed" {
		t.Fatalf("transcript %s", *done.Status)
	}
	for _, words := range []string{"false", "true"} {
		code, body := s.Do(t, "GET", "/v2/Transcripts/"+*tr.Sid+"/Sentences", url.Values{"WordTimestamps": {words}})
		sentences, _ := body["sentences"].([]any)
		if code != 200 || len(sentences) != 2 {
			t.Fatalf("WordTimestamps=%s: %d %v", words, code, body)
		}
		for i, raw := range sentences {
			sen := raw.(map[string]any)
			w, has := sen["words"]
			if !has {
				t.Errorf("WordTimestamps=%s: sentence %d has no words key: %v", words, i, sen)
			}
			if (words == "false" || i == 1) && w != nil {
				t.Errorf("WordTimestamps=%s: sentence %d words %v, want null", words, i, w)
			}
		}
		first, second := sentences[0].(map[string]any), sentences[1].(map[string]any)
		if first["confidence"] != "0.94" || second["confidence"] != nil {
			t.Errorf("confidence %v and %v, want \"0.94\" and null", first["confidence"], second["confidence"])
		}
		if words == "true" {
			ws, _ := first["words"].([]any)
			if len(ws) != 2 {
				t.Fatalf("words %v", first["words"])
			}
			w := ws[1].(map[string]any)
			if w["start_time"] != "0.4" || w["end_time"] != "0.9" || first["start_time"] != "0" {
				t.Errorf("word times %v/%v (sentence %v): want strings as the sentence's", w["start_time"], w["end_time"], first["start_time"])
			}
		}
	}
}

// TestShapesOperatorsLanguage: LanguageCode filters the operator and
// operator-type lists; an operator fetched at /v2/Operators/{Sid} answers
// with that URL.
func TestShapesOperatorsLanguage(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	custom := customOperator(t, s, "refunds", "phrase-matching", map[string]any{"phrases": []string{"refund"}})
	for _, path := range []string{"/v2/Operators", "/v2/Operators/PreBuilt", "/v2/Operators/Custom", "/v2/OperatorTypes"} {
		key := "operators"
		if path == "/v2/OperatorTypes" {
			key = "operator_types"
		}
		for lang, want := range map[string]bool{"en-US": true, "en-us": true, "fr-FR": false} {
			code, body := s.Do(t, "GET", path, url.Values{"LanguageCode": {lang}})
			list, _ := body[key].([]any)
			if code != 200 || (len(list) > 0) != want {
				t.Errorf("%s?LanguageCode=%s: %d with %d %s, want some: %v", path, lang, code, len(list), key, want)
			}
		}
	}
	for _, path := range []string{"/v2/Operators/" + custom, "/v2/Operators/Custom/" + custom} {
		code, body := s.Do(t, "GET", path, nil)
		if code != 200 || !strings.HasSuffix(body["url"].(string), path) {
			t.Errorf("GET %s: %d url %v", path, code, body["url"])
		}
	}
	code, body := s.Do(t, "GET", "/v2/Operators/PreBuilt", url.Values{"PageSize": {"1"}})
	list, _ := body["operators"].([]any)
	if code != 200 || len(list) != 1 {
		t.Fatalf("pre-built operators: %d %v", code, body)
	}
	prebuilt := list[0].(map[string]any)["sid"].(string)
	if code, body = s.Do(t, "GET", "/v2/Operators/"+prebuilt, nil); code != 200 || !strings.HasSuffix(body["url"].(string), "/v2/Operators/"+prebuilt) {
		t.Errorf("GET /v2/Operators/%s: %d url %v", prebuilt, code, body["url"])
	}
}

// TestShapesServiceFields: LanguageCode is fixed after creation, MediaRedaction
// needs AutoRedaction, unset friendly_name/webhook_url are null, and Services
// and custom operators carry an ETag (their version) that If-Match takes.
func TestShapesServiceFields(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	code, svc, h := doHeader(t, s, "POST", "/v2/Services", url.Values{"UniqueName": {"bare"}}, nil)
	if code != 201 {
		t.Fatalf("create: %d %v", code, svc)
	}
	for _, k := range []string{"friendly_name", "webhook_url"} {
		if v, has := svc[k]; !has || v != nil {
			t.Errorf("unset %s = %#v, want null", k, v)
		}
	}
	sid := svc["sid"].(string)
	if h.Get("ETag") != "1" {
		t.Errorf("create ETag %q, want 1", h.Get("ETag"))
	}
	if code, _, h = doHeader(t, s, "GET", "/v2/Services/"+sid, nil, nil); code != 200 || h.Get("ETag") != "1" {
		t.Errorf("fetch: %d ETag %q", code, h.Get("ETag"))
	}
	if code, body := s.Do(t, "POST", "/v2/Services/"+sid, url.Values{"LanguageCode": {"fr-FR"}}); code != 400 || !strings.Contains(body["message"].(string), "LanguageCode") {
		t.Errorf("changing LanguageCode: %d %v, want 400", code, body)
	}
	if code, body := s.Do(t, "POST", "/v2/Services", url.Values{"UniqueName": {"mr"}, "MediaRedaction": {"true"}}); code != 400 {
		t.Errorf("MediaRedaction without AutoRedaction: %d %v, want 400", code, body)
	}
	code, body, h := doHeader(t, s, "POST", "/v2/Services/"+sid, url.Values{"FriendlyName": {"named"}, "LanguageCode": {"en-US"}}, map[string]string{"If-Match": "1"})
	if code != 200 || body["friendly_name"] != "named" || h.Get("ETag") != "2" || body["version"] != 2.0 {
		t.Errorf("update with the same LanguageCode: %d ETag %q %v", code, h.Get("ETag"), body)
	}
	if code, _, _ := doHeader(t, s, "POST", "/v2/Services/"+sid, url.Values{"FriendlyName": {"stale"}}, map[string]string{"If-Match": "1"}); code != 412 {
		t.Errorf("stale If-Match: %d, want 412", code)
	}

	cfg, _ := json.Marshal(map[string]any{"phrases": []string{"refund"}})
	code, op, h := doHeader(t, s, "POST", "/v2/Operators/Custom", url.Values{"FriendlyName": {"o"}, "OperatorType": {"phrase-matching"}, "Config": {string(cfg)}}, nil)
	if code != 202 || h.Get("ETag") != strconv.Itoa(int(op["version"].(float64))) {
		t.Fatalf("create operator: %d ETag %q %v", code, h.Get("ETag"), op)
	}
	opSID := op["sid"].(string)
	if code, _, h = doHeader(t, s, "GET", "/v2/Operators/Custom/"+opSID, nil, nil); code != 200 || h.Get("ETag") != "1" {
		t.Errorf("fetch operator: %d ETag %q", code, h.Get("ETag"))
	}
	code, _, h = doHeader(t, s, "POST", "/v2/Operators/Custom/"+opSID, url.Values{"FriendlyName": {"o2"}, "Config": {string(cfg)}}, map[string]string{"If-Match": "1"})
	if code != 202 || h.Get("ETag") != "2" {
		t.Errorf("update operator: %d ETag %q", code, h.Get("ETag"))
	}
}
