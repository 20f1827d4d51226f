package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/interop"
)

// outsideProduct are the Accounts v1 operations convoseal does not offer
// (it implements only Credentials/PublicKeys there). TestConformance walks
// every other operation of both specs and fails if one is left unwalked.
var outsideProduct = regexp.MustCompile(`^(POST|GET|PUT|PATCH|DELETE) /v1/(AuthTokens|Consents|Contacts|Credentials/AWS|Messaging|SafeList)(/|$)`)

// TestConformance walks every operation of the vendored Accounts v1 and
// Intelligence v2 specs against the real binary, with a key, Services with
// operators, completed transcripts with sentences and operator results and
// custom operators in place, and checks each answer: the documented success
// status, the declared headers (ETag), and the body against the operation's
// response schema (every property present as a key, JSON types,
// nullability, enums, uri and date-time formats, the list meta). It reports
// every mismatch, not only the first.
func TestConformance(t *testing.T) {
	var ops = map[string]specOp{} // "METHOD /path" → operation
	var specOps []string
	for _, f := range []string{"twilio_accounts_v1.json", "twilio_intelligence_v2.json"} {
		doc, err := loadOpenAPI(filepath.Join("testdata", "specs", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range doc.operations() {
			ops[o.String()] = o
			specOps = append(specOps, o.String())
		}
	}

	model := newFakeLLM(t, `{"refund_requested":true,"reason":"double charge"}`)
	s := StartServer(t, ServerOptions{Extra: []string{"--llm-url", model.URL + "/v1", "--llm-model", "test-model"}})
	w := &conformWalk{t: t, s: s, ops: ops, walked: map[string]int{}}

	// Accounts v1: public keys (the second one is deleted at the end).
	kf := interop.GenerateKeys(t, 2048)
	pemBytes, err := os.ReadFile(kf.Public)
	if err != nil {
		t.Fatal(err)
	}
	key := w.sid(w.call("POST", "/v1/Credentials/PublicKeys", "", url.Values{"PublicKey": {string(pemBytes)}, "FriendlyName": {"conformance"}}))
	spareKey := w.sid(w.call("POST", "/v1/Credentials/PublicKeys", "", url.Values{"PublicKey": {string(pemBytes)}}))
	w.call("GET", "/v1/Credentials/PublicKeys", "", nil)
	w.call("GET", "/v1/Credentials/PublicKeys/{Sid}", key, nil)
	w.call("POST", "/v1/Credentials/PublicKeys/{Sid}", key, url.Values{"FriendlyName": {"conformance key"}})

	// Operators and their types.
	opTypes := w.call("GET", "/v2/OperatorTypes", "", nil)
	for _, ot := range listOf(opTypes, "operator_types") {
		w.call("GET", "/v2/OperatorTypes/{Sid}", str(ot["sid"]), nil)
	}
	var prebuiltSIDs []string
	for _, o := range listOf(w.call("GET", "/v2/Operators/PreBuilt", "", url.Values{"PageSize": {"50"}}), "operators") {
		switch o["friendly_name"] {
		case "Escalation Request", "PII Extraction", "Agent Introduction":
			prebuiltSIDs = append(prebuiltSIDs, str(o["sid"]))
		}
	}
	if len(prebuiltSIDs) == 0 {
		t.Fatal("no pre-built operators to attach")
	}
	w.call("GET", "/v2/Operators/PreBuilt/{Sid}", prebuiltSIDs[0], nil)
	phraseConfig := `{"phrases":["refund","charged twice"]}`
	phrases := w.sid(w.call("POST", "/v2/Operators/Custom", "", url.Values{"FriendlyName": {"Refund mentions"}, "OperatorType": {"phrase-matching"}, "Config": {phraseConfig}}))
	generative := w.sid(w.call("POST", "/v2/Operators/Custom", "", url.Values{"FriendlyName": {"Refund facts"}, "OperatorType": {"generative"},
		"Config": {`{"prompt":"Did the customer ask for a refund, and why?","json_result_schema":{"type":"object","required":["refund_requested","reason"],"properties":{"refund_requested":{"type":"boolean"},"reason":{"type":"string"}}}}`}}))
	spareOp := w.sid(w.call("POST", "/v2/Operators/Custom", "", url.Values{"FriendlyName": {"Spare"}, "OperatorType": {"phrase-matching"}, "Config": {phraseConfig}}))
	w.call("GET", "/v2/Operators/Custom", "", nil)
	w.call("GET", "/v2/Operators/Custom/{Sid}", phrases, nil)
	w.call("POST", "/v2/Operators/Custom/{Sid}", spareOp, url.Values{"FriendlyName": {"Spare 2"}, "Config": {phraseConfig}})
	w.call("GET", "/v2/Operators", "", url.Values{"PageSize": {"50"}})
	w.call("GET", "/v2/Operators/{Sid}", prebuiltSIDs[0], nil)
	w.call("GET", "/v2/Operators/{Sid}", phrases, nil)

	// Services: one on the server's key (plain endpoints), one on the
	// customer's key (encrypted endpoints), one to update and delete. The
	// first has no friendly name or webhook: those come back null.
	plain := w.sid(w.call("POST", "/v2/Services", "", url.Values{"UniqueName": {"conform-plain"}}))
	sealed := w.sid(w.call("POST", "/v2/Services", "", url.Values{"UniqueName": {"conform-sealed"}, "FriendlyName": {"Sealed"},
		"EncryptionCredentialSid": {key}, "WebhookUrl": {"http://127.0.0.1:9/hook"}, "WebhookHttpMethod": {"POST"}}))
	spareSvc := w.sid(w.call("POST", "/v2/Services", "", url.Values{"UniqueName": {"conform-spare"}}))
	w.call("GET", "/v2/Services", "", nil)
	w.call("GET", "/v2/Services/{Sid}", plain, nil)
	w.call("POST", "/v2/Services/{Sid}", spareSvc, url.Values{"FriendlyName": {"Spare service"}})
	if out, err := s.CLI("services", "llm", sealed, "on").CombinedOutput(); err != nil {
		t.Fatalf("services llm on: %v %s", err, out)
	}
	for _, svc := range []string{plain, sealed} {
		for _, op := range append([]string{phrases, generative}, prebuiltSIDs...) {
			w.call("POST", "/v2/Services/{ServiceSid}/Operators/{OperatorSid}", svc+"\x00"+op, nil)
		}
	}
	w.call("POST", "/v2/Services/{ServiceSid}/Operators/{OperatorSid}", spareSvc+"\x00"+phrases, nil)
	w.call("GET", "/v2/Services/{ServiceSid}/Operators", plain, nil)

	// Transcripts: sentences with and without word timings and confidence.
	conversation := append([]sentenceIn{}, refundCall...)
	conversation[0].Words = []any{map[string]any{"word": "Thank", "start_time": 0.0, "end_time": 0.3}}
	conversation[1].Confidence = 0
	channel, _ := json.Marshal(Channel(DataURL(map[string]any{"sentences": conversation})))
	var transcripts []string
	for _, svc := range []string{plain, sealed} {
		transcripts = append(transcripts, w.sid(w.call("POST", "/v2/Transcripts", "", url.Values{"ServiceSid": {svc}, "Channel": {string(channel)}, "CustomerKey": {"order-1"}})))
	}
	for _, tr := range transcripts {
		w.waitCompleted(tr)
	}
	plainTr, sealedTr := transcripts[0], transcripts[1]
	w.call("GET", "/v2/Transcripts", "", nil)
	w.call("GET", "/v2/Transcripts/{Sid}", plainTr, nil)
	w.call("GET", "/v2/Transcripts/{Sid}", sealedTr, nil)
	w.call("GET", "/v2/Transcripts/{Sid}/Media", plainTr, nil)
	w.call("GET", "/v2/Transcripts/{TranscriptSid}/Sentences", plainTr, url.Values{"PageSize": {"50"}})
	w.call("GET", "/v2/Transcripts/{TranscriptSid}/Sentences", plainTr, url.Values{"PageSize": {"50"}, "WordTimestamps": {"true"}})
	w.call("GET", "/v2/Transcripts/{TranscriptSid}/Sentences/Encrypted", sealedTr, nil)
	results := w.call("GET", "/v2/Transcripts/{TranscriptSid}/OperatorResults", plainTr, url.Values{"PageSize": {"50"}})
	if n := len(listOf(results, "operator_results")); n != 2+len(prebuiltSIDs) {
		t.Errorf("GET /v2/Transcripts/%s/OperatorResults: %d results, want %d", plainTr, n, 2+len(prebuiltSIDs))
	}
	for _, op := range append([]string{phrases, generative}, prebuiltSIDs...) {
		w.call("GET", "/v2/Transcripts/{TranscriptSid}/OperatorResults/{OperatorSid}", plainTr+"\x00"+op, nil)
	}
	w.call("GET", "/v2/Transcripts/{TranscriptSid}/OperatorResults/Encrypted", sealedTr, nil)

	w.semantics(plain, plainTr)
	w.resultTypes(opTypes, results)

	// A failed operator result (the language model answers 500) has the
	// same shape, and a type in the enum that agrees with its operator.
	model.mode.Store("500")
	failing := w.sid(w.call("POST", "/v2/Transcripts", "", url.Values{"ServiceSid": {plain}, "Channel": {string(channel)}}))
	w.waitCompleted(failing)
	failed := w.call("GET", "/v2/Transcripts/{TranscriptSid}/OperatorResults", failing, url.Values{"PageSize": {"50"}})
	w.call("GET", "/v2/Transcripts/{TranscriptSid}/OperatorResults/{OperatorSid}", failing+"\x00"+generative, nil)
	w.resultTypes(opTypes, failed)

	// Paging: walk the sentences two at a time, forwards by next_page_url
	// and back by previous_page_url, as the SDKs do.
	w.paging(fmt.Sprintf("/v2/Transcripts/%s/Sentences", plainTr), "/v2/Transcripts/{TranscriptSid}/Sentences", "sentences", len(conversation))

	// A method an existing path does not offer: 405 with Allow.
	for _, p := range []string{"/v2/Services/" + plain, "/v2/OperatorTypes", "/v1/Credentials/PublicKeys/" + key} {
		status, header, _ := w.do("PUT", s.URL+p, url.Values{})
		if status != http.StatusMethodNotAllowed || header.Get("Allow") == "" {
			w.fail(fmt.Sprintf("PUT %s: status %d, Allow %q; want 405 with Allow", p, status, header.Get("Allow")))
		}
	}

	// Deletes last.
	w.call("DELETE", "/v2/Services/{ServiceSid}/Operators/{OperatorSid}", spareSvc+"\x00"+phrases, nil)
	w.call("DELETE", "/v2/Transcripts/{Sid}", plainTr, nil)
	w.call("DELETE", "/v2/Operators/Custom/{Sid}", spareOp, nil)
	w.call("DELETE", "/v2/Services/{Sid}", spareSvc, nil)
	w.call("DELETE", "/v1/Credentials/PublicKeys/{Sid}", spareKey, nil)

	// Every operation of the specs was walked, or is outside the product.
	var skipped int
	for _, op := range specOps {
		switch {
		case outsideProduct.MatchString(op):
			skipped++
		case w.walked[op] == 0:
			w.fail(op + ": not walked by the test")
		}
	}
	t.Logf("conformance: %d operations of %d in the specs walked (%d Accounts v1 operations outside the product), %d requests, %d response properties checked",
		len(specOps)-skipped, len(specOps), skipped, w.requests, w.props)
	if len(w.errs) > 0 {
		t.Errorf("%d mismatches with the specs:\n%s", len(w.errs), strings.Join(w.errs, "\n"))
	}
}

// conformWalk sends the requests of TestConformance and collects every
// mismatch with the specs.
type conformWalk struct {
	t        *testing.T
	s        *Server
	ops      map[string]specOp
	walked   map[string]int
	errs     []string
	requests int
	props    int
}

// call sends method on the template with ids filled in (several path
// parameters are separated by NUL), checks the answer against the operation
// and returns the decoded body (nil for none).
func (w *conformWalk) call(method, tmpl, ids string, form url.Values) map[string]any {
	w.t.Helper()
	op, ok := w.ops[method+" "+tmpl]
	if !ok {
		w.t.Fatalf("%s %s is not an operation of the specs", method, tmpl)
	}
	path := tmpl
	for _, id := range strings.Split(ids, "\x00") {
		if i := strings.Index(path, "{"); i >= 0 && id != "" {
			j := strings.Index(path, "}")
			path = path[:i] + url.PathEscape(id) + path[j+1:]
		}
	}
	w.walked[op.String()]++
	body := w.checkURL(op, method, w.s.URL+path, form)
	// A resource fetched by its own URL names that URL.
	if u, ok := body["url"].(string); ok && method == "GET" && strings.HasSuffix(tmpl, "}") && u != w.s.URL+path {
		w.fail(fmt.Sprintf("%s: .url %q, want the URL asked, %q", op, u, w.s.URL+path))
	}
	return body
}

// checkURL sends one request to an absolute URL and checks the answer
// against op.
func (w *conformWalk) checkURL(op specOp, method, target string, form url.Values) map[string]any {
	w.t.Helper()
	w.requests++
	status, header, body := w.do(method, target, form)
	label := op.String()
	if status != op.Status {
		w.fail(fmt.Sprintf("%s: status %d, want %d (%s)", label, status, op.Status, short(string(body))))
		if status/100 != 2 {
			return nil
		}
	}
	for _, h := range op.Headers {
		if h == "ETag" && header.Get(h) == "" && status != http.StatusNoContent {
			w.fail(fmt.Sprintf("%s: no %s header (the spec declares one)", label, h))
		}
	}
	if op.Schema == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			w.fail(fmt.Sprintf("%s: a body %s, the spec declares none", label, short(string(body))))
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		w.fail(fmt.Sprintf("%s: body is not JSON: %v", label, err))
		return nil
	}
	c := &schemaCheck{doc: op.Doc}
	c.check(op.Schema, v, "")
	w.props += c.props
	for _, e := range c.errs {
		w.fail(label + ": " + e)
	}
	m, _ := v.(map[string]any)
	if meta, ok := m["meta"].(map[string]any); ok {
		// The list's meta names its rows' key and the URL that was asked.
		if _, isList := m[str(meta["key"])].([]any); !isList {
			w.fail(fmt.Sprintf("%s: .meta.key %s names no list in the answer", label, short(meta["key"])))
		}
		asked, _ := url.Parse(target)
		if u, err := url.Parse(str(meta["url"])); err != nil || u.Path != asked.Path {
			w.fail(fmt.Sprintf("%s: .meta.url %s, want the path asked, %s", label, short(meta["url"]), asked.Path))
		}
	}
	return m
}

// fail records a mismatch once, however many requests show it.
func (w *conformWalk) fail(e string) {
	if !slices.Contains(w.errs, e) {
		w.errs = append(w.errs, e)
	}
}

func (w *conformWalk) do(method, target string, form url.Values) (int, http.Header, []byte) {
	w.t.Helper()
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if form != nil {
			target += "?" + form.Encode()
		}
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(w.s.AccountSID, w.s.AuthToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp.StatusCode, resp.Header, b
}

// sid is the sid of a created resource; the walk cannot go on without it.
func (w *conformWalk) sid(body map[string]any) string {
	w.t.Helper()
	sid := str(body["sid"])
	if sid == "" {
		w.t.Fatalf("no sid in %v; mismatches so far:\n%s", body, strings.Join(w.errs, "\n"))
	}
	return sid
}

func (w *conformWalk) waitCompleted(sid string) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, _, b := w.do("GET", w.s.URL+"/v2/Transcripts/"+sid, nil)
		var tr map[string]any
		json.Unmarshal(b, &tr)
		switch tr["status"] {
		case "completed":
			return
		case "failed":
			w.t.Fatalf("transcript %s failed", sid)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("transcript %s still %v after 60s", sid, tr["status"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// paging walks a list PageSize=2 forwards by next_page_url and back by
// previous_page_url, checks every page against the schema, and that the
// meta links agree with the page: previous_page_url null exactly on page 0,
// next_page_url null exactly on the last, page counting up from 0, and the
// rows of each page the same going back as going forward.
func (w *conformWalk) paging(path, tmpl, key string, total int) {
	w.t.Helper()
	op := w.ops["GET "+tmpl]
	label := op.String() + " (paging)"
	next := w.s.URL + path + "?PageSize=2"
	var forward []string // first row sid of each page
	for page := 0; next != ""; page++ {
		if page > total {
			w.fail(label + ": more pages than rows")
			return
		}
		body := w.checkURL(op, "GET", next, nil)
		if body == nil {
			return
		}
		meta, _ := body["meta"].(map[string]any)
		rows := listOf(body, key)
		if len(rows) > 0 {
			forward = append(forward, str(rows[0]["sid"]))
		}
		if p, _ := meta["page"].(json.Number); p.String() != fmt.Sprint(page) {
			w.fail(fmt.Sprintf("%s: .meta.page %v on page %d", label, meta["page"], page))
		}
		prev, _ := meta["previous_page_url"].(string)
		if (page == 0) != (prev == "") {
			w.fail(fmt.Sprintf("%s: .meta.previous_page_url %v on page %d", label, short(meta["previous_page_url"]), page))
		}
		next, _ = meta["next_page_url"].(string)
		last := (page+1)*2 >= total
		if last != (next == "") {
			w.fail(fmt.Sprintf("%s: .meta.next_page_url %v on page %d of %d rows", label, short(meta["next_page_url"]), page, total))
		}
		if last && prev != "" {
			// Back one page: the same rows as on the way forward.
			back := w.checkURL(op, "GET", prev, nil)
			if rows := listOf(back, key); len(forward) >= 2 && (len(rows) == 0 || str(rows[0]["sid"]) != forward[len(forward)-2]) {
				w.fail(fmt.Sprintf("%s: previous_page_url of page %d does not answer page %d's rows", label, page, page-1))
			}
		}
	}
	// A bare Page=1 (no PageToken) answers page 1's rows or refuses.
	status, _, b := w.do("GET", w.s.URL+path+"?PageSize=2&Page=1", nil)
	var m map[string]any
	json.Unmarshal(b, &m)
	if rows := listOf(m, key); status == 200 && len(forward) > 1 && (len(rows) == 0 || str(rows[0]["sid"]) != forward[1]) {
		w.fail(fmt.Sprintf("%s: Page=1 without PageToken answers rows that are not page 1's", label))
	}
}

// semantics checks what a schema cannot say: unset Service fields are null,
// an unknown sentence confidence is null, a sentence without word timings
// has words null and word times have the sentence times' type.
func (w *conformWalk) semantics(service, transcript string) {
	w.t.Helper()
	_, _, b := w.do("GET", w.s.URL+"/v2/Services/"+service, nil)
	var svc map[string]any
	json.Unmarshal(b, &svc)
	for _, k := range []string{"friendly_name", "webhook_url"} {
		if v, ok := svc[k]; ok && v != nil {
			w.fail(fmt.Sprintf("GET /v2/Services/{Sid}: .%s %s for a Service created without it, want null", k, short(v)))
		}
	}

	_, _, b = w.do("GET", w.s.URL+"/v2/Transcripts/"+transcript+"/Sentences", url.Values{"PageSize": {"50"}, "WordTimestamps": {"true"}})
	var list map[string]any
	json.Unmarshal(b, &list)
	const label = "GET /v2/Transcripts/{TranscriptSid}/Sentences"
	sentences := listOf(list, "sentences")
	if len(sentences) < 2 {
		w.fail(fmt.Sprintf("%s: %d sentences", label, len(sentences)))
		return
	}
	if c := sentences[1]["confidence"]; c != nil {
		w.fail(fmt.Sprintf("%s: .sentences[1].confidence %s for a sentence of unknown confidence, want null", label, short(c)))
	}
	if ws, present := sentences[1]["words"]; !present || ws != nil {
		w.fail(fmt.Sprintf("%s?WordTimestamps=true: .sentences[1].words %s (present %v) for a sentence without word timings, want null", label, short(ws), present))
	}
	words, _ := sentences[0]["words"].([]any)
	if len(words) == 0 {
		w.fail(fmt.Sprintf("%s?WordTimestamps=true: .sentences[0].words %s, want the word timings given", label, short(sentences[0]["words"])))
	}
	for i, wd := range words {
		m, _ := wd.(map[string]any)
		for _, k := range []string{"start_time", "end_time"} {
			if a, b := jsonType(m[k]), jsonType(sentences[0][k]); a != b {
				w.fail(fmt.Sprintf("%s?WordTimestamps=true: .sentences[0].words[%d].%s is %s, the sentence's is %s", label, i, k, a, b))
			}
		}
	}
}

// resultTypes checks that every operator result's operator_type agrees with
// its operator's OperatorType (its output_type), or with the operator's
// operator_type where that names no OperatorType (pre-built operators).
func (w *conformWalk) resultTypes(opTypes, results map[string]any) {
	w.t.Helper()
	// operator → its operator_type; OperatorType name → output_type.
	outputOf := map[string]string{}
	for _, ot := range listOf(opTypes, "operator_types") {
		outputOf[str(ot["name"])] = str(ot["output_type"])
	}
	_, _, b := w.do("GET", w.s.URL+"/v2/Operators", url.Values{"PageSize": {"100"}})
	var operators map[string]any
	json.Unmarshal(b, &operators)
	typeOf := map[string]string{}
	for _, o := range listOf(operators, "operators") {
		typeOf[str(o["sid"])] = str(o["operator_type"])
	}
	resultTypes := map[string][]string{ // output_type → result operator_type values it allows
		"text-classification":        {"conversation-classify", "utterance-classify"},
		"text-extraction":            {"extract", "pii-extract"},
		"text-extraction-normalized": {"extract-normalize"},
		"text-generation":            {"text-generation"},
		"json":                       {"json"},
	}
	for i, r := range listOf(results, "operator_results") {
		got, opType := str(r["operator_type"]), typeOf[str(r["operator_sid"])]
		where := fmt.Sprintf("GET /v2/Transcripts/{TranscriptSid}/OperatorResults: .operator_results[%d] (%s, operator_type %q, status %v)", i, str(r["name"]), opType, r["status"])
		if out, ok := outputOf[opType]; ok {
			if !slices.Contains(resultTypes[out], got) {
				w.fail(fmt.Sprintf("%s: .operator_type %q disagrees with the OperatorType's output_type %q", where, got, out))
			}
		} else if got != opType {
			w.fail(fmt.Sprintf("%s: .operator_type %q, the operator's is %q (no OperatorType has that name)", where, got, opType))
		}
	}
}

// listOf is the rows of a list answer.
func listOf(body map[string]any, key string) []map[string]any {
	var out []map[string]any
	rows, _ := body[key].([]any)
	for _, r := range rows {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }
