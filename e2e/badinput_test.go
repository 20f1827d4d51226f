package e2e

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/interop"
	accounts "github.com/twilio/twilio-go/rest/accounts/v1"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// badCase is one bad request and the Twilio error it must get.
type badCase struct {
	name    string
	req     isoReq
	status  int
	code    int      // Twilio code; 0 → the usual one for the status
	mention []string // the message must contain each (case-insensitive)
	forbid  []string // the whole response must contain none
}

// badDefaultCode is the Twilio code convoseal uses for a status.
func badDefaultCode(status int) int {
	switch status {
	case 400:
		return convoseal.CodeInvalidParameter
	case 401:
		return convoseal.CodeAuthentication
	case 404:
		return convoseal.CodeNotFound
	case 409:
		return convoseal.CodeConflict
	case 413:
		return convoseal.CodeTooLarge
	}
	return 0 // any non-zero code
}

// badPEMLines returns the base64 body lines of a PEM file (what must never
// be echoed or logged).
func badPEMLines(t *testing.T, pemText string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(pemText, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "-----") && len(l) >= 16 {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no base64 lines in PEM")
	}
	return out
}

func badReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func badOpenSSL(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

func TestBadInputTable(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	a := s.Twilio()

	// A media server: /slow.json answers only when the test ends (a
	// transcript that stays queued or in progress), anything else 404 (a
	// transcript that fails).
	release := make(chan struct{})
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.json" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(func() { close(release); media.Close() }) // runs before the server stops

	kf, keySID := RegisterKey(t, a)
	// A token of the right shape that differs from the real one.
	wrongToken := "0" + s.AuthToken[1:]
	if s.AuthToken[0] == '0' {
		wrongToken = "1" + s.AuthToken[1:]
	}
	privPKCS1, privPKCS8 := badReadFile(t, kf.Private), badReadFile(t, kf.PrivatePKCS8)
	secretLines := append(badPEMLines(t, privPKCS1), badPEMLines(t, privPKCS8)...)

	mkService := func(name, key string) string {
		p := &intelligence.CreateServiceParams{}
		p.SetUniqueName(name)
		if key != "" {
			p.SetEncryptionCredentialSid(key)
		}
		v, err := a.IntelligenceV2.CreateService(p)
		if err != nil {
			t.Fatalf("create service %s: %v", name, err)
		}
		return *v.Sid
	}
	svc := mkService("bad-svc", "")
	svc2 := mkService("bad-svc-2", "")
	svcEnc := mkService("bad-svc-sealed", keySID)
	cop := &intelligence.CreateCustomOperatorParams{}
	cop.SetFriendlyName("o1").SetOperatorType("phrase-matching").SetConfig(map[string]any{"phrases": []string{"a"}})
	op, err := a.IntelligenceV2.CreateCustomOperator(cop)
	if err != nil {
		t.Fatalf("create custom operator: %v", err)
	}
	opSID := *op.Sid

	const canary = "canary-7f3e sentence text that must never reach a log"
	doc := map[string]any{"sentences": []map[string]any{
		{"media_channel": 1, "start_time": 0.0, "end_time": 1.2, "transcript": canary},
	}}
	mkTranscript := func(service, mediaURL string) string {
		p := &intelligence.CreateTranscriptParams{}
		p.SetServiceSid(service).SetChannel(Channel(mediaURL))
		tr, err := a.IntelligenceV2.CreateTranscript(p)
		if err != nil {
			t.Fatalf("create transcript: %v", err)
		}
		return *tr.Sid
	}
	trPlain := mkTranscript(svc, DataURL(doc))
	trEnc := mkTranscript(svcEnc, DataURL(doc))
	trFailed := mkTranscript(svc2, media.URL+"/missing.json")
	trPending := mkTranscript(svc2, media.URL+"/slow.json")
	for sid, want := range map[string]string{trPlain: "completed", trEnc: "completed", trFailed: "failed"} {
		if got := WaitTranscript(t, a, sid, 20*time.Second); *got.Status != want {
			t.Fatalf("transcript %s is %s, want %s", sid, *got.Status, want)
		}
	}

	// Keys that must be refused.
	dir := t.TempDir()
	ecPriv, ecPub := filepath.Join(dir, "ec.pem"), filepath.Join(dir, "ec_pub.pem")
	badOpenSSL(t, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ecPriv)
	badOpenSSL(t, "ec", "-in", ecPriv, "-pubout", "-out", ecPub)
	small := interop.GenerateKeys(t, 1024)

	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	post := func(path string, kv ...string) isoReq { return isoReq{method: "POST", path: path, form: form(kv...)} }
	get := func(path string, kv ...string) isoReq {
		r := isoReq{method: "GET", path: path}
		if len(kv) > 0 {
			r.form = form(kv...)
		}
		return r
	}
	del := func(path string) isoReq { return isoReq{method: "DELETE", path: path} }
	ch := func(v any) string { return isoJSON(v) }
	okChannel := ch(Channel(DataURL(doc)))
	badDoc := DataURL(map[string]any{"sentences": []map[string]any{
		{"media_channel": 1, "start_time": 0.0, "end_time": 1.0, "transcript": "fine"},
		{"media_channel": 1, "start_time": 5.0, "end_time": 2.0, "transcript": "backwards"},
	}})

	unknown := func(prefix string) string { return convoseal.NewSID(prefix) }
	uCR, uGA, uGT, uLY, uEY := unknown("CR"), unknown("GA"), unknown("GT"), unknown("LY"), unknown("EY")
	bigSID := "GA" + strings.Repeat("f", 300)

	cases := []badCase{
		// ---- Services: parameters ----
		{name: "missing UniqueName", req: post("/v2/Services", "FriendlyName", "x"), status: 400, mention: []string{"UniqueName"}},
		{name: "blank UniqueName", req: post("/v2/Services", "UniqueName", "   "), status: 400, mention: []string{"UniqueName"}},
		{name: "UniqueName too long", req: post("/v2/Services", "UniqueName", strings.Repeat("a", 65)), status: 400, mention: []string{"UniqueName"}},
		{name: "UniqueName bad characters", req: post("/v2/Services", "UniqueName", "bad name/../!"), status: 400, mention: []string{"UniqueName"}},
		{name: "UniqueName invalid UTF-8", req: post("/v2/Services", "UniqueName", "bad\xff"), status: 400, mention: []string{"UniqueName"}},
		{name: "duplicate UniqueName", req: post("/v2/Services", "UniqueName", "bad-svc"), status: 409, mention: []string{"UniqueName"}},
		{name: "AutoRedaction=maybe", req: post("/v2/Services", "UniqueName", "x1", "AutoRedaction", "maybe"), status: 400, mention: []string{"AutoRedaction"}},
		{name: "AutoTranscribe=1x", req: post("/v2/Services", "UniqueName", "x1", "AutoTranscribe", "1x"), status: 400, mention: []string{"AutoTranscribe"}},
		{name: "MediaRedaction=yes", req: post("/v2/Services", "UniqueName", "x1", "MediaRedaction", "yes"), status: 400, mention: []string{"MediaRedaction"}},
		{name: "WebhookHttpMethod=PUT", req: post("/v2/Services", "UniqueName", "x1", "WebhookHttpMethod", "PUT"), status: 400, mention: []string{"WebhookHttpMethod"}},
		{name: "WebhookUrl=ftp://x", req: post("/v2/Services", "UniqueName", "x1", "WebhookUrl", "ftp://x"), status: 400, mention: []string{"WebhookUrl"}},
		{name: "WebhookUrl relative", req: post("/v2/Services", "UniqueName", "x1", "WebhookUrl", "/hook"), status: 400, mention: []string{"WebhookUrl"}},
		{name: "EncryptionCredentialSid wrong prefix", req: post("/v2/Services", "UniqueName", "x1", "EncryptionCredentialSid", uGA), status: 400, mention: []string{"EncryptionCredentialSid"}},
		{name: "EncryptionCredentialSid too short", req: post("/v2/Services", "UniqueName", "x1", "EncryptionCredentialSid", "CR1234"), status: 400, mention: []string{"EncryptionCredentialSid"}},
		{name: "EncryptionCredentialSid unknown", req: post("/v2/Services", "UniqueName", "x1", "EncryptionCredentialSid", uCR), status: 400, mention: []string{"EncryptionCredentialSid", uCR}},
		{name: "LanguageCode garbage", req: post("/v2/Services", "UniqueName", "x1", "LanguageCode", "!!english!!"), status: 400, mention: []string{"LanguageCode"}},
		{name: "LanguageCode too long", req: post("/v2/Services", "UniqueName", "x1", "LanguageCode", strings.Repeat("e", 40)), status: 400, mention: []string{"LanguageCode"}},
		{name: "DataLogging=true on create", req: post("/v2/Services", "UniqueName", "x1", "DataLogging", "true"), status: 403, mention: []string{"DataLogging"}},
		{name: "FriendlyName too long", req: post("/v2/Services", "UniqueName", "x1", "FriendlyName", strings.Repeat("f", 65)), status: 400, mention: []string{"FriendlyName"}},
		// ---- Services: update ----
		{name: "FriendlyName with NUL", req: post("/v2/Services/"+svc, "FriendlyName", "a\x00b"), status: 400, mention: []string{"FriendlyName"}},
		{name: "update If-Match stale", req: isoReq{method: "POST", path: "/v2/Services/" + svc, form: form("FriendlyName", "y"), header: map[string]string{"If-Match": "99"}},
			status: 412, code: convoseal.CodeConflict, mention: []string{"If-Match"}},
		{name: "malformed form body", req: isoReq{method: "POST", path: "/v2/Services", body: []byte("UniqueName=%zz&FriendlyName=x")}, status: 400, mention: []string{"form"}},
		{name: "update DataLogging=true", req: post("/v2/Services/"+svc, "DataLogging", "true"), status: 403, mention: []string{"DataLogging"}},
		{name: "update blank UniqueName", req: post("/v2/Services/"+svc, "UniqueName", ""), status: 400, mention: []string{"UniqueName"}},
		{name: "update to a taken UniqueName", req: post("/v2/Services/"+svc, "UniqueName", "bad-svc-2"), status: 409, mention: []string{"UniqueName"}},
		{name: "update AutoRedaction=maybe", req: post("/v2/Services/"+svc, "AutoRedaction", "maybe"), status: 400, mention: []string{"AutoRedaction"}},
		{name: "update EncryptionCredentialSid unknown", req: post("/v2/Services/"+svc, "EncryptionCredentialSid", uCR), status: 400, mention: []string{"EncryptionCredentialSid"}},
		{name: "update If-Match garbage", req: isoReq{method: "POST", path: "/v2/Services/" + svc, form: form("FriendlyName", "y"), header: map[string]string{"If-Match": "banana"}},
			status: 400, mention: []string{"If-Match"}},
		// ---- Paging ----
		{name: "PageSize=0", req: get("/v2/Services", "PageSize", "0"), status: 400, mention: []string{"PageSize"}},
		{name: "PageSize=5000", req: get("/v2/Services", "PageSize", "5000"), status: 400, mention: []string{"PageSize"}},
		{name: "PageSize=abc", req: get("/v2/Services", "PageSize", "abc"), status: 400, mention: []string{"PageSize"}},
		{name: "PageSize=-1 transcripts", req: get("/v2/Transcripts", "PageSize", "-1"), status: 400, mention: []string{"PageSize"}},
		{name: "PageSize=abc public keys", req: get("/v1/Credentials/PublicKeys", "PageSize", "abc"), status: 400, mention: []string{"PageSize"}},
		{name: "PageSize=0 operators", req: get("/v2/Operators", "PageSize", "0"), status: 400, mention: []string{"PageSize"}},
		{name: "PageSize=5000 sentences", req: get("/v2/Transcripts/"+trPlain+"/Sentences", "PageSize", "5000"), status: 400, mention: []string{"PageSize"}},
		{name: "Page=-3", req: get("/v2/Services", "Page", "-3"), status: 400, mention: []string{"Page"}},
		{name: "PageToken=garbage", req: get("/v2/Services", "PageToken", "garbage"), status: 400, mention: []string{"PageToken"}},
		{name: "PageToken not base64", req: get("/v2/Transcripts", "PageToken", "%%not base64%%"), status: 400, mention: []string{"PageToken"}},
		{name: "PageToken garbage on sentences", req: get("/v2/Transcripts/"+trPlain+"/Sentences", "PageToken", "garbage"), status: 400, mention: []string{"PageToken"}},
		// A token that decodes (base64url of "hello") but was never issued.
		{name: "PageToken decodable but never issued", req: get("/v2/Services", "PageToken", "aGVsbG8"), status: 400, mention: []string{"PageToken"}},
		{name: "PageToken decodable but never issued (transcripts)", req: get("/v2/Transcripts", "PageToken", "aGVsbG8"), status: 400, mention: []string{"PageToken"}},
		// ---- Transcript list filters ----
		{name: "list ServiceSid wrong prefix", req: get("/v2/Transcripts", "ServiceSid", uGT), status: 400, mention: []string{"ServiceSid"}},
		{name: "list Status bogus", req: get("/v2/Transcripts", "Status", "done"), status: 400, mention: []string{"Status"}},
		{name: "list BeforeStartTime=yesterday", req: get("/v2/Transcripts", "BeforeStartTime", "yesterday"), status: 400, mention: []string{"BeforeStartTime"}},
		{name: "list operators Availability bogus", req: get("/v2/Operators", "Availability", "sometimes"), status: 400, mention: []string{"Availability"}},
		{name: "sentences Redacted=maybe", req: get("/v2/Transcripts/"+trPlain+"/Sentences", "Redacted", "maybe"), status: 400, mention: []string{"Redacted"}},
		{name: "sentences WordTimestamps=maybe", req: get("/v2/Transcripts/"+trPlain+"/Sentences", "WordTimestamps", "maybe"), status: 400, mention: []string{"WordTimestamps"}},
		// ---- Transcripts: create ----
		{name: "transcript missing ServiceSid", req: post("/v2/Transcripts", "Channel", okChannel), status: 400, mention: []string{"ServiceSid"}},
		{name: "transcript ServiceSid wrong prefix", req: post("/v2/Transcripts", "ServiceSid", uGT, "Channel", okChannel), status: 400, mention: []string{"ServiceSid"}},
		{name: "transcript ServiceSid malformed", req: post("/v2/Transcripts", "ServiceSid", "GA-nope", "Channel", okChannel), status: 400, mention: []string{"ServiceSid"}},
		{name: "transcript unknown ServiceSid (data:)", req: post("/v2/Transcripts", "ServiceSid", uGA, "Channel", okChannel), status: 404, mention: []string{"ServiceSid", uGA}},
		{name: "transcript unknown ServiceSid (http:)", req: post("/v2/Transcripts", "ServiceSid", uGA, "Channel", ch(Channel(media.URL+"/x.json"))), status: 404, mention: []string{"ServiceSid", uGA}},
		{name: "transcript missing Channel", req: post("/v2/Transcripts", "ServiceSid", svc), status: 400, mention: []string{"Channel"}},
		{name: "Channel not JSON", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", "media_url=https://x"), status: 400, mention: []string{"Channel"}},
		{name: "Channel JSON array", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", `[{"media_properties":{"media_url":"https://x"}}]`), status: 400, mention: []string{"Channel"}},
		{name: "Channel JSON null", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", `null`), status: 400, mention: []string{"Channel"}},
		{name: "Channel two objects", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", okChannel+okChannel), status: 400, mention: []string{"Channel"}},
		{name: "Channel without media_properties", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", `{"participants":[]}`), status: 400, mention: []string{"media_properties"}},
		{name: "media_properties not an object", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", `{"media_properties":"https://x"}`), status: 400, mention: []string{"media_properties"}},
		{name: "media_url missing", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", `{"media_properties":{}}`), status: 400, mention: []string{"media_url"}},
		{name: "media_url not a string", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", `{"media_properties":{"media_url":42}}`), status: 400, mention: []string{"media_url"}},
		{name: "media_url ftp:", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel("ftp://example.com/a.wav"))), status: 400, mention: []string{"media_url"}},
		{name: "media_url file:", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel("file:///etc/passwd"))), status: 400, mention: []string{"media_url"}},
		{name: "media_url data: invalid base64", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel("data:application/json;base64,!!!not*base64!!!"))),
			status: 400, mention: []string{"media_url"}},
		{name: "media_url data: end_time < start_time", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel(badDoc))),
			status: 400, mention: []string{"media_url", "sentences[1]"}, forbid: []string{"backwards"}},
		{name: "media_url http: too long", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel("https://example.com/"+strings.Repeat("a", 3000)))),
			status: 400, mention: []string{"media_url"}},
		{name: "participants not an array", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", `{"media_properties":{"media_url":"https://x.example/a.json"},"participants":{}}`),
			status: 400, mention: []string{"participants"}},
		{name: "source_sid not a string", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", `{"media_properties":{"media_url":"https://x.example/a.json","source_sid":7}}`),
			status: 400, mention: []string{"source_sid"}},
		{name: "MediaStartTime=yesterday", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", okChannel, "MediaStartTime", "yesterday"), status: 400, mention: []string{"MediaStartTime"}},
		{name: "CustomerKey over 64 chars", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", okChannel, "CustomerKey", strings.Repeat("k", 65)), status: 400, mention: []string{"CustomerKey"}},
		{name: "media_url data: audio whose header does not decode", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel("data:audio/wav;base64,UklGRiQAAABXQVZF"))),
			status: 400, mention: []string{"media_url"}},
		{name: "media_url data: plain text", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel("data:text/plain;base64,aGVsbG8gd29ybGQ="))),
			status: 400, mention: []string{"media_url"}},
		{name: "media_url data: unsupported charset", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel("data:application/json;charset=latin1,%7B%7D"))),
			status: 400, mention: []string{"media_url", "charset"}},
		{name: "media_url data: JSON without sentences", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", ch(Channel("data:application/json,%7B%22x%22%3A1%7D"))),
			status: 400, mention: []string{"media_url"}},
		{name: "Channel over 64 KiB besides data:", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel",
			`{"media_properties":{"media_url":"https://x.example/a.json"},"participants":["`+strings.Repeat("p", 70<<10)+`"]}`), status: 400, mention: []string{"Channel"}},
		{name: "CustomerKey invalid UTF-8", req: post("/v2/Transcripts", "ServiceSid", svc, "Channel", okChannel, "CustomerKey", "k\xff"), status: 400, mention: []string{"CustomerKey"}},
		{name: "encrypted sentences Redacted=maybe", req: get("/v2/Transcripts/"+trEnc+"/Sentences/Encrypted", "Redacted", "maybe"), status: 400, mention: []string{"Redacted"}},
		// ---- Public keys ----
		{name: "missing PublicKey", req: post("/v1/Credentials/PublicKeys", "FriendlyName", "k"), status: 400, mention: []string{"PublicKey"}},
		{name: "garbage PEM", req: post("/v1/Credentials/PublicKeys", "PublicKey", "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n"), status: 400, mention: []string{"PublicKey"}},
		{name: "not PEM at all", req: post("/v1/Credentials/PublicKeys", "PublicKey", "ssh-rsa AAAAB3NzaC1yc2E hello"), status: 400, mention: []string{"PublicKey"}},
		{name: "PKCS#1 private key pasted", req: post("/v1/Credentials/PublicKeys", "PublicKey", privPKCS1), status: 400, mention: []string{"PublicKey", "private key"}, forbid: secretLines},
		{name: "PKCS#8 private key pasted", req: post("/v1/Credentials/PublicKeys", "PublicKey", privPKCS8), status: 400, mention: []string{"PublicKey", "private key"}, forbid: secretLines},
		{name: "private key after text", req: post("/v1/Credentials/PublicKeys", "PublicKey", "my key:\n"+privPKCS1), status: 400, mention: []string{"PublicKey", "private key"}, forbid: secretLines},
		{name: "private key as FriendlyName", req: post("/v1/Credentials/PublicKeys", "PublicKey", badReadFile(t, kf.Public), "FriendlyName", privPKCS1), status: 400,
			mention: []string{"FriendlyName"}, forbid: secretLines},
		{name: "EC public key", req: post("/v1/Credentials/PublicKeys", "PublicKey", badReadFile(t, ecPub)), status: 400, mention: []string{"PublicKey", "RSA"}},
		{name: "1024-bit RSA key", req: post("/v1/Credentials/PublicKeys", "PublicKey", badReadFile(t, small.Public)), status: 400, mention: []string{"PublicKey", "bits"}},
		{name: "update key FriendlyName too long", req: post("/v1/Credentials/PublicKeys/"+keySID, "FriendlyName", strings.Repeat("n", 65)), status: 400, mention: []string{"FriendlyName"}},
		{name: "public key for another account", req: post("/v1/Credentials/PublicKeys", "PublicKey", badReadFile(t, kf.Public), "AccountSid", unknown("AC")), status: 400, mention: []string{"AccountSid"}},
		// ---- Custom operators ----
		{name: "update custom operator without Config", req: post("/v2/Operators/Custom/"+opSID, "FriendlyName", "o2"), status: 400, mention: []string{"Config"}},
		{name: "update custom operator If-Match stale", req: isoReq{method: "POST", path: "/v2/Operators/Custom/" + opSID, form: form("FriendlyName", "o3", "Config", `{"phrases":["b"]}`),
			header: map[string]string{"If-Match": "99"}}, status: 412, code: convoseal.CodeConflict, mention: []string{"If-Match"}},
		{name: "operator missing FriendlyName", req: post("/v2/Operators/Custom", "OperatorType", "phrase-matching", "Config", `{"phrases":["a"]}`), status: 400, mention: []string{"FriendlyName"}},
		{name: "operator unknown OperatorType", req: post("/v2/Operators/Custom", "FriendlyName", "o", "OperatorType", "telepathy", "Config", `{}`), status: 400, mention: []string{"OperatorType"}},
		{name: "operator Config not JSON", req: post("/v2/Operators/Custom", "FriendlyName", "o", "OperatorType", "phrase-matching", "Config", `phrases=a`), status: 400, mention: []string{"Config"}},
		{name: "operator Config empty phrases", req: post("/v2/Operators/Custom", "FriendlyName", "o", "OperatorType", "phrase-matching", "Config", `{"phrases":[]}`), status: 400, mention: []string{"Config"}},
		{name: "generative schema $ref file", req: post("/v2/Operators/Custom", "FriendlyName", "o", "OperatorType", "generative", "Config", `{"prompt":"p","json_result_schema":{"$ref":"file:///etc/passwd"}}`),
			status: 400, mention: []string{"json_result_schema", "not allowed"}, forbid: []string{"passwd", "root:"}},
		{name: "generative schema $ref stdin", req: post("/v2/Operators/Custom", "FriendlyName", "o", "OperatorType", "generative", "Config", `{"prompt":"p","json_result_schema":{"$ref":"file:///proc/self/fd/0"}}`),
			status: 400, mention: []string{"json_result_schema", "not allowed"}, forbid: []string{"/proc"}},
		{name: "generative schema relative $ref", req: post("/v2/Operators/Custom", "FriendlyName", "o", "OperatorType", "generative", "Config", `{"prompt":"p","json_result_schema":{"$ref":"convoseal.db"}}`),
			status: 400, mention: []string{"json_result_schema", "not allowed"}, forbid: []string{"convoseal.db"}},
		// ---- Unknown SIDs: 404 naming the resource ----
		{name: "fetch unknown public key", req: get("/v1/Credentials/PublicKeys/" + uCR), status: 404, mention: []string{uCR}},
		{name: "update unknown public key", req: post("/v1/Credentials/PublicKeys/"+uCR, "FriendlyName", "x"), status: 404, mention: []string{uCR}},
		{name: "delete unknown public key", req: del("/v1/Credentials/PublicKeys/" + uCR), status: 404, mention: []string{uCR}},
		{name: "fetch unknown service", req: get("/v2/Services/" + uGA), status: 404, mention: []string{uGA}},
		{name: "update unknown service", req: post("/v2/Services/"+uGA, "FriendlyName", "x"), status: 404, mention: []string{uGA}},
		{name: "delete unknown service", req: del("/v2/Services/" + uGA), status: 404, mention: []string{uGA}},
		{name: "unknown service operators", req: get("/v2/Services/" + uGA + "/Operators"), status: 404, mention: []string{uGA}},
		{name: "attach to unknown service", req: post("/v2/Services/" + uGA + "/Operators/" + uLY), status: 404, mention: []string{uGA}},
		{name: "attach unknown operator", req: post("/v2/Services/" + svc + "/Operators/" + uLY), status: 404, mention: []string{uLY}},
		{name: "detach unattached operator", req: del("/v2/Services/" + svc + "/Operators/" + uLY), status: 404, mention: []string{uLY}},
		{name: "fetch unknown transcript", req: get("/v2/Transcripts/" + uGT), status: 404, mention: []string{uGT}},
		{name: "delete unknown transcript", req: del("/v2/Transcripts/" + uGT), status: 404, mention: []string{uGT}},
		{name: "unknown transcript media", req: get("/v2/Transcripts/" + uGT + "/Media"), status: 404, mention: []string{uGT}},
		{name: "unknown transcript sentences", req: get("/v2/Transcripts/" + uGT + "/Sentences"), status: 404, mention: []string{uGT}},
		{name: "unknown transcript encrypted sentences", req: get("/v2/Transcripts/" + uGT + "/Sentences/Encrypted"), status: 404, mention: []string{uGT}},
		{name: "unknown transcript operator results", req: get("/v2/Transcripts/" + uGT + "/OperatorResults"), status: 404, mention: []string{uGT}},
		{name: "unknown transcript encrypted operator results", req: get("/v2/Transcripts/" + uGT + "/OperatorResults/Encrypted"), status: 404, mention: []string{uGT}},
		{name: "unknown transcript operator result", req: get("/v2/Transcripts/" + uGT + "/OperatorResults/" + uLY), status: 404, mention: []string{uGT}},
		{name: "unknown operator result", req: get("/v2/Transcripts/" + trPlain + "/OperatorResults/" + uLY), status: 404, mention: []string{uLY}},
		{name: "fetch unknown operator", req: get("/v2/Operators/" + uLY), status: 404, mention: []string{uLY}},
		{name: "fetch unknown pre-built operator", req: get("/v2/Operators/PreBuilt/" + uLY), status: 404, mention: []string{uLY}},
		{name: "fetch unknown custom operator", req: get("/v2/Operators/Custom/" + uLY), status: 404, mention: []string{uLY}},
		{name: "update unknown custom operator", req: post("/v2/Operators/Custom/"+uLY, "FriendlyName", "x", "Config", `{"phrases":["a"]}`), status: 404, mention: []string{uLY}},
		{name: "delete unknown custom operator", req: del("/v2/Operators/Custom/" + uLY), status: 404, mention: []string{uLY}},
		{name: "fetch unknown operator type", req: get("/v2/OperatorTypes/" + uEY), status: 404, mention: []string{uEY}},
		// ---- Malformed and wrong-prefix SIDs in paths: 404 ----
		{name: "service SID too short", req: get("/v2/Services/GA123"), status: 404, mention: []string{"GA123"}},
		{name: "service SID not hex", req: get("/v2/Services/GA" + strings.Repeat("z", 32)), status: 404, mention: []string{"GA" + strings.Repeat("z", 32)}},
		{name: "service SID very long", req: get("/v2/Services/" + bigSID), status: 404, mention: []string{bigSID[:40]}, forbid: []string{bigSID[:100]}},
		{name: "transcript SID as service", req: get("/v2/Services/" + uGT), status: 404, mention: []string{uGT}},
		{name: "service SID as transcript", req: get("/v2/Transcripts/" + svc), status: 404, mention: []string{svc}},
		{name: "service SID as transcript sentences", req: get("/v2/Transcripts/" + svc + "/Sentences"), status: 404, mention: []string{svc}},
		{name: "service SID as public key", req: get("/v1/Credentials/PublicKeys/" + svc), status: 404, mention: []string{svc}},
		{name: "public key SID as service", req: get("/v2/Services/" + keySID), status: 404, mention: []string{keySID}},
		{name: "service SID as operator", req: get("/v2/Operators/Custom/" + svc), status: 404, mention: []string{svc}},
		{name: "service SID as operator type", req: get("/v2/OperatorTypes/" + svc), status: 404, mention: []string{svc}},
		{name: "transcript SID as operator result", req: get("/v2/Transcripts/" + trPlain + "/OperatorResults/" + trPlain), status: 404, mention: []string{trPlain}},
		{name: "delete with malformed SID", req: del("/v2/Transcripts/nope"), status: 404, mention: []string{"nope"}},
		{name: "update with malformed SID", req: post("/v2/Services/nope", "FriendlyName", "x"), status: 404, mention: []string{"nope"}},
		{name: "attach with malformed operator", req: post("/v2/Services/" + svc + "/Operators/nope"), status: 404, mention: []string{"nope"}},
		// ---- Bodies and routes ----
		{name: "body over 16 MiB (transcript)", req: isoReq{method: "POST", path: "/v2/Transcripts",
			body: []byte("ServiceSid=" + svc + "&Channel=" + strings.Repeat("a", 17<<20))}, status: 413, mention: []string{"larger than"}},
		{name: "body over 16 MiB (service)", req: isoReq{method: "POST", path: "/v2/Services",
			body: []byte("UniqueName=big&FriendlyName=" + strings.Repeat("a", 17<<20))}, status: 413, mention: []string{"larger than"}},
		{name: "JSON body", req: isoReq{method: "POST", path: "/v2/Services", body: []byte(`{"UniqueName":"json"}`), contentType: "application/json"},
			status: 415, mention: []string{"application/x-www-form-urlencoded"}},
		{name: "multipart body", req: isoReq{method: "POST", path: "/v1/Credentials/PublicKeys", body: []byte("--b\r\n\r\n--b--\r\n"), contentType: "multipart/form-data; boundary=b"},
			status: 415, mention: []string{"application/x-www-form-urlencoded"}},
		{name: "text body on transcripts", req: isoReq{method: "POST", path: "/v2/Transcripts", body: []byte("hello"), contentType: "text/plain"},
			status: 415, mention: []string{"application/x-www-form-urlencoded"}},
		{name: "unknown route /v2", req: get("/v2/Nope"), status: 404, mention: []string{"/v2/Nope"}},
		{name: "unknown route /v1", req: get("/v1/Credentials/SecretKeys"), status: 404, mention: []string{"/v1/Credentials/SecretKeys"}},
		{name: "unknown sub-resource", req: get("/v2/Services/" + svc + "/Transcripts"), status: 404, mention: []string{"Transcripts"}},
		{name: "unknown top-level path", req: isoReq{method: "GET", path: "/v3/Services", noAuth: true}, status: 404, mention: []string{"/v3/Services"}},
		{name: "PUT on a collection", req: isoReq{method: "PUT", path: "/v2/Services", body: []byte("UniqueName=x"), contentType: "application/x-www-form-urlencoded"}, status: 405},
		// ---- Authentication ----
		{name: "no credentials", req: isoReq{method: "GET", path: "/v2/Services", noAuth: true}, status: 401, mention: []string{"Auth"}},
		{name: "wrong token", req: isoReq{method: "GET", path: "/v2/Services", creds: []string{s.AccountSID, wrongToken}}, status: 401, mention: []string{"Auth"}},
		{name: "no credentials on a create", req: isoReq{method: "POST", path: "/v2/Services", form: form("UniqueName", "x"), noAuth: true}, status: 401},
		// ---- Resource state ----
		{name: "sentences of a pending transcript", req: get("/v2/Transcripts/" + trPending + "/Sentences"), status: 409, mention: []string{trPending}},
		{name: "operator results of a pending transcript", req: get("/v2/Transcripts/" + trPending + "/OperatorResults"), status: 409, mention: []string{trPending}},
		{name: "sentences of a failed transcript", req: get("/v2/Transcripts/" + trFailed + "/Sentences"), status: 409, mention: []string{trFailed, "failed"}},
		{name: "encrypted sentences of a failed transcript", req: get("/v2/Transcripts/" + trFailed + "/Sentences/Encrypted"), status: 409, mention: []string{trFailed}},
		{name: "sentences of a customer-encrypted transcript", req: get("/v2/Transcripts/" + trEnc + "/Sentences"), status: 400, code: convoseal.CodeEncrypted,
			mention: []string{"/v2/Transcripts/" + trEnc + "/Sentences/Encrypted"}},
		{name: "operator results of a customer-encrypted transcript", req: get("/v2/Transcripts/" + trEnc + "/OperatorResults"), status: 400, code: convoseal.CodeEncrypted,
			mention: []string{"/OperatorResults/Encrypted"}},
		{name: "encrypted sentences without customer key", req: get("/v2/Transcripts/" + trPlain + "/Sentences/Encrypted"), status: 400, mention: []string{trPlain, "/Sentences"}},
		{name: "encrypted operator results without customer key", req: get("/v2/Transcripts/" + trPlain + "/OperatorResults/Encrypted"), status: 400, mention: []string{trPlain, "/OperatorResults"}},
		{name: "delete a key in use", req: del("/v1/Credentials/PublicKeys/" + keySID), status: 409, mention: []string{svcEnc}},
		{name: "delete a service with transcripts", req: del("/v2/Services/" + svc), status: 409, mention: []string{"transcript"}},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, body := isoSend(t, s, c.req)
			if st >= 500 {
				t.Fatalf("%s %s: HTTP %d (server error): %s", c.req.method, c.req.path, st, isoTrim(body))
			}
			code := c.code
			if code == 0 {
				code = badDefaultCode(c.status)
			}
			m := isoTwilioError(t, c.name, st, body, c.status, code)
			if m == nil {
				return
			}
			msg, _ := m["message"].(string)
			for _, want := range c.mention {
				if !strings.Contains(strings.ToLower(msg), strings.ToLower(want)) {
					t.Errorf("message %q does not mention %q", msg, want)
				}
			}
			for _, f := range c.forbid {
				if bytes.Contains(body, []byte(f)) {
					t.Errorf("response contains %q, which it must not: %s", f, isoTrim(body))
				}
			}
		})
	}

	// The same refusals through the official client.
	t.Run("twilio-go", func(t *testing.T) {
		c := a.IntelligenceV2
		_, err := c.CreateService(&intelligence.CreateServiceParams{})
		if re := isoRestErr(t, "create service without UniqueName", err, 400, convoseal.CodeInvalidParameter); re != nil && !strings.Contains(re.Message, "UniqueName") {
			t.Errorf("message %q does not mention UniqueName", re.Message)
		}
		p := &intelligence.CreateServiceParams{}
		p.SetUniqueName("bad-svc")
		_, err = c.CreateService(p)
		isoRestErr(t, "create service with a taken UniqueName", err, 409, convoseal.CodeConflict)
		p = &intelligence.CreateServiceParams{}
		p.SetUniqueName("sdk-x").SetWebhookHttpMethod("PUT")
		_, err = c.CreateService(p)
		isoRestErr(t, "WebhookHttpMethod=PUT", err, 400, convoseal.CodeInvalidParameter)
		p = &intelligence.CreateServiceParams{}
		p.SetUniqueName("sdk-x").SetDataLogging(true)
		_, err = c.CreateService(p)
		isoRestErr(t, "DataLogging=true", err, 403, convoseal.CodeInvalidParameter)
		p = &intelligence.CreateServiceParams{}
		p.SetUniqueName("sdk-x").SetEncryptionCredentialSid("GA" + uCR[2:])
		_, err = c.CreateService(p)
		isoRestErr(t, "EncryptionCredentialSid wrong prefix", err, 400, convoseal.CodeInvalidParameter)
		_, err = c.FetchService(uGA)
		isoRestErr(t, "fetch unknown service", err, 404, convoseal.CodeNotFound)
		_, err = c.FetchService(uGT)
		isoRestErr(t, "fetch service with a transcript SID", err, 404, convoseal.CodeNotFound)
		_, err = c.FetchTranscript(uGT)
		isoRestErr(t, "fetch unknown transcript", err, 404, convoseal.CodeNotFound)
		isoRestErr(t, "delete unknown custom operator", c.DeleteCustomOperator(uLY), 404, convoseal.CodeNotFound)
		_, err = c.PageService((&intelligence.ListServiceParams{}).SetPageSize(5000), "", "")
		isoRestErr(t, "PageSize=5000", err, 400, convoseal.CodeInvalidParameter)

		tp := &intelligence.CreateTranscriptParams{}
		tp.SetServiceSid(svc)
		_, err = c.CreateTranscript(tp)
		isoRestErr(t, "create transcript without Channel", err, 400, convoseal.CodeInvalidParameter)
		tp = &intelligence.CreateTranscriptParams{}
		tp.SetServiceSid(uGA).SetChannel(Channel(DataURL(doc)))
		_, err = c.CreateTranscript(tp)
		isoRestErr(t, "create transcript in an unknown service", err, 404, convoseal.CodeNotFound)
		tp = &intelligence.CreateTranscriptParams{}
		tp.SetServiceSid(svc).SetChannel(Channel("ftp://example.com/a.wav"))
		_, err = c.CreateTranscript(tp)
		isoRestErr(t, "media_url ftp:", err, 400, convoseal.CodeInvalidParameter)
		tp = &intelligence.CreateTranscriptParams{}
		tp.SetServiceSid(svc).SetChannel(Channel(badDoc))
		_, err = c.CreateTranscript(tp)
		isoRestErr(t, "invalid inline document", err, 400, convoseal.CodeInvalidParameter)

		_, err = c.ListSentence(trEnc, nil)
		if re := isoRestErr(t, "sentences of a customer-encrypted transcript", err, 400, convoseal.CodeEncrypted); re != nil && !strings.Contains(re.Message, "Encrypted") {
			t.Errorf("message %q does not point to /Encrypted", re.Message)
		}
		_, err = c.FetchEncryptedSentences(trPlain, nil)
		isoRestErr(t, "encrypted sentences without customer key", err, 400, convoseal.CodeInvalidParameter)
		_, err = c.ListSentence(trPending, nil)
		isoRestErr(t, "sentences of a pending transcript", err, 409, convoseal.CodeConflict)
		_, err = c.ListSentence(trFailed, nil)
		isoRestErr(t, "sentences of a failed transcript", err, 409, convoseal.CodeConflict)

		kp := &accounts.CreateCredentialPublicKeyParams{}
		kp.SetPublicKey(privPKCS8)
		_, err = a.AccountsV1.CreateCredentialPublicKey(kp)
		if re := isoRestErr(t, "private key as PublicKey", err, 400, convoseal.CodeInvalidParameter); re != nil {
			if !strings.Contains(strings.ToLower(re.Message), "private key") {
				t.Errorf("message %q does not say it is a private key", re.Message)
			}
			for _, l := range secretLines {
				if strings.Contains(re.Error(), l) {
					t.Errorf("twilio-go error repeats a line of the private key")
				}
			}
		}
		kp = &accounts.CreateCredentialPublicKeyParams{}
		kp.SetPublicKey(badReadFile(t, small.Public))
		_, err = a.AccountsV1.CreateCredentialPublicKey(kp)
		isoRestErr(t, "1024-bit key", err, 400, convoseal.CodeInvalidParameter)
		_, err = a.AccountsV1.FetchCredentialPublicKey(uCR)
		isoRestErr(t, "fetch unknown public key", err, 404, convoseal.CodeNotFound)

		_, err = s.Twilio(s.AccountSID, wrongToken).IntelligenceV2.ListService(nil)
		isoRestErr(t, "wrong token", err, 401, convoseal.CodeAuthentication)
	})

	// Nothing above created anything: the refused creates left no trace.
	t.Run("refusals created nothing", func(t *testing.T) {
		for path, key := range map[string]string{"/v2/Services": "services", "/v1/Credentials/PublicKeys": "credentials", "/v2/Operators/Custom": "operators"} {
			_, m := s.Do(t, "GET", path, nil)
			items, _ := m[key].([]any)
			want := map[string]int{"services": 3, "credentials": 1, "operators": 1}[key]
			if len(items) != want {
				t.Errorf("GET %s: %d %s, want %d", path, len(items), key, want)
			}
		}
		_, m := s.Do(t, "GET", "/v2/Transcripts", nil)
		if items, _ := m["transcripts"].([]any); len(items) != 4 {
			t.Errorf("GET /v2/Transcripts: %d transcripts, want 4", len(items))
		}
	})

	// The log holds neither the private keys submitted above, nor the auth
	// token, nor transcript text.
	t.Run("server log", func(t *testing.T) {
		log := s.Log()
		if len(log) == 0 {
			t.Fatal("the server log is empty; the check would prove nothing")
		}
		for i, l := range secretLines {
			if bytes.Contains(log, []byte(l)) {
				t.Errorf("server log contains line %d of a submitted private key", i)
			}
		}
		for name, secret := range map[string]string{"auth token": s.AuthToken, "wrong token": wrongToken, "transcript text": canary, "backwards sentence": "backwards"} {
			if bytes.Contains(log, []byte(secret)) {
				t.Errorf("server log contains the %s", name)
			}
		}
		if !bytes.Contains(log, []byte("/v2/Services")) {
			t.Errorf("server log has no request lines; is --log-level debug in effect?")
		}
		t.Logf("%d bytes of server log checked", len(log))
	})
}
