package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/seal"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestServerSealedBoundToPlace: someone who can write to the blob store
// copies account A's server-sealed sentences and operator result over
// account B's. B's reads fail cleanly (a Twilio JSON error, 500 or 404)
// and never return A's text. An object in the previous, unbound format is
// still served in its own place, but not one of another transcript.
func TestServerSealedBoundToPlace(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	cA := s.Twilio()
	sidB, tokB := s.NewAccount(t)
	cB := s.Twilio(sidB, tokB)
	credsB := []string{sidB, tokB}
	piiOp := prebuilt(t, s, "PII Extraction")
	markerA, markerB := canaryMarker(t), canaryMarker(t)

	doc := func(marker string) string {
		return DataURL(map[string]any{"sentences": []sentenceIn{{1, 0, 2, "My name is Anna Smith, reference " + marker, 0.9, nil}}})
	}
	svcA, svcB := lcService(t, cA, "bound-a", ""), lcService(t, cB, "bound-b", "")
	if _, err := cA.IntelligenceV2.CreateOperatorAttachment(svcA, piiOp); err != nil {
		t.Fatal(err)
	}
	if _, err := cB.IntelligenceV2.CreateOperatorAttachment(svcB, piiOp); err != nil {
		t.Fatal(err)
	}
	if out, err := s.CLI("services", "data-logging", svcA, "on").CombinedOutput(); err != nil {
		t.Fatalf("data-logging on: %v %s", err, out)
	}
	trA := lcCreate(t, cA, svcA, doc(markerA))
	trB := lcCreate(t, cB, svcB, doc(markerB))
	trB2 := lcCreate(t, cB, svcB, doc(markerB))
	WaitTranscript(t, cA, trA, 30*time.Second)
	for _, sid := range []string{trB, trB2} {
		if tr := WaitTranscript(t, cB, sid, 30*time.Second); *tr.Status != "completed" {
			t.Fatalf("%s is %s", sid, *tr.Status)
		}
	}
	sentences := func(sid string) string { return "/v2/Transcripts/" + sid + "/Sentences" }
	if code, body := s.Do(t, http.MethodGet, sentences(trB), nil, credsB...); code != 200 || !strings.Contains(fmt.Sprint(body), markerB) {
		t.Fatalf("B's sentences before the copy: %d %v", code, body)
	}

	// The data-logging copy is bound too (the pipeline's unit tests open it).
	if b, ok := s.ReadBlob(t, "datalogging/"+s.AccountSID+"/"+trA+"/sentences/unredacted"); !ok || !strings.Contains(string(b), seal.AADBound) {
		t.Errorf("data-logging copy missing or not bound to its place")
	}

	// refused checks that a read of B's failed cleanly without A's content.
	refused := func(what string, code int, body map[string]any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		if code != http.StatusInternalServerError && code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 500 or 404: %s", what, code, raw)
		}
		if _, ok := body["code"]; !ok || body["message"] == nil {
			t.Errorf("%s: not a Twilio JSON error: %s", what, raw)
		}
		for _, leak := range []string{markerA, trA, "Anna"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("%s: the answer contains %q: %s", what, leak, raw)
			}
		}
		if body["sentences"] != nil || body["operator_results"] != nil {
			t.Errorf("%s: the answer has content: %s", what, raw)
		}
	}

	s.CopyBlob(t, s.AccountSID+"/"+trA+"/sentences/unredacted", sidB+"/"+trB+"/sentences/unredacted")
	code, body := s.Do(t, http.MethodGet, sentences(trB), nil, credsB...)
	refused("B's Sentences after A's were copied over them", code, body)

	opKey := func(acct, tr string) string { return acct + "/" + tr + "/operator-results/" + piiOp + "/unredacted" }
	s.CopyBlob(t, opKey(s.AccountSID, trA), opKey(sidB, trB))
	code, body = s.Do(t, http.MethodGet, "/v2/Transcripts/"+trB+"/OperatorResults/"+piiOp, nil, credsB...)
	refused("B's operator result after A's was copied over it", code, body)
	code, body = s.Do(t, http.MethodGet, "/v2/Transcripts/"+trB+"/OperatorResults", nil, credsB...)
	refused("B's operator results after A's was copied over one", code, body)

	// The previous format (sealed with the server key, no additional data),
	// written as an earlier version did: opens in its own place, and its
	// transcript_sid stops it anywhere else.
	kek, err := keyring.LoadKEK(s.KEKFile())
	if err != nil {
		t.Fatal(err)
	}
	legacy := func(key, transcriptSID, text string) {
		t.Helper()
		plain, _ := json.Marshal(convoseal.SentencesDocument{TranscriptSID: transcriptSID,
			Sentences: []convoseal.Sentence{{SID: "GX" + strings.Repeat("0", 32), MediaChannel: 1, EndTime: 1, Transcript: text, Confidence: new(1.0)}}})
		body, env, err := seal.Seal(kek, plain)
		if err != nil {
			t.Fatal(err)
		}
		s.WriteBlob(t, key, body, env.Metadata())
	}
	keyB2 := sidB + "/" + trB2 + "/sentences/unredacted"
	legacy(keyB2, trB2, "old format "+markerB)
	if code, body := s.Do(t, http.MethodGet, sentences(trB2), nil, credsB...); code != 200 || !strings.Contains(fmt.Sprint(body), "old format "+markerB) {
		t.Fatalf("an object in the previous format, in its place: %d %v", code, body)
	}
	legacy(keyB2, trA, "old format "+markerA)
	code, body = s.Do(t, http.MethodGet, sentences(trB2), nil, credsB...)
	refused("B's Sentences replaced by another transcript's in the previous format", code, body)

	// A still reads its own.
	if got, err := cA.IntelligenceV2.ListSentence(trA, &intelligence.ListSentenceParams{}); err != nil || len(got) != 1 || !strings.Contains(*got[0].Transcript, markerA) {
		t.Fatalf("A's sentences: %v", err)
	}
}

// TestMediaURLSecretsNotStored: a media URL's password and query token are
// kept only sealed: the API echoes the URL with userinfo removed and query
// values masked, nothing in the database, blobs or logs holds them, and the
// pipeline still fetches with them.
func TestMediaURLSecretsNotStored(t *testing.T) {
	pw, token := canaryMarker(t), canaryMarker(t)
	var patterns []canaryPattern
	for _, m := range [][2]string{{"password", pw}, {"token", token}} {
		patterns = append(patterns, canaryPatterns(m[0], m[1])...)
	}
	said := canaryMarker(t)
	var authorized, refused atomic.Int32
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != pw || r.URL.Query().Get("token") != token {
			refused.Add(1)
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"sentences": []sentenceIn{{1, 0, 1, "fetched " + said, 0.9, nil}}})
	}))
	defer media.Close()
	host := strings.TrimPrefix(media.URL, "http://")

	base := t.TempDir()
	s := StartServer(t, ServerOptions{Data: filepath.Join(base, "data")})
	c := s.Twilio()
	svc := lcService(t, c, "media-secrets", "")
	unreachable := "https://user:" + pw + "@host.invalid/x?token=" + token + "&a=b"
	reachable := "http://user:" + url.PathEscape(pw) + "@" + host + "/doc.json?token=" + token + "&a=b"
	wants := map[string]string{
		lcCreate(t, c, svc, unreachable): "https://host.invalid/x?token=***&a=***",
		lcCreate(t, c, svc, reachable):   "http://" + host + "/doc.json?token=***&a=***",
	}
	var fetched string
	for sid, want := range wants {
		code, tr := s.Do(t, http.MethodGet, "/v2/Transcripts/"+sid, nil)
		canaryNoMarker(t, "transcript "+sid, tr, patterns)
		ch, _ := tr["channel"].(map[string]any)
		mp, _ := ch["media_properties"].(map[string]any)
		if code != 200 || mp["media_url"] != want {
			t.Errorf("transcript %s: %d, channel media_url %v, want %s", sid, code, mp["media_url"], want)
		}
		code, m := s.Do(t, http.MethodGet, "/v2/Transcripts/"+sid+"/Media", nil)
		canaryNoMarker(t, "media of "+sid, m, patterns)
		if v, ok := m["media_url"]; code != 200 || !ok || v != nil {
			t.Errorf("media of %s: %d %v, want media_url null (no recording stored; never the customer's URL)", sid, code, m)
		}
		if strings.HasPrefix(want, "http://") {
			fetched = sid
		}
	}
	_, list := s.Do(t, http.MethodGet, "/v2/Transcripts", nil)
	canaryNoMarker(t, "the transcript list", list, patterns)

	// Fetched with the credentials.
	if tr := WaitTranscript(t, c, fetched, 30*time.Second); *tr.Status != "completed" {
		_, raw := s.Do(t, http.MethodGet, "/v2/Transcripts/"+fetched, nil)
		t.Fatalf("the URL with credentials was not fetched: %v (%d refused)", raw["failure_reason"], refused.Load())
	}
	got, err := c.IntelligenceV2.ListSentence(fetched, &intelligence.ListSentenceParams{})
	if err != nil || len(got) != 1 || !strings.Contains(*got[0].Transcript, said) {
		t.Fatalf("sentences of the fetched transcript: %v", err)
	}
	if authorized.Load() < 1 || refused.Load() != 0 {
		t.Errorf("media server: %d authorized, %d refused requests", authorized.Load(), refused.Load())
	}

	// Nothing stored holds the secrets: database, blobs, logs (and, on a
	// cluster, PostgreSQL's files and the bucket).
	s.Stop()
	files := canaryScan(t, base, patterns)
	for _, r := range s.StorageRoots(t, true) {
		files = append(files, canaryScan(t, r.Dir, patterns)...)
	}
	if len(files) == 0 {
		t.Fatal("no files scanned")
	}
}
