package e2e

// Browser acceptance tests of the web console (/console) in headless
// Chromium, against the real binary, through the DOM contract the console
// keeps (docs of the hooks: data-testid, labels, button texts). The harness
// is in browser_test.go; screenshots go to .tmp/screenshots (or
// $CONVOSEAL_ARTIFACTS_DIR/screenshots).

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/chromedp"
	"github.com/convoseal/convoseal/internal/interop"
	"github.com/convoseal/convoseal/seal"
	accounts "github.com/twilio/twilio-go/rest/accounts/v1"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// consoleOperators are the pre-built operators whose results on refundCall
// say something visible: a "yes" from two classifiers, and the e-mail
// address and phone number the PII extractor finds.
var consoleOperators = []string{"Escalation Request", "Agent Introduction", "PII Extraction"}

// consoleKeys is a key pair as the customer keeps it: the documented files
// plus a passphrase-protected PKCS#8 copy of the private key.
type consoleKeys struct {
	interop.KeyFiles
	Encrypted  string // encrypted PKCS#8 (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC)
	Passphrase string
}

// newConsoleKeys makes the key files with openssl.
func newConsoleKeys(t *testing.T) consoleKeys {
	t.Helper()
	kf := interop.GenerateKeys(t, 2048)
	k := consoleKeys{KeyFiles: kf, Encrypted: filepath.Join(filepath.Dir(kf.Private), "private_key_encrypted.pem"),
		Passphrase: "correct horse battery staple 42"}
	interop.Run(t, nil, "openssl", "pkcs8", "-topk8", "-in", kf.Private, "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256",
		"-passout", "pass:"+k.Passphrase, "-out", k.Encrypted)
	return k
}

// consoleFixture is an encrypted Service with the console operators and a
// completed transcript of refundCall, all made through the API.
type consoleFixture struct {
	Keys                     consoleKeys
	KeySID, Service, Transcr string
	Ops                      []string
}

func newConsoleFixture(t *testing.T, s *Server) consoleFixture {
	t.Helper()
	c := s.Twilio()
	f := consoleFixture{Keys: newConsoleKeys(t)}
	pub, err := os.ReadFile(f.Keys.Public)
	if err != nil {
		t.Fatal(err)
	}
	params := &accounts.CreateCredentialPublicKeyParams{}
	params.SetPublicKey(string(pub)).SetFriendlyName("console key")
	k, err := c.AccountsV1.CreateCredentialPublicKey(params)
	if err != nil {
		t.Fatalf("create public key: %v", err)
	}
	f.KeySID = *k.Sid
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("console-" + strings.ToLower(f.KeySID[2:12])).
		SetEncryptionCredentialSid(f.KeySID))
	if err != nil {
		t.Fatal(err)
	}
	f.Service = *svc.Sid
	for _, name := range consoleOperators {
		f.Ops = append(f.Ops, prebuilt(t, s, name))
	}
	attach(t, s, f.Service, f.Ops...)
	f.Transcr = newTranscript(t, s, f.Service)
	return f
}

// newTranscript makes a completed transcript of refundCall.
func newTranscript(t *testing.T, s *Server, service string) string {
	t.Helper()
	c := s.Twilio()
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(service).
		SetChannel(Channel(DataURL(map[string]any{"sentences": refundCall}))))
	if err != nil {
		t.Fatal(err)
	}
	if done := WaitTranscript(t, c, *tr.Sid, 2*time.Minute); *done.Status != "completed" {
		t.Fatalf("transcript %s", *done.Status)
	}
	return *tr.Sid
}

// expectedView is what the transcript view must show, decrypted
// independently with the documented Python script.
type expectedView struct {
	Sentences []struct {
		Channel int
		Text    string
	}
	Results map[string]opResult // by operator SID
}

func independentDecrypt(t *testing.T, s *Server, privateKey, transcript string, redacted bool) expectedView {
	t.Helper()
	enc, err := s.Twilio().IntelligenceV2.FetchEncryptedSentences(transcript, (&intelligence.FetchEncryptedSentencesParams{}).SetRedacted(redacted))
	if err != nil {
		t.Fatal(err)
	}
	var plain sealedSentences
	if err := json.Unmarshal(SeedDecrypt(t, privateKey, *enc.Location), &plain); err != nil {
		t.Fatalf("sentences: %v", err)
	}
	var v expectedView
	for _, st := range plain.Sentences {
		v.Sentences = append(v.Sentences, struct {
			Channel int
			Text    string
		}{st.MediaChannel, st.Transcript})
	}
	v.Results = decryptResults(t, s, privateKey, transcript, redacted)
	return v
}

// visibleValues are the values of an operator result a reader must see.
func visibleValues(r opResult) []string {
	vals := []string{r.Name}
	if r.PredictedLabel != nil {
		vals = append(vals, *r.PredictedLabel)
	}
	for _, list := range r.ExtractResults {
		vals = append(vals, list...)
	}
	if r.TextGenerationResults != nil {
		vals = append(vals, r.TextGenerationResults.Result)
	}
	for _, v := range r.JSONResults {
		if s, ok := v.(string); ok {
			vals = append(vals, s)
		}
	}
	return vals
}

type shownSentence struct{ Channel, Speaker, Text string }
type shownResult struct{ SID, Text string }

// shownView reads the decrypted conversation and operator results.
func shownView(b *Browser) ([]shownSentence, []shownResult) {
	b.t.Helper()
	var ss []shownSentence
	b.Eval(jsCall(`(() => Array.from(document.querySelectorAll('[data-testid=conversation] [data-testid=sentence]')).map(e => ({
	  Channel: e.dataset.channel || '', Speaker: __norm(e.querySelector('[data-testid=speaker]')?.innerText),
	  Text: __norm(e.querySelector('[data-testid=sentence-text]')?.innerText)})))`), &ss)
	var rs []shownResult
	b.Eval(jsCall(`(() => Array.from(document.querySelectorAll('[data-testid=operator-results] [data-testid=operator-result]')).map(e => ({
	  SID: e.dataset.operatorSid || '', Text: __norm(e.innerText)})))`), &rs)
	return ss, rs
}

var spaces = regexp.MustCompile(`\s+`)

func norm(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

// assertView checks the page shows want: every sentence in order with its
// channel and a speaker label per channel, and every operator result with
// its values.
func assertView(t *testing.T, b *Browser, want expectedView) {
	t.Helper()
	ss, rs := shownView(b)
	if len(ss) != len(want.Sentences) {
		t.Fatalf("the page shows %d sentences, the independent decryption has %d: %+v", len(ss), len(want.Sentences), ss)
	}
	speakers := map[string]string{} // channel → label
	for i, s := range ss {
		w := want.Sentences[i]
		if s.Text != norm(w.Text) || s.Channel != fmt.Sprint(w.Channel) {
			t.Errorf("sentence %d shown as channel %q %q, want channel %d %q", i, s.Channel, s.Text, w.Channel, w.Text)
		}
		if s.Speaker == "" {
			t.Errorf("sentence %d has no speaker label", i)
		}
		if prev, ok := speakers[s.Channel]; ok && prev != s.Speaker {
			t.Errorf("channel %s is labelled both %q and %q", s.Channel, prev, s.Speaker)
		}
		speakers[s.Channel] = s.Speaker
	}
	if len(speakers) == 2 {
		var labels []string
		for _, l := range speakers {
			labels = append(labels, l)
		}
		if labels[0] == labels[1] {
			t.Errorf("both channels have the speaker label %q", labels[0])
		}
	}
	if len(rs) != len(want.Results) {
		t.Fatalf("the page shows %d operator results, want %d: %+v", len(rs), len(want.Results), rs)
	}
	for _, r := range rs {
		w, ok := want.Results[r.SID]
		if !ok {
			t.Errorf("the page shows a result of operator %q, which has none", r.SID)
			continue
		}
		if w.Status != "completed" {
			t.Errorf("operator %s: status %s", w.Name, w.Status)
		}
		for _, v := range visibleValues(w) {
			if !strings.Contains(r.Text, norm(v)) {
				t.Errorf("operator result %s (%s) does not show %q: %q", r.SID, w.Name, v, r.Text)
			}
		}
	}
}

// decryptInView loads a private key file (and passphrase) in the open
// transcript view and clicks Decrypt.
func decryptInView(b *Browser, keyFile, passphrase string) {
	b.t.Helper()
	b.WaitText(testID("decrypt-indicator"), "Encrypted")
	b.Upload("", "Private key file", keyFile)
	b.Fill("", "Passphrase", passphrase)
	b.Click("", "Decrypt")
}

// redactedChecked reports whether the view's Redacted box is checked.
func redactedChecked(b *Browser) bool {
	b.t.Helper()
	var on bool
	b.Eval(jsCall(`(() => !!__byLabel('', 'Redacted')?.checked)`), &on)
	return on
}

// decrypted waits for the indicator of a successful decryption, failing
// at once on an error message instead.
func decrypted(b *Browser) {
	b.t.Helper()
	b.waitFor("the decryption", jsCall(`(() => {
	  const err = Array.from(document.querySelectorAll('[data-testid=error]')).find(__visible);
	  if (err) return 'FAIL: the page says: ' + __norm(err.innerText);
	  const ind = document.querySelector('[data-testid=decrypt-indicator]');
	  return ind && __norm(ind.innerText).includes('Decrypted in this browser') ? '' : 'indicator: ' + (ind ? __norm(ind.innerText) : 'none'); })`))
	b.WaitVisible(testID("sentence"))
}

// openTranscript switches the signed-in console to a transcript's view.
func openTranscript(b *Browser, sid string) {
	b.t.Helper()
	b.Hash("#/transcripts/" + sid)
	b.WaitVisible(testID("decrypt-indicator"))
}

// apiFingerprint is the fingerprint the API reports for a public key.
func apiFingerprint(t *testing.T, s *Server, keySID string) string {
	t.Helper()
	code, m := s.Do(t, "GET", "/v1/Credentials/PublicKeys/"+keySID, nil)
	fp, _ := m["fingerprint"].(string)
	if code != 200 || !strings.HasPrefix(fp, "SHA256:") {
		t.Fatalf("GET public key %s: %d %v", keySID, code, m)
	}
	return fp
}

// serviceByName waits for the Service with that unique name and returns
// its SID.
func serviceByName(t *testing.T, s *Server, name string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		list, err := s.Twilio().IntelligenceV2.ListService(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range list {
			if *svc.UniqueName == name {
				return *svc.Sid
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no Service %q after the form was sent", name)
	return ""
}

// newTranscriptSID waits until the Service has a transcript not in known.
func newTranscriptSID(t *testing.T, s *Server, service string, known []string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		list, err := s.Twilio().IntelligenceV2.ListTranscript(&intelligence.ListTranscriptParams{ServiceSid: &service})
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range list {
			if !slices.Contains(known, *tr.Sid) {
				return *tr.Sid
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no new transcript on %s after the form was sent", service)
	return ""
}

// TestConsoleHappyPath is the customer's whole journey in the console:
// sign in, register a public key by pasting it, create an encrypted Service
// and attach operators, create transcripts from an uploaded document and from
// a data: URL, then decrypt each in the browser (once with a plain PKCS#8
// key, once with a passphrase-protected one) and compare what the page shows
// with the documented Python script's decryption. It also checks, for the
// whole session, that the page loads nothing from another origin and
// reports no Content-Security-Policy violation.
func TestConsoleHappyPath(t *testing.T) {
	chromiumPath(t) // skip (or fail) before starting anything
	s := startConsoleServer(t, ServerOptions{})
	keys := newConsoleKeys(t)
	b := NewBrowser(t, s.URL, 4*time.Minute)
	// A wrong Auth Token is refused in plain words; then the right one.
	b.Go("/console")
	b.Fill(testID("signin"), "Account SID", s.AccountSID)
	b.Fill(testID("signin"), "Auth Token", strings.Repeat("0", 32))
	b.Click(testID("signin"), "Sign in")
	waitError(b, "Sign-in failed")
	assertAlert(t, b)
	b.SignIn(s)

	// Public keys: paste the PEM.
	b.ClickLink(`nav[aria-label="Main"]`, "Public keys")
	pub, err := os.ReadFile(keys.Public)
	if err != nil {
		t.Fatal(err)
	}
	b.Fill("", "Public key (PEM)", string(pub))
	b.Fill("", "Friendly name", "laptop key")
	b.Click("", "Register key")
	b.WaitVisible(testID("key-row"))
	var keySID string
	b.Eval(`document.querySelector('[data-testid=key-row]').dataset.sid`, &keySID)
	if !strings.HasPrefix(keySID, "CR") {
		t.Fatalf("key row data-sid %q", keySID)
	}
	row := fmt.Sprintf(`[data-testid=key-row][data-sid=%q]`, keySID)
	shownFP := b.Text(row + " " + testID("fingerprint"))
	pk, err := seal.ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if api := apiFingerprint(t, s, keySID); shownFP != api || api != seal.Fingerprint(pk) {
		t.Errorf("fingerprint shown %q, API %q, computed %q", shownFP, api, seal.Fingerprint(pk))
	}
	if rowText := b.Text(row); !strings.Contains(rowText, keySID) || !strings.Contains(rowText, "laptop key") {
		t.Errorf("key row shows %q, want its SID and friendly name", rowText)
	}

	// Another key, registered and deleted (after the confirmation).
	old := newConsoleKeys(t)
	oldPub, err := os.ReadFile(old.Public)
	if err != nil {
		t.Fatal(err)
	}
	b.Fill("", "Public key (PEM)", string(oldPub))
	b.Fill("", "Friendly name", "old key")
	b.Click("", "Register key")
	b.waitFor("two key rows", `document.querySelectorAll('[data-testid=key-row]').length === 2 ? '' : 'not two'`)
	var oldSID string
	b.Eval(fmt.Sprintf(`Array.from(document.querySelectorAll('[data-testid=key-row]')).map(r => r.dataset.sid).find(s => s !== %q)`, keySID), &oldSID)
	oldRow := fmt.Sprintf(`[data-testid=key-row][data-sid=%q]`, oldSID)
	b.Click(oldRow, "Delete")
	b.Click("dialog[open]", "Delete key")
	b.waitFor("the deleted key's row to go", jsCall(`(sel => document.querySelector(sel) ? 'still there' : '')`, oldRow))
	if code, _ := s.Do(t, "GET", "/v1/Credentials/PublicKeys/"+oldSID, nil); code != 404 {
		t.Errorf("the deleted key %s: GET %d, want 404", oldSID, code)
	}

	// Services: create one sealed with that key; the warning shows.
	b.ClickLink(`nav[aria-label="Main"]`, "Services")
	form := testID("service-form")
	b.Fill(form, "Unique name", "support-calls")
	b.Fill(form, "Friendly name", "Support calls")
	b.Select(form, "Encryption key", keySID)
	warning := b.WaitText(testID("encryption-warning"), "private key")
	if !strings.Contains(strings.ToLower(warning), "recover") {
		t.Errorf("the encryption warning does not say the private key cannot be recovered: %q", warning)
	}
	b.Click(form, "Create service")
	svcSID := serviceByName(t, s, "support-calls")
	// (The console may move on to the new Service's page by itself.)
	b.Route("#/services", fmt.Sprintf(`[data-testid=service-row][data-sid=%q]`, svcSID))
	svc, err := s.Twilio().IntelligenceV2.FetchService(svcSID)
	if err != nil {
		t.Fatalf("the service row's SID %q: %v", svcSID, err)
	}
	if *svc.UniqueName != "support-calls" || svc.EncryptionCredentialSid == nil || *svc.EncryptionCredentialSid != keySID {
		t.Fatalf("service made by the console: unique name %s, key %v", *svc.UniqueName, svc.EncryptionCredentialSid)
	}

	// Service detail: attach the operators.
	b.Route("#/services/"+svcSID, `[data-testid=service-form], select`)
	var ops []string
	for i, name := range consoleOperators {
		op := prebuilt(t, s, name)
		ops = append(ops, op)
		b.Select("", "Operator", op)
		b.Click("", "Attach operator")
		b.waitFor(fmt.Sprintf("%d operator rows", i+1), fmt.Sprintf(`document.querySelectorAll('[data-testid=operator-row]').length >= %d ? '' : 'fewer'`, i+1))
	}
	svc, err = s.Twilio().IntelligenceV2.FetchService(svcSID)
	if err != nil {
		t.Fatal(err)
	}
	if got := *svc.ReadOnlyAttachedOperatorSids; !sameSet(got, ops) {
		t.Fatalf("attached operators %v, want %v", got, ops)
	}

	// Transcripts: one from a data: URL, one from an uploaded document.
	b.ClickLink(`nav[aria-label="Main"]`, "Transcripts")
	tf := testID("transcript-form")
	b.Select(tf, "Service", svcSID)
	b.Fill(tf, "Document URL", DataURL(map[string]any{"sentences": refundCall}))
	b.Click(tf, "Create transcript")
	fromURL := newTranscriptSID(t, s, svcSID, nil)
	doc := filepath.Join(t.TempDir(), "call.json")
	docJSON, _ := json.Marshal(map[string]any{"sentences": conversation})
	if err := os.WriteFile(doc, docJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	b.Select(tf, "Service", svcSID)
	b.Fill(tf, "Document URL", "")
	b.Upload(tf, "Transcript document", doc)
	b.Click(tf, "Create transcript")
	fromFile := newTranscriptSID(t, s, svcSID, []string{fromURL})
	for _, sid := range []string{fromURL, fromFile} {
		if done := WaitTranscript(t, s.Twilio(), sid, 2*time.Minute); *done.Status != "completed" {
			t.Fatalf("transcript %s: %s", sid, *done.Status)
		}
	}
	// The list shows them completed.
	b.Click("", "Apply filters")
	for _, sid := range []string{fromURL, fromFile} {
		b.WaitText(fmt.Sprintf(`[data-testid=transcript-row][data-sid=%q]`, sid), "completed")
	}

	// The uploaded document, decrypted with the plain PKCS#8 key; the
	// Service redacts, so the redacted variant is the default.
	openTranscript(b, fromFile)
	if !redactedChecked(b) {
		t.Error("the Redacted box is not checked by default for a Service that redacts")
	}
	decryptInView(b, keys.PrivatePKCS8, "")
	decrypted(b)
	wantFile := independentDecrypt(t, s, keys.Private, fromFile, true)
	if len(wantFile.Sentences) != len(conversation) {
		t.Fatalf("the uploaded document was not transcribed as sent: %+v", wantFile.Sentences)
	}
	assertView(t, b, wantFile)

	// The data: URL one, unredacted, with the passphrase-protected key: a
	// wrong passphrase first, then the right one.
	openTranscript(b, fromURL)
	b.Check("", "Redacted", false)
	decryptInView(b, keys.Encrypted, "not the passphrase")
	waitError(b, "Wrong passphrase")
	b.Fill("", "Passphrase", keys.Passphrase)
	b.Click("", "Decrypt")
	decrypted(b)
	wantURL := independentDecrypt(t, s, keys.Private, fromURL, false)
	assertView(t, b, wantURL)
	if _, rs := shownView(b); !strings.Contains(fmt.Sprint(rs), "jane.doe@example.com") {
		t.Errorf("the unredacted PII Extraction result does not show the e-mail address: %v", rs)
	}
	shot := b.Screenshot("console-transcript-view")
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Errorf("screenshot of the transcript view: %v", err)
	}

	// Over the whole session: nothing from another origin, no CSP report,
	// no uncaught exception.
	reqs := b.Requests()
	assertSameOrigin(t, s, reqs)
	if v := b.CSPViolations(); len(v) > 0 {
		t.Errorf("CSP violations during the session:\n  %s", strings.Join(v, "\n  "))
	}
	for _, l := range b.Console() {
		if strings.HasPrefix(l, "exception:") {
			t.Errorf("uncaught exception in the page: %s", l)
		}
	}
	// Every /console response the page got carries the security headers.
	seen := map[string]bool{}
	for _, q := range reqs {
		if u, err := url.Parse(q.URL); err == nil && strings.HasPrefix(u.Path, "/console") && !seen[u.Path] {
			seen[u.Path] = true
			checkConsoleHeaders(t, s, u.Path)
		}
	}
	if len(seen) < 2 {
		t.Errorf("the page loaded %d /console resources (%v), want the page and its assets", len(seen), seen)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// assertSameOrigin fails for a request that leaves the browser for another
// origin than the server's (or, on the cluster, its S3 endpoint for the
// presigned locations).
func assertSameOrigin(t *testing.T, s *Server, reqs []Request) {
	t.Helper()
	allowed := map[string]bool{origin(s.URL): true}
	if s.cluster != nil {
		allowed[origin(s.cluster.s3URL)] = true
	}
	n := 0
	for _, q := range reqs {
		if !q.leaves() || q.URL == "" {
			continue
		}
		n++
		if !allowed[origin(q.URL)] {
			t.Errorf("request to another origin: %s", q)
		}
	}
	if n == 0 {
		t.Error("the recorder saw no request at all")
	}
}

func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(bad URL " + u + ")"
	}
	return p.Scheme + "://" + p.Host
}

// wantCSP is the contract's Content-Security-Policy (connect-src may name
// the blob store's origin as well).
var wantCSP = map[string]string{
	"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
	"media-src": "'self' blob:", "font-src": "'self'", "form-action": "'self'", "base-uri": "'none'", "frame-ancestors": "'none'",
}

// checkConsoleHeaders fetches a /console path and checks its security
// headers.
func checkConsoleHeaders(t *testing.T, s *Server, path string) {
	t.Helper()
	resp, err := httpClient.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	csp := map[string]string{}
	for _, d := range strings.Split(h.Get("Content-Security-Policy"), ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), " ")
		if name != "" {
			csp[name] = strings.TrimSpace(val)
		}
	}
	for d, v := range wantCSP {
		if csp[d] != v {
			t.Errorf("%s: CSP %s is %q, want %q (header %q)", path, d, csp[d], v, h.Get("Content-Security-Policy"))
		}
	}
	connect := strings.Fields(csp["connect-src"])
	if len(connect) == 0 || connect[0] != "'self'" {
		t.Errorf("%s: CSP connect-src %q, want 'self' first", path, csp["connect-src"])
	}
	for _, src := range connect[min(1, len(connect)):] {
		if s.cluster == nil || src != origin(s.cluster.s3URL) {
			t.Errorf("%s: CSP connect-src allows %s", path, src)
		}
	}
	for name, want := range map[string]string{"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
		"X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin"} {
		if got := h.Get(name); !strings.EqualFold(got, want) {
			t.Errorf("%s: %s %q, want %q", path, name, got, want)
		}
	}
	pp := h.Get("Permissions-Policy")
	for _, f := range []string{"camera=()", "microphone=()", "geolocation=()"} {
		if !strings.Contains(strings.ReplaceAll(pp, " ", ""), f) {
			t.Errorf("%s: Permissions-Policy %q lacks %s", path, pp, f)
		}
	}
	if resp.StatusCode == 200 && strings.HasPrefix(h.Get("Content-Type"), "text/html") && !strings.Contains(h.Get("Cache-Control"), "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store on the page", path, h.Get("Cache-Control"))
	}
}

// TestConsoleSecurityHeaders: every /console response — the page under
// both its paths, each asset it names, and a missing asset — carries the
// contract's security headers, and the page has no inline script or style.
func TestConsoleSecurityHeaders(t *testing.T) {
	s := startConsoleServer(t, ServerOptions{})
	resp, err := httpClient.Get(s.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /console: %d", resp.StatusCode)
	}
	paths := []string{"/console", "/console/", "/console/assets/no-such-asset.js"}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		u, err := url.Parse(m[1])
		if err != nil || (u.Host != "" && origin(m[1]) != origin(s.URL)) {
			t.Errorf("the page names %q: not on its own origin", m[1])
			continue
		}
		p := u.Path
		if !strings.HasPrefix(p, "/") {
			p = "/console/" + p
		}
		paths = append(paths, p)
	}
	if len(paths) < 5 {
		t.Errorf("the page names %d assets, want its script and style", len(paths)-3)
	}
	for _, p := range paths {
		checkConsoleHeaders(t, s, p)
	}
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(page) || strings.Contains(page, "<style") ||
		regexp.MustCompile(`\son[a-z]+=`).MatchString(page) || strings.Contains(page, " style=") {
		t.Error("the page has an inline script, style or event handler")
	}
}

// privateKeySecrets are the forms the private key could leave the browser
// in: the PEM files whole and line by line, the DER of every encoding
// (base64 and hex), and the private parameters (as a JWK export has them).
func privateKeySecrets(t *testing.T, k consoleKeys) []Secret {
	t.Helper()
	var out []Secret
	for _, f := range []string{k.Private, k.PrivatePKCS8, k.Encrypted} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, NewSecret(filepath.Base(f), string(b)))
		for i, l := range strings.Split(string(b), "\n") {
			if len(l) >= 40 && !strings.HasPrefix(l, "-----") {
				out = append(out, NewSecret(fmt.Sprintf("%s line %d", filepath.Base(f), i+1), l))
			}
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatalf("%s is not PEM", f)
		}
		out = append(out, BytesSecret(filepath.Base(f)+" DER", blk.Bytes))
		if blk.Type == "PRIVATE KEY" {
			key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			rk := key.(*rsa.PrivateKey)
			out = append(out, BytesSecret("PKCS#1 DER", x509.MarshalPKCS1PrivateKey(rk)))
			for name, n := range map[string]*big.Int{"d": rk.D, "p": rk.Primes[0], "q": rk.Primes[1], "dp": rk.Precomputed.Dp, "dq": rk.Precomputed.Dq, "qi": rk.Precomputed.Qinv} {
				out = append(out, BytesSecret("private exponent/prime "+name, n.Bytes()))
			}
		}
	}
	return out
}

// TestConsoleKeyAndPlaintextStayInBrowser records every request the page
// makes over a whole session — sign in, browse the pages, load a
// passphrase-protected private key, decrypt, read — and finds neither the
// private key in any form, nor its passphrase, nor any sentence or
// operator-result value in any URL, header or body; every request goes to
// the server's own origin, the location downloads carry no credentials, and
// the page keeps nothing in cookies or storage. The recorder's own reach is
// checked: it saw the /Encrypted requests and the downloads, it finds the
// Auth Token in the headers, and it finds a key, a passphrase and a sentence
// that a script then sends.
func TestConsoleKeyAndPlaintextStayInBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail) before starting anything
	s := startConsoleServer(t, ServerOptions{})
	f := newConsoleFixture(t, s)
	want := independentDecrypt(t, s, f.Keys.Private, f.Transcr, false)

	b := NewBrowser(t, s.URL, 3*time.Minute)
	b.SignIn(s)
	for _, page := range []struct{ link, testid string }{{"Public keys", "keys-table"}, {"Services", "services-table"}, {"Transcripts", "transcripts-table"}} {
		b.ClickLink(`nav[aria-label="Main"]`, page.link)
		b.WaitVisible(testID(page.testid))
	}
	b.WaitVisible(fmt.Sprintf(`[data-testid=transcript-row][data-sid=%q]`, f.Transcr))
	openTranscript(b, f.Transcr)
	decryptInView(b, f.Keys.Encrypted, f.Keys.Passphrase)
	decrypted(b)
	assertView(t, b, want)
	// Leave the view and come back (the page drops the key on leaving).
	b.Hash("#/transcripts")
	b.WaitVisible(testID("transcripts-table"))
	openTranscript(b, f.Transcr)

	reqs := b.Requests()
	assertSameOrigin(t, s, reqs)

	// The recorder saw what the page had to do.
	var sawSentences, sawResults bool
	for _, q := range reqs {
		u, _ := url.Parse(q.URL)
		switch u.Path {
		case "/v2/Transcripts/" + f.Transcr + "/Sentences/Encrypted":
			sawSentences = q.Method == "GET"
		case "/v2/Transcripts/" + f.Transcr + "/OperatorResults/Encrypted":
			sawResults = q.Method == "GET"
		}
	}
	if !sawSentences || !sawResults {
		t.Errorf("the recorder did not see the /Encrypted GETs (sentences %v, operator results %v) among:\n%s", sawSentences, sawResults, listRequests(reqs))
	}
	locs := encryptedLocations(t, s, f.Transcr)
	for _, loc := range locs {
		lu, _ := url.Parse(loc)
		found := false
		for _, q := range reqs {
			u, _ := url.Parse(q.URL)
			if origin(q.URL) == origin(loc) && u.Path == lu.Path && q.Method == "GET" {
				found = true
				if q.Status != 200 {
					t.Errorf("download of %s: status %d %s", lu.Path, q.Status, q.Failure)
				}
				for k, v := range q.Headers {
					if strings.EqualFold(k, "Authorization") {
						t.Errorf("the download of %s carries credentials: %s: %s", lu.Path, k, v)
					}
				}
				for k := range q.WireHeaders {
					if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Cookie") {
						t.Errorf("the download of %s carries credentials on the wire: %s", lu.Path, k)
					}
				}
			}
		}
		if !found {
			t.Errorf("the recorder did not see the download of %s", lu.Path)
		}
	}

	// Nothing secret in any of it.
	secrets := append(privateKeySecrets(t, f.Keys), NewSecret("passphrase", f.Keys.Passphrase))
	for i, st := range want.Sentences {
		secrets = append(secrets, NewSecret(fmt.Sprintf("sentence %d", i), st.Text))
	}
	for _, r := range want.Results {
		for _, v := range visibleValues(r)[1:] { // the operator's name is not a secret
			if len(v) >= 6 {
				secrets = append(secrets, NewSecret("result of "+r.Name, v))
			}
		}
	}
	if len(secrets) < 20 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	leaks := map[string][]string{} // request → what it carries, where
	var order []string
	for _, l := range Scan(reqs, secrets) {
		k := l.Request.String()
		if leaks[k] == nil {
			order = append(order, k)
		}
		leaks[k] = append(leaks[k], l.Secret+" (in the "+l.Where+")")
	}
	for _, k := range order {
		t.Errorf("%s leaves the browser with: %s", k, strings.Join(leaks[k], "; "))
	}
	forms, leaving := 0, 0
	for _, sc := range secrets {
		forms += len(sc.Forms)
	}
	for _, q := range reqs {
		if q.leaves() {
			leaving++
		}
	}
	t.Logf("recorded %d requests (%d leave the browser), looked for %d secrets in %d forms: %d found", len(reqs), leaving, len(secrets), forms, len(order))

	// Only memory: no cookie, storage, database, cache or worker.
	var stored string
	b.Eval(`(async () => {
	  const out = [];
	  if (document.cookie) out.push('cookie');
	  if (localStorage.length) out.push('localStorage ' + Object.keys(localStorage));
	  if (sessionStorage.length) out.push('sessionStorage ' + Object.keys(sessionStorage));
	  const dbs = indexedDB.databases ? await indexedDB.databases() : [];
	  if (dbs.length) out.push('IndexedDB ' + dbs.map(d => d.name));
	  if (self.caches && (await caches.keys()).length) out.push('CacheStorage');
	  if (navigator.serviceWorker && (await navigator.serviceWorker.getRegistrations()).length) out.push('service worker');
	  return out.join(', ');
	})()`, &stored)
	if stored != "" {
		t.Errorf("the page keeps state outside memory: %s", stored)
	}
	targets, err := chromedp.Targets(b.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if strings.Contains(string(tg.Type), "worker") {
			t.Errorf("the page runs a %s (%s): its requests would not be recorded", tg.Type, tg.URL)
		}
	}

	// The scan's own reach: the Auth Token is in the API calls' headers…
	basic := base64.StdEncoding.EncodeToString([]byte(s.AccountSID + ":" + s.AuthToken))
	if len(Scan(reqs, []Secret{{Name: "credentials", Forms: []string{basic}}})) == 0 {
		t.Error("the scan does not find the Basic credentials the API calls carry: it cannot see headers")
	}
	// …and a script that sends the key, the passphrase and a sentence is caught.
	pemText, _ := os.ReadFile(f.Keys.Encrypted)
	b.Eval(fmt.Sprintf(`fetch('/leak?s=' + encodeURIComponent(%q), {method: 'POST', headers: {'X-P': %q}, body: %q}).then(() => true, () => true)`,
		want.Sentences[1].Text, f.Keys.Passphrase, string(pemText)), nil)
	caught := map[string]bool{}
	for _, l := range Scan(b.Requests(), secrets) {
		if strings.HasPrefix(l.Request.URL, s.URL+"/leak") {
			caught[strings.SplitN(l.Where, " ", 2)[0]+" "+strings.SplitN(l.Secret, " ", 2)[0]] = true
		}
	}
	for _, w := range []string{"URL sentence", "header passphrase", "body private_key_encrypted.pem"} {
		if !caught[w] {
			t.Errorf("the scan missed the %s a script sent; it caught %v", w, caught)
		}
	}
}

func listRequests(reqs []Request) string {
	var b strings.Builder
	for _, q := range reqs {
		fmt.Fprintf(&b, "  %s\n", q)
	}
	return b.String()
}

// encryptedLocations are the current locations of a transcript's sealed
// sentences and operator results.
func encryptedLocations(t *testing.T, s *Server, transcript string) []string {
	t.Helper()
	c := s.Twilio()
	enc, err := c.IntelligenceV2.FetchEncryptedSentences(transcript, &intelligence.FetchEncryptedSentencesParams{})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := c.IntelligenceV2.FetchEncryptedOperatorResults(transcript, &intelligence.FetchEncryptedOperatorResultsParams{})
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{*enc.Location}, *ops.Locations...)
}

// TestConsoleDecryptErrors: a file that is not a private key, a private key
// that is not the Service's, an
// artifact whose stored bytes were changed, and a location that expired
// before the download each show the contract's plain-language message in
// the page's alert; "Fetch new links" recovers from the expiry.
func TestConsoleDecryptErrors(t *testing.T) {
	chromiumPath(t) // skip (or fail) before starting anything
	t.Run("wrong private key", func(t *testing.T) {
		s := startConsoleServer(t, ServerOptions{})
		f := newConsoleFixture(t, s)
		other := newConsoleKeys(t)
		b := NewBrowser(t, s.URL, 2*time.Minute)
		b.SignIn(s)
		openTranscript(b, f.Transcr)
		// A file that is no private key first (the public key), then a key
		// that is not the Service's.
		decryptInView(b, f.Keys.Public, "")
		waitError(b, "Could not read the private key")
		assertAlert(t, b)
		b.Upload("", "Private key file", other.PrivatePKCS8)
		b.Click("", "Decrypt")
		msg := waitError(b, "This private key does not match the key these results were encrypted with")
		if fp := apiFingerprint(t, s, f.KeySID); !strings.Contains(msg, fp) {
			t.Errorf("the message does not name the expected key's fingerprint %s: %q", fp, msg)
		}
		assertAlert(t, b)
		assertNothingDecrypted(t, b)
	})

	t.Run("tampered artifact", func(t *testing.T) {
		s := startConsoleServer(t, ServerOptions{})
		f := newConsoleFixture(t, s)
		tamperSentences(t, s, f.Transcr)
		b := NewBrowser(t, s.URL, 2*time.Minute)
		b.SignIn(s)
		openTranscript(b, f.Transcr)
		decryptInView(b, f.Keys.PrivatePKCS8, "")
		waitError(b, "The encrypted data failed its integrity check")
		assertAlert(t, b)
		assertNothingDecrypted(t, b)
	})

	t.Run("expired location", func(t *testing.T) {
		// Short links, but long enough that the fresh ones "Fetch new links"
		// gets are still good when they are downloaded on a loaded machine.
		const expiry = 4 * time.Second
		s := startConsoleServer(t, ServerOptions{Extra: []string{"--url-expiry", expiry.String()}})
		f := newConsoleFixture(t, s)
		b := NewBrowser(t, s.URL, 2*time.Minute)
		b.SignIn(s)
		openTranscript(b, f.Transcr)
		// The console fetches fresh links when Decrypt is clicked and
		// downloads them at once; a slow network makes them expire on the
		// way: the downloads are held past the expiry (the server checks it
		// in whole seconds, so a second more) before they leave the browser.
		stop := b.DelayRequests(s.LocationBase()+"*", expiry+1500*time.Millisecond)
		decryptInView(b, f.Keys.PrivatePKCS8, "")
		// versitygw answers an expired presigned GET with a 403 without CORS
		// headers, which hides the status from the page: it then reads the
		// expiry from the link's X-Amz-Date and X-Amz-Expires.
		waitError(b, "The download link has expired")
		assertAlert(t, b)
		assertNothingDecrypted(t, b)
		var refused bool
		for _, q := range b.Requests() {
			if strings.HasPrefix(q.URL, s.LocationBase()) && (q.Status == 403 || (s.cluster != nil && q.Failure != "")) {
				refused = true
			}
		}
		if !refused {
			t.Error("no download was refused: the message was not caused by an expired link")
		}
		stop()
		b.Click(testID("error"), "Fetch new links")
		decrypted(b)
		assertView(t, b, independentDecrypt(t, s, f.Keys.Private, f.Transcr, false))
	})
}

// waitError waits for the page's error message and checks it begins with
// (contains) want; a different message fails at once, after a short grace
// for the page to settle.
func waitError(b *Browser, want string) string {
	b.t.Helper()
	b.WaitVisible(testID("error"))
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := b.Text(testID("error"))
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page's error says %q, want %q", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertAlert checks the error is announced: role=alert on the error.
func assertAlert(t *testing.T, b *Browser) {
	t.Helper()
	var role string
	b.Eval(`(Array.from(document.querySelectorAll('[data-testid=error]')).find(e => e.getClientRects().length) || {}).getAttribute?.('role') || ''`, &role)
	if role != "alert" {
		t.Errorf("the visible error has role %q, want alert", role)
	}
}

// assertNothingDecrypted checks no sentence is shown and the indicator
// does not claim a decryption.
func assertNothingDecrypted(t *testing.T, b *Browser) {
	t.Helper()
	if ss, _ := shownView(b); len(ss) > 0 {
		t.Errorf("the page shows %d sentences after a failed decryption", len(ss))
	}
	if ind := b.Text(testID("decrypt-indicator")); strings.Contains(ind, "Decrypted in this browser") {
		t.Errorf("indicator after a failed decryption: %q", ind)
	}
}

// tamperSentences flips the last byte (in the GCM tag) of the stored
// sealed sentences of a transcript, unredacted and redacted.
func tamperSentences(t *testing.T, s *Server, transcript string) {
	t.Helper()
	var keys []string
	for _, k := range s.Blobs(t) {
		if strings.Contains(k, transcript) && strings.Contains(k, "sentences") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		t.Fatalf("no stored sentences of %s among %v", transcript, s.Blobs(t))
	}
	for _, k := range keys {
		if s.cluster == nil {
			p := filepath.Join(s.Data, "blobs", filepath.FromSlash(k)+"@")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 0x01
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			continue
		}
		s.tamperS3Object(t, k)
	}
}

// startConsoleServer starts an installation for the browser tests. On the
// cluster, the page downloads the locations from the S3 endpoint, another
// origin: the bucket gets the CORS rule docs/console.md tells operators to
// set, for the console's origin.
func startConsoleServer(t *testing.T, o ServerOptions) *Server {
	t.Helper()
	s := StartServer(t, o)
	if s.cluster == nil {
		return s
	}
	_, err := s.cluster.s3.PutBucketCors(context.Background(), &s3.PutBucketCorsInput{Bucket: aws.String(s.cluster.bucket),
		CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{{
			AllowedOrigins: []string{origin(s.URL)}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: aws.Int32(600),
			ExposeHeaders: []string{"x-amz-meta-x-amz-key", "x-amz-meta-x-amz-iv", "x-amz-meta-x-amz-matdesc"},
		}}}})
	if err != nil {
		t.Fatalf("PutBucketCors: %v", err)
	}
	return s
}

// tamperS3Object flips the last byte of an object in the cluster's bucket,
// keeping its metadata.
func (s *Server) tamperS3Object(t *testing.T, key string) {
	t.Helper()
	ctx := context.Background()
	c := s.cluster
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(c.prefix + key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || len(body) == 0 {
		t.Fatalf("reading %s: %v", key, err)
	}
	body[len(body)-1] ^= 0x01
	if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(c.prefix + key),
		Body: bytes.NewReader(body), Metadata: out.Metadata, ContentType: out.ContentType}); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// TestConsoleAccessibility is a smoke test of the markup: every form
// control has a label, every button and link an accessible name, every
// image an alt text; Tab walks the sign-in form in order; and body text
// contrasts with its background at WCAG AA (4.5:1) or better.
func TestConsoleAccessibility(t *testing.T) {
	chromiumPath(t) // skip (or fail) before starting anything
	s := startConsoleServer(t, ServerOptions{})
	f := newConsoleFixture(t, s)
	b := NewBrowser(t, s.URL, 2*time.Minute)
	b.Go("/console")
	b.WaitVisible(testID("signin"))
	var lang string
	b.Eval(`document.documentElement.lang`, &lang)
	if lang == "" {
		t.Error("<html> has no lang")
	}
	assertAccessibleMarkup(t, b, "sign-in")

	// From where the page puts the focus, Tab reaches the fields, then the
	// button.
	order := []string{b.Focused()}
	for range 8 {
		d := b.PressTab()
		order = append(order, d)
		if strings.HasPrefix(d, "button") && strings.Contains(d, "Sign in") {
			break
		}
	}
	idx := func(want string) int {
		return slices.IndexFunc(order, func(d string) bool { return strings.Contains(d, want) })
	}
	t.Logf("focus order on the sign-in page: %s", strings.Join(order, " → "))
	sid, tok, btn := idx("input labelled Account SID"), idx("input labelled Auth Token"), idx("button Sign in")
	if sid < 0 || tok < 0 || btn < 0 || !(sid < tok && tok < btn) {
		t.Errorf("Tab order through the sign-in form: %v", order)
	}
	// Enter in the form signs in, no mouse needed.
	b.Fill(testID("signin"), "Account SID", s.AccountSID)
	b.Fill(testID("signin"), "Auth Token", s.AuthToken)
	b.Eval(`document.activeElement.blur(); true`, nil)
	b.Eval(jsCall(`(() => __byLabel('[data-testid=signin]', 'Auth Token').focus())`), nil)
	if err := chromedp.Do(b.Ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	b.WaitVisible(`nav[aria-label="Main"]`)

	for _, page := range []struct{ route, testid string }{
		{"#/keys", "keys-table"}, {"#/services", "services-table"}, {"#/services/" + f.Service, "operator-row"},
		{"#/transcripts", "transcript-row"}, {"#/transcripts/" + f.Transcr, "decrypt-indicator"},
	} {
		b.Hash(page.route)
		b.WaitVisible(testID(page.testid))
		assertAccessibleMarkup(t, b, page.route)
		assertContrast(t, b, page.route)
	}
	decryptInView(b, f.Keys.PrivatePKCS8, "")
	decrypted(b)
	assertAccessibleMarkup(t, b, "decrypted view")
	assertContrast(t, b, "decrypted view")
}

// assertAccessibleMarkup checks the controls, buttons, links and images of
// the visible page have accessible names.
func assertAccessibleMarkup(t *testing.T, b *Browser, where string) {
	t.Helper()
	var problems []string
	b.Eval(jsCall(`(() => {
	  const out = [];
	  const name = el => __norm(el.getAttribute('aria-label')) || (el.getAttribute('aria-labelledby') || '').split(' ').map(id => __norm(document.getElementById(id)?.textContent)).join(' ').trim();
	  const what = el => el.outerHTML.slice(0, 120);
	  for (const el of document.querySelectorAll('input, select, textarea')) {
	    if (el.type === 'hidden') continue;
	    if (!__visible(el) && !(el.labels && Array.from(el.labels).some(__visible))) continue;
	    const labelled = (el.labels && Array.from(el.labels).some(l => __norm(l.textContent))) || name(el);
	    if (!labelled) out.push('control without a label: ' + what(el));
	    if (__visible(el) && !el.disabled && el.tabIndex < 0) out.push('not reachable by Tab: ' + what(el));
	  }
	  for (const el of document.querySelectorAll('button, [role=button], a[href]')) {
	    if (!__visible(el)) continue;
	    if (!__norm(el.textContent) && !name(el) && !__norm(el.title) && !el.querySelector('img[alt]:not([alt=""])')) out.push('no accessible name: ' + what(el));
	    if (el.tabIndex < 0) out.push('not reachable by Tab: ' + what(el));
	  }
	  for (const el of document.querySelectorAll('img, svg[role=img], [role=img]')) {
	    if (!__visible(el)) continue;
	    if (el.tagName === 'IMG' ? !el.hasAttribute('alt') : !name(el)) out.push('image without alt or name: ' + what(el));
	  }
	  return out;
	})`), &problems)
	for _, p := range problems {
		t.Errorf("%s: %s", where, p)
	}
}

// assertContrast computes the WCAG contrast ratio of the body text, and of
// the main text elements, against their effective background.
func assertContrast(t *testing.T, b *Browser, where string) {
	t.Helper()
	type pair struct {
		What     string
		FG, BG   []float64
		FontSize float64
	}
	var pairs []pair
	b.Eval(jsCall(`(() => {
	  const rgba = s => { const m = s.match(/[\d.]+/g) || []; return m.map(Number).concat([1]).slice(0, 4); };
	  const bg = el => { for (; el; el = el.parentElement) { const c = rgba(getComputedStyle(el).backgroundColor); if (c[3] > 0) return c; } return [255, 255, 255, 1]; };
	  const els = [document.body, ...document.querySelectorAll('main p, main td, main th, main label, main li, nav a, [data-testid=sentence-text], [data-testid=fingerprint], [data-testid=error], [data-testid=decrypt-indicator], button')]
	    .filter(e => __visible(e) && __norm(e.textContent)).slice(0, 60);
	  return els.map(e => ({What: e.tagName.toLowerCase() + (e.dataset.testid ? '[' + e.dataset.testid + ']' : '') + ' ' + __norm(e.textContent).slice(0, 30),
	    FG: rgba(getComputedStyle(e).color), BG: bg(e), FontSize: parseFloat(getComputedStyle(e).fontSize)}));
	})`), &pairs)
	if len(pairs) == 0 {
		t.Fatalf("%s: no text to check the contrast of", where)
	}
	lowest := math.Inf(1)
	defer func() { t.Logf("%s: lowest text contrast %.2f:1 over %d elements", where, lowest, len(pairs)) }()
	for _, p := range pairs {
		fg := blend(p.FG, p.BG)
		r := contrastRatio(fg, p.BG)
		lowest = math.Min(lowest, r)
		min := 4.5
		if p.FontSize >= 24 { // large text
			min = 3
		}
		if r < min {
			t.Errorf("%s: %s: contrast %.2f:1 (text %v on %v), want at least %.1f:1", where, p.What, r, p.FG, p.BG, min)
		}
	}
}

// blend puts a translucent colour over its (opaque) background.
func blend(fg, bg []float64) []float64 {
	a := fg[3]
	return []float64{fg[0]*a + bg[0]*(1-a), fg[1]*a + bg[1]*(1-a), fg[2]*a + bg[2]*(1-a), 1}
}

// contrastRatio is WCAG 2's (L1 + 0.05) / (L2 + 0.05) of two sRGB colours.
func contrastRatio(a, b []float64) float64 {
	lum := func(c []float64) float64 {
		ch := func(v float64) float64 {
			v /= 255
			if v <= 0.03928 {
				return v / 12.92
			}
			return math.Pow((v+0.055)/1.055, 2.4)
		}
		return 0.2126*ch(c[0]) + 0.7152*ch(c[1]) + 0.0722*ch(c[2])
	}
	l1, l2 := lum(a), lum(b)
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

// TestContrastRatio pins the WCAG formula on known pairs.
func TestContrastRatio(t *testing.T) {
	black, white := []float64{0, 0, 0, 1}, []float64{255, 255, 255, 1}
	for _, c := range []struct {
		a, b []float64
		want float64
	}{{black, white, 21}, {white, white, 1}, {[]float64{118, 118, 118, 1}, white, 4.54}, {[]float64{119, 119, 119, 1}, white, 4.48}} {
		if got := contrastRatio(c.a, c.b); math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%v, %v) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

// TestConsoleAudioTranscript: an audio transcript of a Service that redacts
// the recording and seals it with the customer's key. After the key is
// loaded, the view plays the redacted recording decrypted in the browser
// (a blob: URL, as long as the independently decrypted WAV), highlights the
// sentence at the playing time (aria-current) and seeks when a sentence is
// clicked.
func TestConsoleAudioTranscript(t *testing.T) {
	chromiumPath(t) // skip (or fail) before starting anything
	call := scriptedCallAudio(t)
	s := startConsoleServer(t, ServerOptions{})
	c := s.Twilio()
	keys := newConsoleKeys(t)
	pub, err := os.ReadFile(keys.Public)
	if err != nil {
		t.Fatal(err)
	}
	kp := &accounts.CreateCredentialPublicKeyParams{}
	kp.SetPublicKey(string(pub)).SetFriendlyName("audio key")
	k, err := c.AccountsV1.CreateCredentialPublicKey(kp)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("console-audio").
		SetAutoRedaction(true).SetMediaRedaction(true).SetEncryptionCredentialSid(*k.Sid))
	if err != nil {
		t.Fatal(err)
	}
	sid := lcCreate(t, c, *svc.Sid, "data:audio/mpeg;base64,"+base64.StdEncoding.EncodeToString(call.MP3))
	if tr := WaitTranscript(t, c, sid, 4*time.Minute); *tr.Status != "completed" {
		t.Fatalf("transcript %s", *tr.Status)
	}
	want := customerKeyMedia(t, c, keys.Private, sid)
	sentences := want.sentences(true)
	wav, err := parsePCM16WAV(want.recording(true))
	if err != nil {
		t.Fatalf("the redacted recording: %v", err)
	}
	if len(sentences) < 2 {
		t.Fatalf("%d sentences", len(sentences))
	}

	b := NewBrowser(t, s.URL, 3*time.Minute)
	b.SignIn(s)
	openTranscript(b, sid)
	decryptInView(b, keys.PrivatePKCS8, "")
	decrypted(b)
	b.WaitVisible(testID("recording"))
	b.waitFor("the recording's metadata", `(() => { const a = document.querySelector('[data-testid=recording]');
	  return a.readyState >= 1 ? '' : 'readyState ' + a.readyState + (a.error ? ' error ' + a.error.code : ''); })()`)
	var rec struct {
		Src      string
		Duration float64
		Controls bool
	}
	b.Eval(`(() => { const a = document.querySelector('[data-testid=recording]');
	  return {Src: a.currentSrc || a.src, Duration: a.duration, Controls: a.controls}; })()`, &rec)
	if !strings.HasPrefix(rec.Src, "blob:"+origin(s.URL)) || !rec.Controls {
		t.Errorf("recording: src %.60s controls %v, want a blob: URL of the page with controls", rec.Src, rec.Controls)
	}
	if math.Abs(rec.Duration-wav.Seconds()) > 0.05 {
		t.Errorf("the page's recording lasts %.3f s, the redacted recording %.3f s", rec.Duration, wav.Seconds())
	}
	var wantView expectedView
	for _, st := range sentences {
		wantView.Sentences = append(wantView.Sentences, struct {
			Channel int
			Text    string
		}{st.MediaChannel, st.Transcript})
	}
	assertView(t, b, wantView)
	var downloaded bool
	mediaLoc, _ := url.Parse(mediaURL(t, c, sid, true))
	for _, q := range b.Requests() {
		if u, err := url.Parse(q.URL); err == nil && u.Path == mediaLoc.Path && q.Status == 200 {
			downloaded = true
		}
	}
	if !downloaded {
		t.Error("the page did not download the sealed redacted recording")
	}

	// Playing time → highlighted sentence.
	for _, i := range []int{len(sentences) - 1, 0} {
		st := sentences[i]
		mid := (st.StartTime + st.EndTime) / 2
		b.Eval(fmt.Sprintf(`document.querySelector('[data-testid=recording]').currentTime = %f; true`, mid), nil)
		b.waitFor(fmt.Sprintf("sentence %d highlighted at %.2f s", i, mid), fmt.Sprintf(`(() => {
		  const c = document.querySelector('[data-testid=sentence][aria-current=true]');
		  return c && c.dataset.index === '%d' ? '' : 'current: ' + (c ? c.dataset.index : 'none'); })()`, i))
	}
	// Clicking a sentence seeks to it.
	last := len(sentences) - 1
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=sentence][data-index="%d"] [data-testid=speaker]`, last)))); err != nil {
		t.Fatal(err)
	}
	var at float64
	b.Eval(`(() => { const a = document.querySelector('[data-testid=recording]'); a.pause(); return a.currentTime; })()`, &at)
	if at < sentences[last].StartTime-0.05 || at > sentences[last].EndTime {
		t.Errorf("after clicking sentence %d (%.2f–%.2f s) the recording is at %.2f s", last, sentences[last].StartTime, sentences[last].EndTime, at)
	}
	b.waitFor(fmt.Sprintf("sentence %d highlighted after the click", last), fmt.Sprintf(`(() => {
	  const c = document.querySelector('[data-testid=sentence][aria-current=true]');
	  return c && c.dataset.index === '%d' ? '' : 'current: ' + (c ? c.dataset.index : 'none'); })()`, last))
	b.Screenshot("console-audio-view")
}

// TestConsoleServerKeyTranscript: a transcript of a Service without a
// customer key shows its plain sentences and operator results at once, and
// the indicator says the server sealed it.
func TestConsoleServerKeyTranscript(t *testing.T) {
	chromiumPath(t) // skip (or fail) before starting anything
	s := startConsoleServer(t, ServerOptions{})
	c := s.Twilio()
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("server-key"))
	if err != nil {
		t.Fatal(err)
	}
	op := prebuilt(t, s, "PII Extraction")
	attach(t, s, *svc.Sid, op)
	sid := newTranscript(t, s, *svc.Sid)

	b := NewBrowser(t, s.URL, 2*time.Minute)
	b.SignIn(s)
	b.Hash("#/transcripts/" + sid)
	b.WaitText(testID("decrypt-indicator"), "Not encrypted with your key")
	b.WaitVisible(testID("sentence"))
	b.WaitVisible(testID("operator-result"))
	var want expectedView
	for _, st := range refundCall {
		want.Sentences = append(want.Sentences, struct {
			Channel int
			Text    string
		}{st.MediaChannel, st.Transcript})
	}
	want.Results = map[string]opResult{op: {Name: "PII Extraction", Status: "completed",
		ExtractResults: map[string][]string{"EMAIL": {"jane.doe@example.com"}, "PHONE_NUMBER": {"(415) 555-0132"}}}}
	assertView(t, b, want)
	var fileInputs int
	b.Eval(`document.querySelectorAll('input[type=file]').length`, &fileInputs)
	if fileInputs != 0 {
		t.Errorf("the view of a server-key transcript asks for a file (%d file inputs)", fileInputs)
	}
}
