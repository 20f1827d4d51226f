package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/convoseal/convoseal/client/clienttest"
	"github.com/convoseal/convoseal/seal"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the output")

const (
	fetchGT    = "GT5e1f0c3a9b7d4e2f8a6c0b1d3e5f7a9c"
	fetchPlain = "GT00000000000000000000000000000abc" // no customer key
	fetchBusy  = "GT00000000000000000000000000000def" // in progress
)

// fetchSentences has a participant per channel but the third, markup
// characters and a line break in a transcript, and an hour-long call.
var fetchSentences = `{"transcript_sid":"` + fetchGT + `","sentences":[` +
	`{"sid":"GX00000000000000000000000000000001","sentence_index":0,"media_channel":1,"start_time":"1.24","end_time":"3.5","transcript":"Thank you for calling Acme, this is Sam.","confidence":"0.97","words":null},` +
	`{"sid":"GX00000000000000000000000000000002","sentence_index":1,"media_channel":2,"start_time":"4.02","end_time":"7.815","transcript":"Hi Sam, I was charged twice for [CREDIT_CARD] & <order 42>.","confidence":"0.91","words":[{"word":"Hi","start_time":"4.02","end_time":"4.3"}]},` +
	`{"sid":"GX00000000000000000000000000000003","sentence_index":2,"media_channel":1,"start_time":"65.96","end_time":"70","transcript":"I am sorry about that.\nLet me refund it --> now.","confidence":null,"words":null},` +
	`{"sid":"GX00000000000000000000000000000004","sentence_index":3,"media_channel":3,"start_time":"3725.5","end_time":"3727.25","transcript":"(supervisor joins)","confidence":"0.5","words":null}]}`

var fetchResults = []string{
	`{"operator_type":"text-generation","name":"Conversation Summary","operator_sid":"LY00000000000000000000000000000001","extract_match":null,"match_probability":null,"normalized_result":null,"utterance_results":null,"utterance_match":null,"predicted_label":null,"predicted_probability":null,"label_probabilities":null,"extract_results":null,"text_generation_results":{"result":"A customer was charged twice; the agent refunded it."},"json_results":null,"transcript_sid":"` + fetchGT + `","status":"completed"}`,
	`{"operator_type":"conversation-classify","name":"Sentiment","operator_sid":"LY00000000000000000000000000000002","predicted_label":"negative","predicted_probability":0.8125,"label_probabilities":{"negative":0.8125,"positive":0.1875},"transcript_sid":"` + fetchGT + `","status":"completed"}`,
	`{"operator_type":"extract","name":"Entities","operator_sid":"LY00000000000000000000000000000003","extract_match":true,"match_probability":1,"extract_results":{"PERSON":["Sam"],"ORG":["Acme"]},"transcript_sid":"` + fetchGT + `","status":"completed"}`,
	`{"operator_type":"utterance-classify","name":"Escalation","operator_sid":"LY00000000000000000000000000000004","utterance_match":true,"utterance_results":[{"utterance_index":1,"media_channel":2,"label":"complaint","probability":0.9,"utterance_parts":[]}],"transcript_sid":"` + fetchGT + `","status":"completed"}`,
	`{"operator_type":"json","name":"Call reason","operator_sid":"LY00000000000000000000000000000005","transcript_sid":"` + fetchGT + `","status":"failed","failure_reason":"the language model did not answer"}`,
}

type fetchFixture struct {
	api              *clienttest.Server
	key, otherKey    string // PEM files
	keyPEM           []byte
	env              []string
	pub, otherPublic *rsa.PublicKey
}

func writeKey(t *testing.T, k *rsa.PrivateKey) (string, []byte) {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func newFetchFixture(t *testing.T) *fetchFixture {
	t.Helper()
	k1, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fetchFixture{api: clienttest.NewServer(), pub: &k1.PublicKey, otherPublic: &k2.PublicKey}
	t.Cleanup(f.api.Close)
	f.key, f.keyPEM = writeKey(t, k1)
	f.otherKey, _ = writeKey(t, k2)
	results := make([][]byte, len(fetchResults))
	for i, r := range fetchResults {
		results[i] = []byte(r)
	}
	channel := `{"media_properties":{"media_url":""},"participants":[` +
		`{"channel_participant":1,"role":"Agent","full_name":"Sam Lee"},{"channel_participant":2,"role":"Customer","full_name":"Alex <A&B>"}]}`
	for _, tr := range []clienttest.Transcript{
		{SID: fetchGT, ServiceSID: "GA00000000000000000000000000000001", Redaction: true, Channel: json.RawMessage(channel),
			Key: f.pub, CredentialSID: "CR00000000000000000000000000000001", Sentences: []byte(fetchSentences), OperatorResults: results},
		{SID: fetchPlain, ServiceSID: "GA00000000000000000000000000000002"},
		{SID: fetchBusy, ServiceSID: "GA00000000000000000000000000000001", Status: "in-progress", Key: f.pub},
	} {
		if err := f.api.Add(tr); err != nil {
			t.Fatal(err)
		}
	}
	f.env = []string{"CONVOSEAL_URL=" + f.api.URL, "TWILIO_ACCOUNT_SID=" + clienttest.AccountSID,
		"TWILIO_AUTH_TOKEN=" + clienttest.AuthToken, "CONVOSEAL_PRIVATE_KEY="}
	return f
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (go test -run %s -update rewrites it)\n--- got\n%s\n--- want\n%s", p, t.Name(), got, want)
	}
}

func TestFetchGolden(t *testing.T) {
	f := newFetchFixture(t)
	cases := []struct {
		golden string
		args   []string
	}{
		{"fetch-sentences.json.golden", nil},
		{"fetch-operators.json.golden", []string{"--operator-results"}},
		{"fetch-text.golden", []string{"--format", "text"}},
		{"fetch-operators-text.golden", []string{"--format", "text", "--operator-results"}},
		{"fetch-operators.vtt.golden", []string{"--format", "vtt", "--operator-results"}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			r := runCLI(t, f.env, append([]string{"fetch", "--private-key", f.key}, append(c.args, fetchGT)...)...)
			r.must(t, 0)
			golden(t, c.golden, r.stdout)
			switch {
			case strings.HasSuffix(c.golden, ".json.golden"):
				checkFetchJSON(t, r.stdout, len(c.args) > 0)
			case strings.HasSuffix(c.golden, ".vtt.golden"):
				checkVTT(t, r.stdout, 4)
			}
		})
	}
}

// checkFetchJSON: the json format holds the sealed documents unchanged.
func checkFetchJSON(t *testing.T, out string, operators bool) {
	t.Helper()
	same := func(a, b string) bool {
		var x, y any
		return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && jsonEqual(x, y)
	}
	if !operators {
		if !same(out, fetchSentences) {
			t.Fatalf("json output is not the sealed sentences document:\n%s", out)
		}
		return
	}
	var doc struct {
		TranscriptSID   string            `json:"transcript_sid"`
		Sentences       json.RawMessage   `json:"sentences"`
		OperatorResults []json.RawMessage `json:"operator_results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.TranscriptSID != fetchGT || !same(string(doc.Sentences), fetchSentences) || len(doc.OperatorResults) != len(fetchResults) {
		t.Fatalf("json output with operator results: %v\n%s", err, out)
	}
	for i, r := range doc.OperatorResults {
		if !same(string(r), fetchResults[i]) {
			t.Fatalf("operator result %d differs: %s", i, r)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

var vttTiming = regexp.MustCompile(`^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$`)

// checkVTT checks the WebVTT structure: the header, blocks separated by
// blank lines, NOTE blocks without "-->", cues with ordered timings, a voice
// tag, and no raw "<" or "&" in cue text.
func checkVTT(t *testing.T, out string, cues int) {
	t.Helper()
	if !strings.HasPrefix(out, "WEBVTT\n\n") || !strings.HasSuffix(out, "\n\n") {
		t.Fatalf("not a WebVTT file:\n%s", out)
	}
	n := 0
	var last string
	for _, block := range strings.Split(strings.TrimSuffix(out[len("WEBVTT\n\n"):], "\n\n"), "\n\n") {
		lines := strings.Split(block, "\n")
		if strings.HasPrefix(block, "NOTE") {
			if strings.Contains(block, "-->") {
				t.Fatalf("NOTE block contains -->: %q", block)
			}
			continue
		}
		if len(lines) != 3 {
			t.Fatalf("cue %q: want identifier, timing, one text line", block)
		}
		m := vttTiming.FindStringSubmatch(lines[1])
		if m == nil {
			t.Fatalf("cue timing %q", lines[1])
		}
		start, end := strings.Join(m[1:5], ""), strings.Join(m[5:9], "")
		if start >= end || start < last {
			t.Fatalf("cue timing %q out of order", lines[1])
		}
		last = start
		text, ok := strings.CutPrefix(lines[2], "<v ")
		voice, body, ok2 := strings.Cut(text, ">")
		if !ok || !ok2 || voice == "" || strings.ContainsAny(body, "<") || strings.Contains(body, "-->") ||
			regexp.MustCompile(`&(?:[^alg]|a[^m]|l[^t]|g[^t])`).MatchString(body) {
			t.Fatalf("cue text %q", lines[2])
		}
		n++
	}
	if n != cues {
		t.Fatalf("%d cues, want %d", n, cues)
	}
}

func TestFetchOutputFile(t *testing.T) {
	f := newFetchFixture(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "call.vtt")
	args := []string{"fetch", "--private-key", f.key, "--format", "vtt", "-o", out, fetchGT}
	r := runCLI(t, f.env, args...)
	r.must(t, 0)
	if r.stdout != "" {
		t.Fatalf("wrote to stdout with -o: %q", r.stdout)
	}
	if m := mode(t, out); m != 0o600 {
		t.Fatalf("mode %o, want 0600", m)
	}
	stdout := runCLI(t, f.env, "fetch", "--private-key", f.key, "--format", "vtt", fetchGT)
	if got, _ := os.ReadFile(out); string(got) != stdout.stdout {
		t.Fatalf("-o file differs from standard output")
	}
	runCLI(t, f.env, args...).must(t, 1, "exists; use --force")
	runCLI(t, f.env, append([]string{"fetch", "--force"}, args[1:]...)...).must(t, 0)
	// A failure leaves no file, and no temporary file behind.
	runCLI(t, f.env, "fetch", "--private-key", f.otherKey, "-o", filepath.Join(dir, "x.json"), fetchGT).must(t, exitWrongKey)
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("directory holds %v, want only call.vtt", ents)
	}
}

func TestFetchKeySources(t *testing.T) {
	f := newFetchFixture(t)
	want := runCLI(t, f.env, "fetch", "--private-key", f.key, fetchGT)
	want.must(t, 0)
	// The key in $CONVOSEAL_PRIVATE_KEY; the wrong key first and the right one second.
	env := append(f.env[:len(f.env):len(f.env)], "CONVOSEAL_PRIVATE_KEY="+string(f.keyPEM))
	if r := runCLI(t, env, "fetch", fetchGT); r.code != 0 || r.stdout != want.stdout {
		t.Fatalf("key from the environment: %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, f.env, "fetch", "--private-key", f.otherKey, "--private-key", f.key, fetchGT); r.code != 0 || r.stdout != want.stdout {
		t.Fatalf("two keys: %d %s", r.code, r.stderr)
	}
	// Credentials and URL as flags.
	flags := []string{"CONVOSEAL_URL=", "TWILIO_ACCOUNT_SID=", "TWILIO_AUTH_TOKEN=", "CONVOSEAL_PRIVATE_KEY="}
	if r := runCLI(t, flags, "fetch", "--url", f.api.URL, "--account-sid", clienttest.AccountSID, "--auth-token", clienttest.AuthToken, "--private-key", f.key, fetchGT); r.code != 0 || r.stdout != want.stdout {
		t.Fatalf("flags: %d %s", r.code, r.stderr)
	}
}

func TestFetchErrors(t *testing.T) {
	f := newFetchFixture(t)
	badToken := append(f.env[:len(f.env):len(f.env)], "TWILIO_AUTH_TOKEN=WrongTokenDoNotEcho123")
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		says []string
	}{
		{"no key matches", f.env, []string{"--private-key", f.otherKey, fetchGT}, exitWrongKey,
			[]string{"none of your private keys opens it", seal.Fingerprint(f.pub), seal.Fingerprint(f.otherPublic)}},
		{"not found", f.env, []string{"--private-key", f.key, "GT0000000000000000000000000000ffff"}, exitFailure,
			[]string{"transcript GT0000000000000000000000000000ffff not found"}},
		{"not encrypted", f.env, []string{"--private-key", f.key, fetchPlain}, exitFailure,
			[]string{"is not encrypted with a customer public key", "/Sentences instead"}},
		{"not completed", f.env, []string{"--private-key", f.key, fetchBusy}, exitFailure, []string{"is in-progress"}},
		{"wrong token", badToken, []string{"--private-key", f.key, fetchGT}, exitFailure, []string{"HTTP 401"}},
		{"no key", f.env, []string{fetchGT}, exitUsage, []string{"--private-key is required"}},
		{"bad format", f.env, []string{"--private-key", f.key, "--format", "srt", fetchGT}, exitUsage, []string{"want json, text or vtt"}},
		{"bad SID", f.env, []string{"--private-key", f.key, "GT123"}, exitUsage, []string{"not a transcript SID"}},
		{"public key", f.env, []string{"--private-key", writePublic(t, f.pub), fetchGT}, exitKey, []string{"this is a public key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.env, append([]string{"fetch"}, c.args...)...)
			r.must(t, c.code, c.says...)
			if r.stdout != "" {
				t.Fatalf("wrote to stdout on failure: %q", r.stdout)
			}
			for _, secret := range []string{clienttest.AuthToken, "WrongTokenDoNotEcho123", "Signature="} {
				if strings.Contains(r.stderr, secret) {
					t.Fatalf("stderr reveals %q: %s", secret, r.stderr)
				}
			}
		})
	}
}

func writePublic(t *testing.T, pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	p := filepath.Join(t.TempDir(), "pub.pem")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
	return p
}

// TestDecryptSeveralKeys: decrypt opens with whichever of its keys fits,
// from files or $CONVOSEAL_PRIVATE_KEY.
func TestDecryptSeveralKeys(t *testing.T) {
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	p1, _ := writeKey(t, k1)
	p2, pem2 := writeKey(t, k2)
	r, _ := seal.NewRSARecipient(&k2.PublicKey)
	body, env, err := seal.Seal(r, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	env.Fingerprint = "" // no hint: each key is tried
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		env.SetHeaders(w.Header())
		w.Write(body)
	}))
	defer srv.Close()
	none := []string{"CONVOSEAL_PRIVATE_KEY="}
	if r := runCLI(t, none, "decrypt", "--raw", "--private-key", p1, "--private-key", p2, srv.URL+"/x"); r.code != 0 || r.stdout != doc {
		t.Fatalf("two files: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, []string{"CONVOSEAL_PRIVATE_KEY=" + string(pem2)}, "decrypt", "--raw", "--private-key", p1, srv.URL+"/x"); r.code != 0 || r.stdout != doc {
		t.Fatalf("file and environment: %d %q %s", r.code, r.stdout, r.stderr)
	}
	runCLI(t, none, "decrypt", "--private-key", p1, srv.URL+"/x").must(t, exitWrongKey, "not encrypted for this key")
}

func TestFetchHelp(t *testing.T) {
	r := runCLI(t, nil, "fetch", "--help")
	r.must(t, 0)
	for _, want := range []string{"Exit codes:", "--format", "--operator-results", "--redacted", "--private-key", "TWILIO_AUTH_TOKEN", "CONVOSEAL_PRIVATE_KEY", "0600"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("fetch --help lacks %q", want)
		}
	}
}
