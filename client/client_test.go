package client

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convoseal/convoseal/client/clienttest"
	"github.com/convoseal/convoseal/seal"
)

var (
	keysOnce sync.Once
	keys     []*rsa.PrivateKey
)

// testKeys returns three RSA-2048 keys, made once per test binary.
func testKeys(t *testing.T) []*rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
	})
	return keys
}

func sid(prefix string, n int) string { return fmt.Sprintf("%s%032x", prefix, n) }

const sentencesDoc = `{"transcript_sid":"%s","sentences":[` +
	`{"sid":"GX00000000000000000000000000000001","sentence_index":0,"media_channel":1,"start_time":"0.5","end_time":"2.25","transcript":"Hello, thanks for calling.","confidence":"0.93","words":null},` +
	`{"sid":"GX00000000000000000000000000000002","sentence_index":1,"media_channel":2,"start_time":"2.8","end_time":"4","transcript":"Hi, my card was charged twice.","confidence":null,"words":[{"word":"Hi","start_time":"2.8","end_time":"3.0"}]}]}`

func operatorDoc(transcript string, op int) []byte {
	return fmt.Appendf(nil, `{"operator_type":"text-generation","name":"Summary","operator_sid":"%s","extract_match":null,"match_probability":null,"normalized_result":null,"utterance_results":null,"utterance_match":null,"predicted_label":null,"predicted_probability":null,"label_probabilities":null,"extract_results":null,"text_generation_results":{"result":"The caller was charged twice."},"json_results":null,"transcript_sid":"%s","status":"completed"}`, sid("LY", op), transcript)
}

// fixture is a fake API holding n transcripts sealed for keys[0].
func fixture(t *testing.T, n int, mut func(i int, tr *clienttest.Transcript)) *clienttest.Server {
	t.Helper()
	k := testKeys(t)
	s := clienttest.NewServer()
	t.Cleanup(s.Close)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		gt := sid("GT", i+1)
		tr := clienttest.Transcript{SID: gt, ServiceSID: sid("GA", 1+i%2), DateCreated: base.Add(time.Duration(i) * time.Hour),
			Redaction: true, Key: &k[0].PublicKey, CredentialSID: sid("CR", 1), CustomerKey: fmt.Sprintf("call-%d", i),
			Sentences: fmt.Appendf(nil, sentencesDoc, gt), OperatorResults: [][]byte{operatorDoc(gt, 1), operatorDoc(gt, 2)}}
		if mut != nil {
			mut(i, &tr)
		}
		if err := s.Add(tr); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// newClient returns a client of s whose backoff sleeps are recorded, not slept.
func newClient(t *testing.T, s *clienttest.Server, kr *Keyring, mod func(*Options)) (*Client, *[]time.Duration) {
	t.Helper()
	o := Options{BaseURL: s.URL, AccountSID: clienttest.AccountSID, AuthToken: clienttest.AuthToken, Keys: kr}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	slept := &[]time.Duration{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*slept = append(*slept, d)
		mu.Unlock()
		return ctx.Err()
	}
	return c, slept
}

func ring(t *testing.T, ks ...*rsa.PrivateKey) *Keyring {
	t.Helper()
	kr := NewKeyring()
	for _, k := range ks {
		if err := kr.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	return kr
}

func TestNewOptions(t *testing.T) {
	t.Setenv(EnvAccountSID, "")
	t.Setenv(EnvAuthToken, "")
	t.Setenv(EnvURL, "")
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "credentials missing") {
		t.Fatalf("no credentials: %v", err)
	}
	t.Setenv(EnvAccountSID, "ACenv")
	t.Setenv(EnvAuthToken, "tok-env")
	c, err := New(Options{})
	if err != nil || c.base.String() != DefaultBaseURL || c.accountSID != "ACenv" || c.authToken != "tok-env" || c.retries != DefaultMaxRetries {
		t.Fatalf("defaults from the environment: %v %+v", err, c)
	}
	t.Setenv(EnvURL, "http://127.0.0.1:9/")
	if c, _ := New(Options{}); c.base.String() != "http://127.0.0.1:9" {
		t.Fatalf("$%s not used: %s", EnvURL, c.base)
	}
	for _, bad := range []string{"ftp://x", "localhost:8080", "https://AC1:secret@example.com"} {
		_, err := New(Options{BaseURL: bad})
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("base URL %q: %v", bad, err)
		}
	}
}

func TestTranscriptsPaging(t *testing.T) {
	s := fixture(t, 7, nil)
	c, _ := newClient(t, s, nil, nil)
	ctx := context.Background()
	var got []string
	for tr, err := range c.Transcripts(ctx, ListOptions{PageSize: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tr.SID)
	}
	var want []string
	for i := 7; i >= 1; i-- {
		want = append(want, sid("GT", i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want newest first %v", got, want)
	}
	if n := s.Hits("/v2/Transcripts"); n != 3 {
		t.Fatalf("%d list requests for 7 transcripts in pages of 3, want 3", n)
	}

	// Stopping early fetches no further page.
	before := s.Hits("/v2/Transcripts")
	for range c.Transcripts(ctx, ListOptions{PageSize: 3}) {
		break
	}
	if n := s.Hits("/v2/Transcripts") - before; n != 1 {
		t.Fatalf("breaking after the first transcript made %d requests", n)
	}

	// Filters are sent, and kept on later pages (via next_page_url).
	got = nil
	for tr, err := range c.Transcripts(ctx, ListOptions{ServiceSID: sid("GA", 1), AfterDateCreated: time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC), PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		if tr.ServiceSID != sid("GA", 1) || !tr.Encrypted() || tr.AccountSID != clienttest.AccountSID || tr.DateCreated.IsZero() {
			t.Fatalf("transcript %+v", tr)
		}
		got = append(got, tr.SID)
	}
	if want := []string{sid("GT", 7), sid("GT", 5), sid("GT", 3)}; !slices.Equal(got, want) {
		t.Fatalf("filtered %v, want %v", got, want)
	}
	got = nil
	for tr, err := range c.Transcripts(ctx, ListOptions{CustomerKey: "call-4"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tr.SID)
	}
	if !slices.Equal(got, []string{sid("GT", 5)}) {
		t.Fatalf("CustomerKey filter: %v", got)
	}

	tr, err := c.Transcript(ctx, sid("GT", 2))
	if err != nil || tr.SID != sid("GT", 2) || tr.CustomerKey != "call-1" || !tr.Redaction || tr.EncryptionCredentialSID != sid("CR", 1) {
		t.Fatalf("Transcript: %v %+v", err, tr)
	}
	if _, err := c.Transcript(ctx, sid("GT", 99)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing transcript: %v", err)
	}
	if _, err := c.Transcript(ctx, "GT../../v1/Accounts"); err == nil {
		t.Fatal("a malformed SID was sent")
	}
}

func TestListErrorEndsSequence(t *testing.T) {
	s := fixture(t, 4, nil)
	c, _ := newClient(t, s, nil, func(o *Options) { o.MaxRetries = -1 })
	s.Fail("/v2/Transcripts", http.StatusBadRequest, "", 1)
	n := 0
	var last error
	for _, err := range c.Transcripts(context.Background(), ListOptions{}) {
		n++
		last = err
	}
	var ae *APIError
	if n != 1 || !errors.As(last, &ae) || ae.StatusCode != 400 || ae.Code != 20400 {
		t.Fatalf("%d items, last error %v", n, last)
	}
}

func TestFetchAndDecode(t *testing.T) {
	k := testKeys(t)
	s := fixture(t, 1, nil)
	c, _ := newClient(t, s, ring(t, k[0]), nil)
	ctx := context.Background()
	gt := sid("GT", 1)
	d, err := c.FetchSentences(ctx, gt, true)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Plaintext) != fmt.Sprintf(sentencesDoc, gt) || d.Kind != KindSentences || !d.Redacted || d.TranscriptSID != gt ||
		d.Fingerprint != seal.Fingerprint(&k[0].PublicKey) || d.SealedSize != int64(len(d.Plaintext)+16) {
		t.Fatalf("decrypted %+v", d)
	}
	ss, err := d.Sentences()
	if err != nil || len(ss) != 2 || ss[1].MediaChannel != 2 || ss[1].StartTime != 2.8 || ss[0].EndTime != 2.25 ||
		*ss[0].Confidence != 0.93 || ss[1].Confidence != nil || ss[1].Words[0].EndTime != 3 {
		t.Fatalf("sentences %v %+v", err, ss)
	}
	if _, err := d.OperatorResult(); err == nil {
		t.Fatal("a sentences artifact decoded as an operator result")
	}
	if d, err := c.FetchSentences(ctx, gt, false); err != nil || d.Redacted {
		t.Fatalf("unredacted: %v %+v", err, d)
	}

	rs, err := c.FetchOperatorResults(ctx, gt, true)
	if err != nil || len(rs) != 2 {
		t.Fatalf("operator results: %v %d", err, len(rs))
	}
	for i, r := range rs {
		res, err := r.OperatorResult()
		if err != nil || r.OperatorSID != sid("LY", i+1) || res.OperatorSID != r.OperatorSID || res.TextGenerationResults.Result != "The caller was charged twice." ||
			res.Status != "completed" || res.TranscriptSID != gt || !r.Redacted || r.Kind != KindOperatorResult {
			t.Fatalf("result %d: %v %+v %+v", i, err, r, res)
		}
	}
}

func TestFetchAPIErrors(t *testing.T) {
	k := testKeys(t)
	s := fixture(t, 3, func(i int, tr *clienttest.Transcript) {
		switch i {
		case 1:
			tr.Key = nil
			tr.CredentialSID = ""
		case 2:
			tr.Status = "in-progress"
		}
	})
	c, _ := newClient(t, s, ring(t, k[0]), nil)
	ctx := context.Background()
	cases := []struct {
		gt   string
		want error
	}{{sid("GT", 99), ErrNotFound}, {sid("GT", 2), ErrNotEncrypted}, {sid("GT", 3), ErrNotCompleted}}
	for _, cs := range cases {
		_, err := c.FetchSentences(ctx, cs.gt, true)
		if !errors.Is(err, cs.want) {
			t.Errorf("sentences of %s: %v, want %v", cs.gt, err, cs.want)
		}
		_, err = c.FetchOperatorResults(ctx, cs.gt, true)
		if !errors.Is(err, cs.want) {
			t.Errorf("operator results of %s: %v, want %v", cs.gt, err, cs.want)
		}
	}
	// A keyless client refuses before any request.
	c2, _ := newClient(t, s, nil, nil)
	if _, err := c2.FetchSentences(ctx, sid("GT", 1), true); err == nil || !strings.Contains(err.Error(), "no private key") {
		t.Fatalf("no keys: %v", err)
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	k := testKeys(t)
	s := fixture(t, 1, nil)
	c, slept := newClient(t, s, ring(t, k[0]), nil)
	gt := sid("GT", 1)
	s.Fail("/v2/Transcripts/"+gt+"/Sentences/Encrypted", http.StatusTooManyRequests, "7", 1)
	s.Fail("/blob/", http.StatusTooManyRequests, "3", 1)
	if _, err := c.FetchSentences(context.Background(), gt, true); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(*slept, []time.Duration{7 * time.Second, 3 * time.Second}) {
		t.Fatalf("waited %v, want the Retry-After values [7s 3s]", *slept)
	}
	if n := s.Hits("/v2/Transcripts/" + gt + "/Sentences/Encrypted"); n != 2 {
		t.Fatalf("%d API requests, want 2", n)
	}
}

func TestRetryBackoffOn503(t *testing.T) {
	k := testKeys(t)
	s := fixture(t, 1, nil)
	c, slept := newClient(t, s, ring(t, k[0]), func(o *Options) { o.RetryBaseDelay = 100 * time.Millisecond })
	gt := sid("GT", 1)
	s.Fail("/v2/Transcripts/"+gt+"/OperatorResults/Encrypted", http.StatusServiceUnavailable, "", 2)
	s.Fail("/blob/", http.StatusBadGateway, "", 1)
	if _, err := c.FetchOperatorResults(context.Background(), gt, true); err != nil {
		t.Fatal(err)
	}
	// Exponential with jitter in the upper half: [50,100], [100,200] ms for
	// the API, then [50,100] ms for the download.
	bounds := [][2]time.Duration{{50, 100}, {100, 200}, {50, 100}}
	if len(*slept) != len(bounds) {
		t.Fatalf("waited %v, want %d backoffs", *slept, len(bounds))
	}
	for i, d := range *slept {
		if d < bounds[i][0]*time.Millisecond || d > bounds[i][1]*time.Millisecond {
			t.Fatalf("backoff %d is %v, want within %v ms", i, d, bounds[i])
		}
	}

	// Retries run out: the last error is reported with the attempts made.
	s.Fail("/v2/Transcripts/"+gt+"/Sentences/Encrypted", http.StatusServiceUnavailable, "", 3)
	c2, slept2 := newClient(t, s, ring(t, k[0]), func(o *Options) { o.MaxRetries = 2 })
	_, err := c2.FetchSentences(context.Background(), gt, true)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || !strings.Contains(err.Error(), "after 3 attempts") || len(*slept2) != 2 {
		t.Fatalf("exhausted: %v (slept %v)", err, *slept2)
	}
	// A 4xx other than 429 is not retried.
	s.Fail("/v2/Transcripts/"+gt+"/Sentences/Encrypted", http.StatusBadRequest, "", 1)
	*slept2 = nil
	if _, err := c2.FetchSentences(context.Background(), gt, true); !errors.As(err, &ae) || ae.StatusCode != 400 || len(*slept2) != 0 {
		t.Fatalf("400: %v, slept %v", err, *slept2)
	}
}

func TestRetryTransportError(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		fmt.Fprint(w, `{"sid":"GT00000000000000000000000000000001","status":"completed"}`)
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, AccountSID: "AC1", AuthToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	var slept int
	c.sleep = func(context.Context, time.Duration) error { slept++; return nil }
	tr, err := c.Transcript(context.Background(), sid("GT", 1))
	if err != nil || tr.Status != "completed" || slept != 1 || n != 2 {
		t.Fatalf("%v %+v slept %d requests %d", err, tr, slept, n)
	}
}

func TestCancelledWhileWaiting(t *testing.T) {
	s := fixture(t, 1, nil)
	c, _ := newClient(t, s, nil, nil)
	c.sleep = sleepCtx
	s.Fail("/v2/Transcripts/", http.StatusServiceUnavailable, "30", 1)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Transcript(ctx, sid("GT", 1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled during a 30 s Retry-After: %v", err)
	}
}

func TestExpiredLocationRefetched(t *testing.T) {
	k := testKeys(t)
	s := fixture(t, 1, nil)
	c, slept := newClient(t, s, ring(t, k[0]), nil)
	ctx := context.Background()
	gt := sid("GT", 1)
	sentences := "/v2/Transcripts/" + gt + "/Sentences/Encrypted"
	operators := "/v2/Transcripts/" + gt + "/OperatorResults/Encrypted"

	// The location expires between the API answer and the download.
	s.Fail("/blob/", http.StatusForbidden, "", 1)
	if _, err := c.FetchSentences(ctx, gt, true); err != nil {
		t.Fatal(err)
	}
	if n := s.Hits(sentences); n != 2 || len(*slept) != 0 {
		t.Fatalf("%d location requests (want 2: the first and a fresh one), slept %v", n, *slept)
	}
	s.Fail("/blob/"+clienttest.AccountSID+"/"+gt+"/operator-results/"+sid("LY", 2), http.StatusForbidden, "", 1)
	rs, err := c.FetchOperatorResults(ctx, gt, true)
	if err != nil || len(rs) != 2 || rs[1].OperatorSID != sid("LY", 2) {
		t.Fatalf("operator results after one expired: %v %+v", err, rs)
	}
	if n := s.Hits(operators); n != 2 {
		t.Fatalf("%d location requests, want 2", n)
	}

	// Expired again after re-fetching: given up, without the signature.
	s.Fail("/blob/", http.StatusForbidden, "", 2)
	_, err = c.FetchSentences(ctx, gt, true)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 403 || strings.Contains(err.Error(), "Signature") || strings.Contains(err.Error(), "sig0") {
		t.Fatalf("twice expired: %v", err)
	}
	if n := s.Hits(sentences); n != 4 {
		t.Fatalf("%d location requests after two 403s, want 4 (one re-fetch only)", n)
	}
}

func TestKeyChosenByFingerprint(t *testing.T) {
	k := testKeys(t)
	for _, matdesc := range []bool{true, false} {
		s := fixture(t, 1, func(_ int, tr *clienttest.Transcript) {
			tr.Key = &k[2].PublicKey
			tr.NoMatDesc = !matdesc
		})
		kr := ring(t, k[0], k[1], k[2])
		c, _ := newClient(t, s, kr, nil)
		d, err := c.FetchSentences(context.Background(), sid("GT", 1), true)
		if err != nil || d.Fingerprint != seal.Fingerprint(&k[2].PublicKey) {
			t.Fatalf("matdesc %v: %v %+v", matdesc, err, d)
		}
		// With x-amz-matdesc the key it names is the only one tried; without,
		// each key in turn (the third opens it).
		want := int64(3)
		if matdesc {
			want = 1
		}
		if n := kr.attempts.Load(); n != want {
			t.Fatalf("matdesc %v: %d keys tried, want %d", matdesc, n, want)
		}
	}
}

func TestWrongKey(t *testing.T) {
	k := testKeys(t)
	s := fixture(t, 1, nil) // sealed for k[0]
	c, _ := newClient(t, s, ring(t, k[1], k[2]), nil)
	_, err := c.FetchSentences(context.Background(), sid("GT", 1), true)
	if !errors.Is(err, seal.ErrIncorrectIdentity) {
		t.Fatalf("wrong keys: %v", err)
	}
	for _, want := range []string{seal.Fingerprint(&k[0].PublicKey), seal.Fingerprint(&k[1].PublicKey), seal.Fingerprint(&k[2].PublicKey), sid("CR", 1)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := NewKeyring().Open([]byte("x"), seal.Envelope{}); !errors.Is(err, seal.ErrIncorrectIdentity) {
		t.Fatalf("empty keyring: %v", err)
	}
}

func TestTamperedArtifact(t *testing.T) {
	k := testKeys(t)
	r, _ := seal.NewRSARecipient(&k[0].PublicKey)
	body, env, err := seal.Seal(r, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	body[0] ^= 1
	_, err = ring(t, k[1], k[0]).Open(body, env)
	if !errors.Is(err, seal.ErrAuthentication) || errors.Is(err, seal.ErrIncorrectIdentity) {
		t.Fatalf("tampered body: %v", err)
	}
}

func TestArtifactSizeBound(t *testing.T) {
	k := testKeys(t)
	s := fixture(t, 1, nil)
	c, slept := newClient(t, s, ring(t, k[0]), func(o *Options) { o.MaxArtifactSize = 64 })
	_, err := c.FetchSentences(context.Background(), sid("GT", 1), true)
	if !errors.Is(err, ErrTooLarge) || len(*slept) != 0 {
		t.Fatalf("over the bound: %v (slept %v)", err, *slept)
	}
}

// TestSecretsNeverInErrors: a server that echoes the Authorization header and
// the token, links the next page to another host (which must not get the
// credentials), and fails downloads whose URLs carry signatures.
func TestSecretsNeverInErrors(t *testing.T) {
	const token = "SuperSecretAuthToken9f8e7d"
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("credentials sent to another host: %s", r.URL)
	}))
	defer foreign.Close()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/Transcripts" && r.URL.Query().Get("ServiceSid") != "":
			fmt.Fprintf(w, `{"transcripts":[{"sid":"GT00000000000000000000000000000001"}],"meta":{"next_page_url":%q}}`, foreign.URL+"/v2/Transcripts?Page=1")
		case strings.HasSuffix(r.URL.Path, "/Sentences/Encrypted"):
			fmt.Fprintf(w, `{"location":%q}`, srv.URL+"/blob/x?X-Amz-Signature=SIGSECRET&X-Amz-Credential=AKIA")
		case strings.HasSuffix(r.URL.Path, "/OperatorResults/Encrypted"):
			fmt.Fprintf(w, `{"locations":[%q]}`, "http://127.0.0.1:1/blob/y?X-Amz-Signature=SIGSECRET")
		case strings.HasPrefix(r.URL.Path, "/blob/"):
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"code": 20003, "message": "bad credentials " + r.Header.Get("Authorization") + " token " + token})
		}
	}))
	defer srv.Close()
	k := testKeys(t)
	c, err := New(Options{BaseURL: srv.URL, AccountSID: "AC1", AuthToken: token, Keys: ring(t, k[0]), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(context.Context, time.Duration) error { return nil }
	ctx := context.Background()
	var errs []error
	_, err = c.Transcript(ctx, sid("GT", 1))
	errs = append(errs, err)
	for _, err := range c.Transcripts(ctx, ListOptions{ServiceSID: sid("GA", 1)}) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	_, err = c.FetchSentences(ctx, sid("GT", 1), true)
	errs = append(errs, err)
	_, err = c.FetchOperatorResults(ctx, sid("GT", 1), true)
	errs = append(errs, err)
	basic := "QUMxOl" // base64 of "AC1:" begins the Authorization header's credentials
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d did not fail", i)
		}
		for _, secret := range []string{token, basic, "SIGSECRET", "AKIA"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %d reveals %q: %v", i, secret, err)
			}
		}
	}
	if len(errs) != 4 {
		t.Fatalf("errors %v", errs)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "5": 5 * time.Second, "-1": 0, "junk": 0, "100000": MaxRetryDelay,
		now.Add(20 * time.Second).Format(http.TimeFormat): 20 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", in, got, want)
		}
	}
}

func TestParseLocation(t *testing.T) {
	gt, ly := sid("GT", 1), sid("LY", 2)
	cases := map[string]Location{
		"http://localhost:8080/blob/AC1/" + gt + "/sentences/redacted?Expires=1&Signature=x":                    {TranscriptSID: gt, Kind: KindSentences, Redacted: true},
		"https://s3.example.com/bucket/AC1/" + gt + "/operator-results/" + ly + "/unredacted?X-Amz-Signature=y": {TranscriptSID: gt, Kind: KindOperatorResult, OperatorSID: ly},
	}
	for in, want := range cases {
		if got, ok := ParseLocation(in); !ok || got != want {
			t.Errorf("%s: %+v %v", in, got, ok)
		}
	}
	for _, in := range []string{"https://x/y", "https://x/" + gt + "/media/redacted", "::"} {
		if _, ok := ParseLocation(in); ok {
			t.Errorf("%s parsed", in)
		}
	}
}

func TestParticipants(t *testing.T) {
	tr := Transcript{Channel: json.RawMessage(`{"media_properties":{},"participants":[` +
		`{"channel_participant":1,"role":"Agent","full_name":"Sam"},{"channel_participant":"2","role":"Customer"},` +
		`{"channel_participant":"x","role":"Bad"},"junk",{"role":"NoChannel"}]}`)}
	got := tr.Participants()
	want := []Participant{{ChannelParticipant: 1, Role: "Agent", FullName: "Sam"}, {ChannelParticipant: 2, Role: "Customer"}}
	if !slices.Equal(got, want) {
		t.Fatalf("participants %+v, want %+v", got, want)
	}
	if p := (Transcript{Channel: json.RawMessage(`[1]`)}).Participants(); p != nil {
		t.Fatalf("%+v", p)
	}
}

// TestNextPageOnAnotherHostName: an installation whose public URL names it
// differently (localhost vs 127.0.0.1, or behind a path prefix) still pages.
func TestNextPageOnAnotherHostName(t *testing.T) {
	s := fixture(t, 5, nil)
	for _, base := range []string{s.URL, strings.Replace(s.URL, "127.0.0.1", "localhost", 1)} {
		c, _ := newClient(t, s, nil, func(o *Options) { o.BaseURL = base })
		n := 0
		for _, err := range c.Transcripts(context.Background(), ListOptions{PageSize: 2}) {
			if err != nil {
				t.Fatalf("%s: %v", base, err)
			}
			n++
		}
		if n != 5 {
			t.Fatalf("%s: listed %d of 5", base, n)
		}
	}
	c, _ := newClient(t, s, nil, func(o *Options) { o.BaseURL = "https://api.example.com/convoseal/" })
	for ref, want := range map[string]string{
		"/v2/Transcripts": "https://api.example.com/convoseal/v2/Transcripts",
		"http://internal:8080/convoseal/v2/Transcripts?a=1": "https://api.example.com/convoseal/v2/Transcripts?a=1",
		"http://internal:8080/v2/Transcripts?a=1":           "https://api.example.com/convoseal/v2/Transcripts?a=1",
		"https://api.example.com/convoseal/v2/X?b=2":        "https://api.example.com/convoseal/v2/X?b=2",
	} {
		u, err := c.resolve(ref)
		if err != nil || u.String() != want {
			t.Errorf("resolve(%s) = %v %v, want %s", ref, u, err, want)
		}
	}
}

// TestStaleLocation: a location kept past its expiry (as a program that
// lists first and downloads later would) is replaced by a fresh one.
func TestStaleLocation(t *testing.T) {
	k := testKeys(t)
	s := fixture(t, 1, nil)
	c, _ := newClient(t, s, ring(t, k[0]), nil)
	ctx := context.Background()
	path := "/v2/Transcripts/" + sid("GT", 1) + "/Sentences/Encrypted"
	var l sentencesLocation
	if err := c.getJSON(ctx, path, nil, &l); err != nil {
		t.Fatal(err)
	}
	s.ExpireLocations()
	var he *HTTPError
	if _, err := c.dl.Fetch(ctx, l.Location); !errors.As(err, &he) || he.StatusCode != 403 {
		t.Fatalf("stale location: %v", err)
	}
	locate := func() (string, error) {
		var fresh sentencesLocation
		err := c.getJSON(ctx, path, nil, &fresh)
		return fresh.Location, err
	}
	a, loc, err := c.download(ctx, l.Location, locate)
	if err != nil || loc == l.Location || len(a.Body) == 0 {
		t.Fatalf("download of a stale location: %v (location changed: %v)", err, loc != l.Location)
	}
	if _, err := c.keys.Open(a.Body, a.Envelope); err != nil {
		t.Fatal(err)
	}
}
