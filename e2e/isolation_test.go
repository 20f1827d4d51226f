package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/twilio/twilio-go/client"
	accounts "github.com/twilio/twilio-go/rest/accounts/v1"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// isoReq is one raw HTTP request. Without creds it carries the server's
// bootstrap account; with noAuth it carries no Authorization header at all.
type isoReq struct {
	method, path string
	form         url.Values // query for GET/DELETE, urlencoded body otherwise
	body         []byte     // raw body (overrides form for POST)
	contentType  string     // default application/x-www-form-urlencoded for POST
	header       map[string]string
	creds        []string // {sid, token}
	noAuth       bool
}

// isoSend sends r and returns the status and the exact response body.
func isoSend(t *testing.T, s *Server, r isoReq) (int, []byte) {
	t.Helper()
	status, body, _ := isoSendH(t, s, r)
	return status, body
}

func isoSendH(t *testing.T, s *Server, r isoReq) (int, []byte, http.Header) {
	t.Helper()
	path := r.path
	var body io.Reader = http.NoBody
	switch {
	case r.body != nil:
		body = bytes.NewReader(r.body)
	case r.form != nil && r.method == http.MethodPost:
		body = strings.NewReader(r.form.Encode())
	case r.form != nil:
		path += "?" + r.form.Encode()
	}
	req, err := http.NewRequest(r.method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.method == http.MethodPost {
		ct := r.contentType
		if ct == "" {
			ct = "application/x-www-form-urlencoded"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if !r.noAuth {
		sid, tok := s.AccountSID, s.AuthToken
		if len(r.creds) == 2 {
			sid, tok = r.creds[0], r.creds[1]
		}
		req.SetBasicAuth(sid, tok)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", r.method, r.path, err)
	}
	return resp.StatusCode, b, resp.Header
}

// isoRestErr asserts that err is the *client.TwilioRestError twilio-go makes
// of a Twilio error body, with the given status and code.
func isoRestErr(t *testing.T, what string, err error, status, code int) *client.TwilioRestError {
	t.Helper()
	if err == nil {
		t.Errorf("%s: twilio-go call succeeded; want HTTP %d (code %d)", what, status, code)
		return nil
	}
	var re *client.TwilioRestError
	if !errors.As(err, &re) {
		t.Errorf("%s: error is %T (%v); want *client.TwilioRestError", what, err, err)
		return nil
	}
	if re.Status != status || re.Code != code {
		t.Errorf("%s: twilio-go error status %d code %d (%q); want status %d code %d", what, re.Status, re.Code, re.Message, status, code)
	}
	return re
}

// isoTwilioError decodes a Twilio error body and checks its shape.
func isoTwilioError(t *testing.T, what string, status int, body []byte, wantStatus, wantCode int) map[string]any {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: HTTP %d, want %d; body %s", what, status, wantStatus, isoTrim(body))
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("%s: body is not JSON (%v): %s", what, err, isoTrim(body))
		return nil
	}
	code, _ := m["code"].(float64)
	st, _ := m["status"].(float64)
	msg, _ := m["message"].(string)
	more, _ := m["more_info"].(string)
	if int(st) != status || msg == "" || more == "" || code == 0 {
		t.Errorf("%s: not a Twilio error body {code, message, more_info, status} matching HTTP %d: %s", what, status, isoTrim(body))
	}
	if wantCode != 0 && int(code) != wantCode {
		t.Errorf("%s: error code %v, want %d: %s", what, m["code"], wantCode, isoTrim(body))
	}
	if more != "" && more != fmt.Sprintf("https://www.twilio.com/docs/errors/%d", int(code)) {
		t.Errorf("%s: more_info %q does not name code %d", what, more, int(code))
	}
	return m
}

func isoTrim(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// isoFake returns a random well-formed SID with the prefix of sid.
func isoFake(sid string) string { return convoseal.NewSID(sid[:2]) }

// isoFill replaces {0}, {1}, … in s with sids.
func isoFill(s string, sids []string) string {
	for i, v := range sids {
		s = strings.ReplaceAll(s, fmt.Sprintf("{%d}", i), v)
	}
	return s
}

// isoProbe is one request account B makes naming account A's objects. Path
// and form values may hold {0}, {1}, … for the SIDs in reals.
type isoProbe struct {
	name         string
	method, path string
	form         url.Values
	header       map[string]string
	reals        []string // A's SIDs named by the request
	status       int      // expected status (404 unless set)
	code         int      // expected Twilio code (20404 unless set)
}

// isoUnconfirmed sends p with B's credentials twice — once naming A's real
// SIDs, once naming random SIDs of the same prefixes — and checks both
// answers are the expected error and byte-identical apart from the SIDs, so
// B learns nothing about whether A's objects exist.
func isoUnconfirmed(t *testing.T, s *Server, b []string, p isoProbe, forbid ...string) {
	t.Helper()
	if p.status == 0 {
		p.status, p.code = http.StatusNotFound, convoseal.CodeNotFound
	}
	fakes := make([]string, len(p.reals))
	for i, r := range p.reals {
		fakes[i] = isoFake(r)
	}
	send := func(sids []string) (int, []byte) {
		var form url.Values
		if p.form != nil {
			form = url.Values{}
			for k, vs := range p.form {
				for _, v := range vs {
					form.Add(k, isoFill(v, sids))
				}
			}
		}
		return isoSend(t, s, isoReq{method: p.method, path: isoFill(p.path, sids), form: form, header: p.header, creds: b})
	}
	st1, b1 := send(p.reals)
	st2, b2 := send(fakes)
	what := p.name + " (A's real SIDs)"
	isoTwilioError(t, what, st1, b1, p.status, p.code)
	isoTwilioError(t, p.name+" (random SIDs)", st2, b2, p.status, p.code)
	n1, n2 := b1, b2
	for i := range p.reals {
		ph := []byte(fmt.Sprintf("<SID%d>", i))
		n1 = bytes.ReplaceAll(n1, []byte(p.reals[i]), ph)
		n2 = bytes.ReplaceAll(n2, []byte(fakes[i]), ph)
	}
	if st1 != st2 || !bytes.Equal(n1, n2) {
		t.Errorf("%s: B's answer for A's real SIDs differs from its answer for random SIDs (existence leak):\n real:   %d %s\n random: %d %s",
			p.name, st1, isoTrim(b1), st2, isoTrim(b2))
	}
	for _, f := range forbid {
		if f != "" && bytes.Contains(b1, []byte(f)) {
			t.Errorf("%s: B's answer contains %q: %s", p.name, f, isoTrim(b1))
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	a := s.Twilio()

	// ---- Account A's world ----
	kf, keySID := RegisterKey(t, a)
	mkService := func(c interface {
		CreateService(*intelligence.CreateServiceParams) (*intelligence.IntelligenceV2Service, error)
	}, name, key string) string {
		p := &intelligence.CreateServiceParams{}
		p.SetUniqueName(name).SetFriendlyName(name)
		if key != "" {
			p.SetEncryptionCredentialSid(key)
		}
		v, err := c.CreateService(p)
		if err != nil {
			t.Fatalf("create service %s: %v", name, err)
		}
		return *v.Sid
	}
	svcEnc := mkService(a.IntelligenceV2, "iso-a-sealed", keySID)
	svcPlain := mkService(a.IntelligenceV2, "iso-a-plain", "")

	cop := &intelligence.CreateCustomOperatorParams{}
	cop.SetFriendlyName("refund finder").SetOperatorType("phrase-matching").SetConfig(map[string]any{"phrases": []string{"refund"}})
	custom, err := a.IntelligenceV2.CreateCustomOperator(cop)
	if err != nil {
		t.Fatalf("create custom operator: %v", err)
	}
	customOp := *custom.Sid

	prebuiltA, err := a.IntelligenceV2.ListPrebuiltOperator(nil)
	if err != nil || len(prebuiltA) == 0 {
		t.Fatalf("list pre-built operators: %v (%d)", err, len(prebuiltA))
	}
	prebuilt := *prebuiltA[0].Sid
	if _, err := a.IntelligenceV2.CreateOperatorAttachment(svcPlain, prebuilt); err != nil {
		t.Fatalf("attach pre-built operator: %v", err)
	}
	if _, err := a.IntelligenceV2.CreateOperatorAttachment(svcEnc, customOp); err != nil {
		t.Fatalf("attach custom operator: %v", err)
	}

	doc := map[string]any{"sentences": []map[string]any{
		{"media_channel": 1, "start_time": 0.0, "end_time": 1.5, "transcript": "Hello, I would like a refund."},
		{"media_channel": 2, "start_time": 1.6, "end_time": 3.0, "transcript": "Of course, let me look at that."},
	}}
	mkTranscript := func(svc string) string {
		p := &intelligence.CreateTranscriptParams{}
		p.SetServiceSid(svc).SetChannel(Channel(DataURL(doc))).SetCustomerKey("iso-" + svc[len(svc)-4:])
		tr, err := a.IntelligenceV2.CreateTranscript(p)
		if err != nil {
			t.Fatalf("create transcript in %s: %v", svc, err)
		}
		return *tr.Sid
	}
	trEnc, trPlain := mkTranscript(svcEnc), mkTranscript(svcPlain)
	for _, tr := range []string{trEnc, trPlain} {
		if got := WaitTranscript(t, a, tr, 20*time.Second); *got.Status != "completed" {
			t.Fatalf("transcript %s: %s", tr, *got.Status)
		}
	}
	enc, err := a.IntelligenceV2.FetchEncryptedSentences(trEnc, nil)
	if err != nil || enc.Location == nil {
		t.Fatalf("A's Sentences/Encrypted: %v", err)
	}
	location := *enc.Location

	// ---- Account B ----
	bSID, bTok := s.NewAccount(t)
	if bSID == "" || bTok == "" || bSID == s.AccountSID {
		t.Fatalf("accounts create gave %q %q", bSID, bTok)
	}
	bCreds := []string{bSID, bTok}
	b := s.Twilio(bSID, bTok)
	bSvc := mkService(b.IntelligenceV2, "iso-b-own", "")
	btp := &intelligence.CreateTranscriptParams{}
	btp.SetServiceSid(bSvc).SetChannel(Channel(DataURL(doc)))
	bTr, err := b.IntelligenceV2.CreateTranscript(btp)
	if err != nil {
		t.Fatalf("B creates its own transcript: %v", err)
	}
	WaitTranscript(t, b, *bTr.Sid, 20*time.Second)

	// Snapshot of everything A can read, to compare after B's attempts.
	aPaths := []string{
		"/v1/Credentials/PublicKeys/" + keySID,
		"/v1/Credentials/PublicKeys",
		"/v2/Services/" + svcEnc, "/v2/Services/" + svcPlain, "/v2/Services",
		"/v2/Services/" + svcEnc + "/Operators", "/v2/Services/" + svcPlain + "/Operators",
		"/v2/Transcripts/" + trEnc, "/v2/Transcripts/" + trPlain, "/v2/Transcripts",
		"/v2/Transcripts/" + trPlain + "/Sentences",
		"/v2/Transcripts/" + trPlain + "/OperatorResults",
		"/v2/Operators/Custom/" + customOp, "/v2/Operators/Custom", "/v2/Operators",
	}
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, p := range aPaths {
			st, body := isoSend(t, s, isoReq{method: http.MethodGet, path: p})
			if st != http.StatusOK {
				t.Fatalf("A GET %s: %d %s", p, st, isoTrim(body))
			}
			out[p] = string(body)
		}
		return out
	}
	before := snapshot()

	aSIDs := []string{s.AccountSID, keySID, svcEnc, svcPlain, trEnc, trPlain, customOp}
	// Nothing B sees may name A's account or objects, or a download location.
	forbid := []string{s.AccountSID, "/blobs/"}

	t.Run("sdk", func(t *testing.T) {
		nf := func(what string, err error) { t.Helper(); isoRestErr(t, what, err, 404, convoseal.CodeNotFound) }
		_, err := b.AccountsV1.FetchCredentialPublicKey(keySID)
		nf("fetch public key", err)
		up := &accounts.UpdateCredentialPublicKeyParams{}
		up.SetFriendlyName("pwned")
		_, err = b.AccountsV1.UpdateCredentialPublicKey(keySID, up)
		nf("update public key", err)
		nf("delete public key", b.AccountsV1.DeleteCredentialPublicKey(keySID))
		for _, svc := range []string{svcEnc, svcPlain} {
			_, err = b.IntelligenceV2.FetchService(svc)
			nf("fetch service", err)
			us := &intelligence.UpdateServiceParams{}
			us.SetFriendlyName("pwned").SetAutoRedaction(true)
			_, err = b.IntelligenceV2.UpdateService(svc, us)
			nf("update service", err)
			nf("delete service", b.IntelligenceV2.DeleteService(svc))
			_, err = b.IntelligenceV2.FetchOperatorAttachments(svc)
			nf("service operators", err)
			_, err = b.IntelligenceV2.CreateOperatorAttachment(svc, prebuilt)
			nf("attach pre-built to A's service", err)
		}
		nf("detach from A's service", b.IntelligenceV2.DeleteOperatorAttachment(svcPlain, prebuilt))
		nf("detach A's custom operator", b.IntelligenceV2.DeleteOperatorAttachment(svcEnc, customOp))
		_, err = b.IntelligenceV2.CreateOperatorAttachment(bSvc, customOp)
		nf("attach A's custom operator to B's service", err)
		for _, tr := range []string{trEnc, trPlain} {
			_, err = b.IntelligenceV2.FetchTranscript(tr)
			nf("fetch transcript", err)
			_, err = b.IntelligenceV2.ListSentence(tr, nil)
			nf("sentences", err)
			_, err = b.IntelligenceV2.FetchEncryptedSentences(tr, nil)
			nf("encrypted sentences", err)
			_, err = b.IntelligenceV2.ListOperatorResult(tr, nil)
			nf("operator results", err)
			_, err = b.IntelligenceV2.FetchEncryptedOperatorResults(tr, nil)
			nf("encrypted operator results", err)
			_, err = b.IntelligenceV2.FetchOperatorResult(tr, customOp, nil)
			nf("operator result", err)
			_, err = b.IntelligenceV2.FetchMedia(tr, nil)
			nf("media", err)
			nf("delete transcript", b.IntelligenceV2.DeleteTranscript(tr))
		}
		_, err = b.IntelligenceV2.FetchCustomOperator(customOp)
		nf("fetch custom operator", err)
		_, err = b.IntelligenceV2.FetchOperator(customOp)
		nf("fetch operator", err)
		uo := &intelligence.UpdateCustomOperatorParams{}
		uo.SetFriendlyName("pwned").SetConfig(map[string]any{"phrases": []string{"pwned"}})
		_, err = b.IntelligenceV2.UpdateCustomOperator(customOp, uo)
		nf("update custom operator", err)
		nf("delete custom operator", b.IntelligenceV2.DeleteCustomOperator(customOp))

		ct := &intelligence.CreateTranscriptParams{}
		ct.SetServiceSid(svcPlain).SetChannel(Channel(DataURL(doc)))
		_, err = b.IntelligenceV2.CreateTranscript(ct)
		nf("create transcript in A's service", err)
		cs := &intelligence.CreateServiceParams{}
		cs.SetUniqueName("iso-b-steal").SetEncryptionCredentialSid(keySID)
		_, err = b.IntelligenceV2.CreateService(cs)
		isoRestErr(t, "create service with A's key", err, 400, convoseal.CodeInvalidParameter)

		// Lists never contain A's objects.
		svcs, err := b.IntelligenceV2.ListService(nil)
		if err != nil {
			t.Fatalf("B list services: %v", err)
		}
		if len(svcs) != 1 || *svcs[0].Sid != bSvc {
			t.Errorf("B's service list: %d services, want only B's %s", len(svcs), bSvc)
		}
		trs, err := b.IntelligenceV2.ListTranscript(nil)
		if err != nil {
			t.Fatalf("B list transcripts: %v", err)
		}
		if len(trs) != 1 || *trs[0].Sid != *bTr.Sid {
			t.Errorf("B's transcript list: %d transcripts, want only B's", len(trs))
		}
		ltp := &intelligence.ListTranscriptParams{}
		ltp.SetServiceSid(svcPlain)
		if trs, err := b.IntelligenceV2.ListTranscript(ltp); err != nil || len(trs) != 0 {
			t.Errorf("B list transcripts ServiceSid=A's service: %d transcripts, %v; want none", len(trs), err)
		}
		keys, err := b.AccountsV1.ListCredentialPublicKey(nil)
		if err != nil || len(keys) != 0 {
			t.Errorf("B list public keys: %d keys, %v; want none", len(keys), err)
		}
		cops, err := b.IntelligenceV2.ListCustomOperator(nil)
		if err != nil || len(cops) != 0 {
			t.Errorf("B list custom operators: %d, %v; want none", len(cops), err)
		}
		all, err := b.IntelligenceV2.ListOperator(nil)
		if err != nil {
			t.Fatalf("B list operators: %v", err)
		}
		for _, o := range all {
			if *o.Sid == customOp {
				t.Errorf("B's operator list contains A's custom operator %s", customOp)
			}
		}
	})

	t.Run("raw", func(t *testing.T) {
		type P = isoProbe
		f := func(kv ...string) url.Values {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Add(kv[i], kv[i+1])
			}
			return v
		}
		probes := []P{
			{name: "fetch public key", method: "GET", path: "/v1/Credentials/PublicKeys/{0}", reals: []string{keySID}},
			{name: "update public key", method: "POST", path: "/v1/Credentials/PublicKeys/{0}", form: f("FriendlyName", "pwned"), reals: []string{keySID}},
			{name: "update public key (no fields)", method: "POST", path: "/v1/Credentials/PublicKeys/{0}", form: f(), reals: []string{keySID}},
			{name: "delete public key", method: "DELETE", path: "/v1/Credentials/PublicKeys/{0}", reals: []string{keySID}},
			{name: "attach A's custom operator to B's service", method: "POST", path: "/v2/Services/" + bSvc + "/Operators/{0}", reals: []string{customOp}},
			{name: "fetch custom operator", method: "GET", path: "/v2/Operators/Custom/{0}", reals: []string{customOp}},
			{name: "fetch operator", method: "GET", path: "/v2/Operators/{0}", reals: []string{customOp}},
			{name: "fetch custom operator as pre-built", method: "GET", path: "/v2/Operators/PreBuilt/{0}", reals: []string{customOp}},
			{name: "update custom operator", method: "POST", path: "/v2/Operators/Custom/{0}", form: f("FriendlyName", "pwned", "Config", `{"phrases":["x"]}`), reals: []string{customOp}},
			{name: "update custom operator If-Match", method: "POST", path: "/v2/Operators/Custom/{0}", form: f("FriendlyName", "pwned", "Config", `{"phrases":["x"]}`),
				header: map[string]string{"If-Match": "99"}, reals: []string{customOp}},
			{name: "delete custom operator", method: "DELETE", path: "/v2/Operators/Custom/{0}", reals: []string{customOp}},
			{name: "create transcript in A's service (data:)", method: "POST", path: "/v2/Transcripts",
				form: f("ServiceSid", "{0}", "Channel", isoJSON(Channel(DataURL(doc)))), reals: []string{svcEnc}},
			{name: "create transcript in A's service (http:)", method: "POST", path: "/v2/Transcripts",
				form: f("ServiceSid", "{0}", "Channel", isoJSON(Channel("http://127.0.0.1:9/none.json"))), reals: []string{svcPlain}},
			{name: "create service with A's key", method: "POST", path: "/v2/Services", form: f("UniqueName", "iso-b-steal", "EncryptionCredentialSid", "{0}"),
				reals: []string{keySID}, status: 400, code: convoseal.CodeInvalidParameter},
			{name: "point B's service at A's key", method: "POST", path: "/v2/Services/" + bSvc, form: f("EncryptionCredentialSid", "{0}"),
				reals: []string{keySID}, status: 400, code: convoseal.CodeInvalidParameter},
		}
		for _, svc := range []string{svcEnc, svcPlain} {
			probes = append(probes,
				P{name: "fetch service", method: "GET", path: "/v2/Services/{0}", reals: []string{svc}},
				P{name: "update service", method: "POST", path: "/v2/Services/{0}", form: f("FriendlyName", "pwned", "AutoRedaction", "true"), reals: []string{svc}},
				P{name: "update service UniqueName", method: "POST", path: "/v2/Services/{0}", form: f("UniqueName", "iso-b-own"), reals: []string{svc}},
				P{name: "update service If-Match", method: "POST", path: "/v2/Services/{0}", form: f("FriendlyName", "pwned"), header: map[string]string{"If-Match": "1"}, reals: []string{svc}},
				P{name: "delete service", method: "DELETE", path: "/v2/Services/{0}", reals: []string{svc}},
				P{name: "service operators", method: "GET", path: "/v2/Services/{0}/Operators", reals: []string{svc}},
				P{name: "attach pre-built", method: "POST", path: "/v2/Services/{0}/Operators/" + prebuilt, reals: []string{svc}},
				P{name: "detach pre-built", method: "DELETE", path: "/v2/Services/{0}/Operators/" + prebuilt, reals: []string{svc}},
				P{name: "attach A's custom operator", method: "POST", path: "/v2/Services/{0}/Operators/{1}", reals: []string{svc, customOp}},
				P{name: "detach A's custom operator", method: "DELETE", path: "/v2/Services/{0}/Operators/{1}", reals: []string{svc, customOp}},
			)
		}
		for _, tr := range []string{trEnc, trPlain} {
			for _, sub := range []string{"", "/Sentences", "/Sentences/Encrypted", "/OperatorResults", "/OperatorResults/Encrypted",
				"/OperatorResults/" + prebuilt, "/Media", "/Media/Content", "/Media?Redacted=false", "/Sentences?Redacted=false", "/Sentences/Encrypted?Redacted=false"} {
				probes = append(probes, P{name: "GET transcript" + sub, method: "GET", path: "/v2/Transcripts/{0}" + sub, reals: []string{tr}})
			}
			probes = append(probes,
				P{name: "operator result of A's custom operator", method: "GET", path: "/v2/Transcripts/{0}/OperatorResults/{1}", reals: []string{tr, customOp}},
				P{name: "delete transcript", method: "DELETE", path: "/v2/Transcripts/{0}", reals: []string{tr}},
			)
		}
		probes = append(probes,
			P{name: "result of A's custom operator on B's transcript", method: "GET", path: "/v2/Transcripts/" + *bTr.Sid + "/OperatorResults/{0}", reals: []string{customOp}},
			P{name: "detach A's custom operator from B's service", method: "DELETE", path: "/v2/Services/" + bSvc + "/Operators/{0}", reals: []string{customOp}},
		)
		for _, p := range probes {
			isoUnconfirmed(t, s, bCreds, p, forbid...)
		}
		// B names A's account itself: refused the same way as any other
		// account (the message may echo what B sent, so no forbid list).
		pem, err := os.ReadFile(kf.Public)
		if err != nil {
			t.Fatal(err)
		}
		isoUnconfirmed(t, s, bCreds, P{name: "create public key for A's account", method: "POST", path: "/v1/Credentials/PublicKeys",
			form: f("PublicKey", string(pem), "AccountSid", "{0}"), reals: []string{s.AccountSID}, status: 400, code: convoseal.CodeInvalidParameter})

		// Filtered list: empty, and identical to the answer for a random Service.
		isoListSame := func(name, path, param, real string) {
			fake := isoFake(real)
			st1, b1 := isoSend(t, s, isoReq{method: "GET", path: path, form: f(param, real), creds: bCreds})
			st2, b2 := isoSend(t, s, isoReq{method: "GET", path: path, form: f(param, fake), creds: bCreds})
			if st1 != 200 || st2 != 200 {
				t.Errorf("%s: %d / %d", name, st1, st2)
			}
			if !bytes.Equal(bytes.ReplaceAll(b1, []byte(real), []byte("<SID>")), bytes.ReplaceAll(b2, []byte(fake), []byte("<SID>"))) {
				t.Errorf("%s: answer for A's SID differs from the answer for a random SID:\n%s\n%s", name, isoTrim(b1), isoTrim(b2))
			}
			var m struct{ Transcripts []any }
			json.Unmarshal(b1, &m)
			if len(m.Transcripts) != 0 {
				t.Errorf("%s: B sees %d of A's transcripts", name, len(m.Transcripts))
			}
		}
		isoListSame("list transcripts ServiceSid=A's sealed service", "/v2/Transcripts", "ServiceSid", svcEnc)
		isoListSame("list transcripts ServiceSid=A's plain service", "/v2/Transcripts", "ServiceSid", svcPlain)

		for _, p := range []string{"/v2/Services", "/v2/Transcripts", "/v1/Credentials/PublicKeys", "/v2/Operators", "/v2/Operators/Custom",
			"/v2/Transcripts?PageSize=1000", "/v2/Services?PageSize=1000"} {
			st, body := isoSend(t, s, isoReq{method: "GET", path: p, creds: bCreds})
			if st != 200 {
				t.Errorf("B GET %s: %d %s", p, st, isoTrim(body))
			}
			for _, sid := range aSIDs {
				if bytes.Contains(body, []byte(sid)) {
					t.Errorf("B GET %s: the list names A's %s", p, sid)
				}
			}
		}
	})

	t.Run("locations", func(t *testing.T) {
		// A capability URL: anyone holding it can download, without credentials.
		body, key, iv := Download(t, location)
		if key == "" || iv == "" || len(body) == 0 {
			t.Fatalf("A's location: key %q iv %q, %d bytes", key, iv, len(body))
		}
		if bytes.Contains(body, []byte("refund")) {
			t.Errorf("A's location serves plaintext")
		}
		plain := SeedDecrypt(t, kf.Private, location)
		if !bytes.Contains(plain, []byte("refund")) {
			t.Errorf("A's location does not decrypt to A's transcript: %.200s", plain)
		}

		u, err := url.Parse(location)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(u.Path, s.AccountSID) || !strings.Contains(u.Path, trEnc) {
			t.Fatalf("location path %q names neither A's account nor the transcript; the tampering checks below assume it does", u.Path)
		}
		get := func(raw string) (int, string) {
			resp, err := http.Get(raw)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		tamper := map[string]string{}
		t1 := *u
		t1.Path = strings.Replace(u.Path, s.AccountSID, bSID, 1)
		tamper["account SID → B's"] = t1.String()
		t2 := *u
		t2.Path = strings.Replace(u.Path, trEnc, *bTr.Sid, 1)
		tamper["transcript SID → B's"] = t2.String()
		t2b := *u
		t2b.Path = strings.Replace(strings.Replace(u.Path, trEnc, *bTr.Sid, 1), s.AccountSID, bSID, 1)
		tamper["account and transcript → B's"] = t2b.String()
		t3 := *u
		t3.Path = strings.Replace(u.Path, trEnc, trPlain, 1)
		tamper["transcript SID → A's other"] = t3.String()
		// Locations are signed by convoseal (local blobs) or presigned by
		// the S3 server; the same tampering applies to both.
		q := u.Query()
		sigParam, expiresParam, laterExpiry := "X-Convoseal-Signature", "X-Convoseal-Expires", "9999999999"
		if q.Has("X-Amz-Signature") {
			sigParam, expiresParam, laterExpiry = "X-Amz-Signature", "X-Amz-Expires", "604800"
		}
		sig := q.Get(sigParam)
		if sig == "" {
			t.Fatalf("location has no %s: %s", sigParam, location)
		}
		flip := []byte(sig)
		if flip[0] == 'A' {
			flip[0] = 'B'
		} else {
			flip[0] = 'A'
		}
		q4 := u.Query()
		q4.Set(sigParam, string(flip))
		t4 := *u
		t4.RawQuery = q4.Encode()
		tamper["signature changed"] = t4.String()
		q5 := u.Query()
		q5.Del(sigParam)
		t5 := *u
		t5.RawQuery = q5.Encode()
		tamper["signature removed"] = t5.String()
		q6 := u.Query()
		q6.Set(expiresParam, laterExpiry)
		t6 := *u
		t6.RawQuery = q6.Encode()
		tamper["expiry extended"] = t6.String()
		t7 := *u
		t7.RawQuery = ""
		tamper["no query"] = t7.String()
		t8 := *u
		t8.Path = u.Path[:strings.Index(u.Path, s.AccountSID)+len(s.AccountSID)] + "/"
		tamper["A's prefix with A's signature"] = t8.String()
		for name, raw := range tamper {
			st, body := get(raw)
			if st == http.StatusBadRequest && sigParam == "X-Amz-Signature" && name == "signature removed" {
				continue // S3 answers a presigned URL missing a parameter with 400 AuthorizationQueryParametersError
			}
			if st != http.StatusForbidden {
				t.Errorf("tampered location (%s): %d, want 403: %.300s", name, st, body)
			}
		}
		if st, _ := get(location); st != 200 {
			t.Errorf("A's untouched location after the tampering: %d", st)
		}
	})

	t.Run("auth", func(t *testing.T) {
		unknown := convoseal.NewSID(convoseal.PrefixAccount)
		cases := []struct {
			name string
			r    isoReq
		}{
			{"wrong token", isoReq{creds: []string{s.AccountSID, strings.Repeat("0", len(s.AuthToken))}}},
			{"missing auth", isoReq{noAuth: true}},
			{"A's SID with B's token", isoReq{creds: []string{s.AccountSID, bTok}}},
			{"B's SID with A's token", isoReq{creds: []string{bSID, s.AuthToken}}},
			{"unknown account", isoReq{creds: []string{unknown, s.AuthToken}}},
			{"malformed account SID", isoReq{creds: []string{"ACnope", s.AuthToken}}},
			{"empty token", isoReq{creds: []string{s.AccountSID, ""}}},
		}
		var first []byte
		for _, c := range cases {
			for _, p := range []string{"/v2/Services", "/v2/Services/" + svcPlain, "/v1/Credentials/PublicKeys/" + keySID, "/v2/Transcripts/" + trPlain + "/Sentences"} {
				r := c.r
				r.method, r.path = "GET", p
				st, body, h := isoSendH(t, s, r)
				isoTwilioError(t, c.name+" "+p, st, body, http.StatusUnauthorized, convoseal.CodeAuthentication)
				if h.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: 401 without WWW-Authenticate", c.name, p)
				}
				// The refusal is the same whoever the SID names: it
				// confirms neither accounts nor resources.
				if first == nil {
					first = body
				} else if !bytes.Equal(first, body) {
					t.Errorf("%s %s: 401 body differs from the others:\n%s\n%s", c.name, p, first, body)
				}
			}
		}
		_, err := s.Twilio(s.AccountSID, "wrongtoken0000000000000000000000").IntelligenceV2.FetchService(svcPlain)
		isoRestErr(t, "twilio-go with a wrong token", err, 401, convoseal.CodeAuthentication)
		_, err = s.Twilio(s.AccountSID, bTok).IntelligenceV2.ListService(nil)
		isoRestErr(t, "twilio-go with A's SID and B's token", err, 401, convoseal.CodeAuthentication)
	})

	t.Run("pre-built operators are shared", func(t *testing.T) {
		prebuiltB, err := b.IntelligenceV2.ListPrebuiltOperator(nil)
		if err != nil {
			t.Fatal(err)
		}
		sids := func(ops []intelligence.IntelligenceV2PrebuiltOperator) []string {
			var out []string
			for _, o := range ops {
				out = append(out, *o.Sid)
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(sids(prebuiltA), sids(prebuiltB)) {
			t.Errorf("pre-built operators differ between accounts:\nA %v\nB %v", sids(prebuiltA), sids(prebuiltB))
		}
		if o, err := b.IntelligenceV2.FetchPrebuiltOperator(prebuilt); err != nil || *o.Sid != prebuilt {
			t.Errorf("B fetch pre-built %s: %v", prebuilt, err)
		}
		if _, err := b.IntelligenceV2.FetchOperator(prebuilt); err != nil {
			t.Errorf("B fetch operator %s: %v", prebuilt, err)
		}
		if _, err := b.IntelligenceV2.CreateOperatorAttachment(bSvc, prebuilt); err != nil {
			t.Errorf("B attaches a pre-built operator to its own service: %v", err)
		}
		// B cannot change a pre-built operator for everyone.
		uo := &intelligence.UpdateCustomOperatorParams{}
		uo.SetFriendlyName("pwned").SetConfig(map[string]any{"phrases": []string{"x"}})
		_, err = b.IntelligenceV2.UpdateCustomOperator(prebuilt, uo)
		isoRestErr(t, "B updates a pre-built operator", err, 404, convoseal.CodeNotFound)
		isoRestErr(t, "B deletes a pre-built operator", b.IntelligenceV2.DeleteCustomOperator(prebuilt), 404, convoseal.CodeNotFound)
		if o, err := a.IntelligenceV2.FetchPrebuiltOperator(prebuilt); err != nil || *o.FriendlyName != *prebuiltA[0].FriendlyName {
			t.Errorf("A fetch pre-built %s after B's attempts: %v", prebuilt, err)
		}
	})

	t.Run("A unchanged", func(t *testing.T) {
		after := snapshot()
		for _, p := range aPaths {
			if before[p] != after[p] {
				t.Errorf("A GET %s changed after B's attempts:\nbefore %s\nafter  %s", p, isoTrim([]byte(before[p])), isoTrim([]byte(after[p])))
			}
		}
		if enc, err := a.IntelligenceV2.FetchEncryptedSentences(trEnc, nil); err != nil || enc.Location == nil {
			t.Errorf("A's Sentences/Encrypted after B's attempts: %v", err)
		} else if plain := SeedDecrypt(t, kf.Private, *enc.Location); !bytes.Contains(plain, []byte("refund")) {
			t.Errorf("A's transcript no longer decrypts to its content")
		}
	})
}

// isoJSON encodes v as a JSON string (for form parameters).
func isoJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
