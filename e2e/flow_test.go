package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

type sentenceIn struct {
	MediaChannel int     `json:"media_channel"`
	StartTime    float64 `json:"start_time"`
	EndTime      float64 `json:"end_time"`
	Transcript   string  `json:"transcript"`
	Confidence   float64 `json:"confidence,omitempty"`
	Words        []any   `json:"words,omitempty"`
}

var conversation = []sentenceIn{
	{1, 0.0, 2.1, "Thank you for calling Acme, this is Dana speaking.", 0.94, []any{map[string]any{"word": "Thank", "start_time": 0.0, "end_time": 0.3}}},
	{2, 2.4, 5.0, "Hi, I was charged twice for my order and I would like a refund.", 0.91, nil},
	{1, 5.2, 7.9, "I'm sorry about that, let me look into it right away.", 0.97, nil},
	{2, 8.0, 9.5, "Thanks, ünïcödé names work too: José Ñúñez.", 0.88, nil},
}

// sealedSentences is the plaintext of a sentences artifact.
type sealedSentences struct {
	TranscriptSID string `json:"transcript_sid"`
	Sentences     []struct {
		SID           string `json:"sid"`
		SentenceIndex int    `json:"sentence_index"`
		MediaChannel  int    `json:"media_channel"`
		StartTime     string `json:"start_time"`
		EndTime       string `json:"end_time"`
		Transcript    string `json:"transcript"`
		Confidence    string `json:"confidence"`
	} `json:"sentences"`
}

func assertSentences(t *testing.T, plain []byte, transcriptSID string, want []sentenceIn) {
	t.Helper()
	var got sealedSentences
	if err := json.Unmarshal(plain, &got); err != nil {
		t.Fatalf("decrypted sentences are not JSON: %v", err)
	}
	if got.TranscriptSID != transcriptSID || len(got.Sentences) != len(want) {
		t.Fatalf("decrypted %s with %d sentences, want %s with %d", got.TranscriptSID, len(got.Sentences), transcriptSID, len(want))
	}
	for i, s := range got.Sentences {
		w := want[i]
		if s.Transcript != w.Transcript || s.MediaChannel != w.MediaChannel || s.SentenceIndex != i ||
			s.StartTime != fmt.Sprint(w.StartTime) || s.EndTime != fmt.Sprint(w.EndTime) || !strings.HasPrefix(s.SID, "GX") {
			t.Fatalf("sentence %d = %+v, want %+v", i, s, w)
		}
	}
}

// TestEncryptedTranscriptEndToEnd is the customer's whole journey through the
// official SDK: register a key, switch encryption on, submit a conversation,
// fetch the encrypted sentences and decrypt them with the documented script.
func TestEncryptedTranscriptEndToEnd(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	kf, credSID := RegisterKey(t, c)

	svcParams := &intelligence.CreateServiceParams{}
	svcParams.SetUniqueName("encrypted-calls").SetFriendlyName("Encrypted calls").SetEncryptionCredentialSid(credSID)
	svc, err := c.IntelligenceV2.CreateService(svcParams)
	if err != nil {
		t.Fatal(err)
	}
	if svc.EncryptionCredentialSid == nil || *svc.EncryptionCredentialSid != credSID {
		t.Fatalf("service encryption_credential_sid = %v", svc.EncryptionCredentialSid)
	}

	trParams := &intelligence.CreateTranscriptParams{}
	trParams.SetServiceSid(*svc.Sid).SetChannel(Channel(DataURL(map[string]any{"sentences": conversation}))).SetCustomerKey("order-1234")
	tr, err := c.IntelligenceV2.CreateTranscript(trParams)
	if err != nil {
		t.Fatal(err)
	}
	if *tr.Status != "queued" || *tr.EncryptionCredentialSid != credSID {
		t.Fatalf("new transcript: status %s, key %v", *tr.Status, tr.EncryptionCredentialSid)
	}
	done := WaitTranscript(t, c, *tr.Sid, 2*time.Minute)
	if *done.Status != "completed" {
		t.Fatalf("transcript %s", *done.Status)
	}
	if done.Duration != 10 {
		t.Fatalf("duration %d, want 10 (the last sentence ends at 9.5 s)", done.Duration)
	}

	enc, err := c.IntelligenceV2.FetchEncryptedSentences(*tr.Sid, &intelligence.FetchEncryptedSentencesParams{})
	if err != nil {
		t.Fatal(err)
	}
	if enc.Location == nil || !strings.HasPrefix(*enc.Location, s.LocationBase()) || *enc.TranscriptSid != *tr.Sid {
		t.Fatalf("encrypted sentences resource: %+v", enc)
	}
	// The documented Python script decrypts it with the PKCS#1 and the PKCS#8 key.
	assertSentences(t, SeedDecrypt(t, kf.Private, *enc.Location), *tr.Sid, conversation)
	assertSentences(t, SeedDecrypt(t, kf.PrivatePKCS8, *enc.Location), *tr.Sid, conversation)

	// And so does the convoseal CLI, straight from the URL.
	out, err := exec.Command(binary, "decrypt", "--raw", "--private-key", kf.Private, *enc.Location).Output()
	if err != nil {
		t.Fatalf("convoseal decrypt: %v", err)
	}
	assertSentences(t, out, *tr.Sid, conversation)

	// The plain endpoint refuses and points at the encrypted one.
	_, err = c.IntelligenceV2.ListSentence(*tr.Sid, &intelligence.ListSentenceParams{})
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Status != 400 || !strings.Contains(te.Message, "/Sentences/Encrypted") {
		t.Fatalf("plain sentences of an encrypted transcript: %v", err)
	}

	// Operator results: none attached yet, so no locations.
	opEnc, err := c.IntelligenceV2.FetchEncryptedOperatorResults(*tr.Sid, &intelligence.FetchEncryptedOperatorResultsParams{})
	if err != nil {
		t.Fatal(err)
	}
	if opEnc.Locations == nil || len(*opEnc.Locations) != 0 {
		t.Fatalf("operator result locations: %v", opEnc.Locations)
	}
}

// TestServerKeyTranscript: without a customer key, artifacts are sealed with
// the server's key and the plain endpoints serve them, paged through the SDK.
func TestServerKeyTranscript(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("plain"))
	if err != nil {
		t.Fatal(err)
	}
	var long []sentenceIn
	for i := range 23 {
		long = append(long, sentenceIn{MediaChannel: 1 + i%2, StartTime: float64(i), EndTime: float64(i) + 0.5, Transcript: fmt.Sprintf("sentence number %d", i)})
	}
	long[0].Words = []any{map[string]any{"word": "sentence", "start_time": 0.0, "end_time": 0.2}}
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": long}))))
	if err != nil {
		t.Fatal(err)
	}
	if tr.EncryptionCredentialSid != nil {
		t.Fatalf("transcript without customer key has encryption_credential_sid %v", *tr.EncryptionCredentialSid)
	}
	WaitTranscript(t, c, *tr.Sid, 2*time.Minute)

	// PageSize 5 makes the SDK follow next_page_url four times.
	got, err := c.IntelligenceV2.ListSentence(*tr.Sid, (&intelligence.ListSentenceParams{}).SetPageSize(5).SetWordTimestamps(true))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(long) {
		t.Fatalf("listed %d sentences, want %d", len(got), len(long))
	}
	for i, sn := range got {
		if *sn.Transcript != long[i].Transcript || sn.SentenceIndex != i || *sn.StartTime != fmt.Sprint(long[i].StartTime) {
			t.Fatalf("sentence %d: %q index %d start %s", i, *sn.Transcript, sn.SentenceIndex, *sn.StartTime)
		}
	}
	if got[0].Words == nil || len(*got[0].Words) != 1 {
		t.Fatalf("WordTimestamps=true lost the words: %v", got[0].Words)
	}
	noWords, err := c.IntelligenceV2.ListSentence(*tr.Sid, (&intelligence.ListSentenceParams{}).SetLimit(1))
	if err != nil || noWords[0].Words != nil {
		t.Fatalf("WordTimestamps defaults to false: %v %v", err, noWords[0].Words)
	}

	// The encrypted endpoint explains that this transcript has no customer key.
	_, err = c.IntelligenceV2.FetchEncryptedSentences(*tr.Sid, nil)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Status != 400 || !strings.Contains(te.Message, "not encrypted with a customer public key") {
		t.Fatalf("encrypted sentences without a customer key: %v", err)
	}

	// Delete removes the transcript and its artifacts from the blob store.
	prefix := s.AccountSID + "/" + *tr.Sid + "/"
	if got := s.BlobsUnder(t, prefix); len(got) == 0 {
		t.Fatalf("no artifacts under %s among %v", prefix, s.Blobs(t))
	}
	if err := c.IntelligenceV2.DeleteTranscript(*tr.Sid); err != nil {
		t.Fatal(err)
	}
	if got := s.BlobsUnder(t, prefix); len(got) != 0 {
		t.Fatalf("artifacts remain after delete: %v", got)
	}
	if _, err := c.IntelligenceV2.FetchTranscript(*tr.Sid); !errors.As(err, &te) || te.Status != 404 {
		t.Fatalf("deleted transcript: %v", err)
	}
}

// TestKeyRotation: switching a Service to a new key affects new transcripts
// only; old ones stay readable with the old key, and the key a Service uses
// cannot be deleted.
func TestKeyRotation(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	oldKey, oldSID := RegisterKey(t, c)
	newKey, newSID := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("rotating").SetEncryptionCredentialSid(oldSID))
	if err != nil {
		t.Fatal(err)
	}
	submit := func() string {
		tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
			SetChannel(Channel(DataURL(map[string]any{"sentences": conversation[:2]}))))
		if err != nil {
			t.Fatal(err)
		}
		WaitTranscript(t, c, *tr.Sid, 2*time.Minute)
		return *tr.Sid
	}
	before := submit()
	if _, err := c.IntelligenceV2.UpdateService(*svc.Sid, (&intelligence.UpdateServiceParams{}).SetEncryptionCredentialSid(newSID)); err != nil {
		t.Fatal(err)
	}
	after := submit()

	var te *client.TwilioRestError
	if err := c.AccountsV1.DeleteCredentialPublicKey(newSID); !errors.As(err, &te) || te.Status != 409 || !strings.Contains(te.Message, *svc.Sid) {
		t.Fatalf("deleting the key in use: %v", err)
	}
	// The old key is no longer in use and may go; its transcript stays readable.
	if err := c.AccountsV1.DeleteCredentialPublicKey(oldSID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sid, cred string
		key       string
	}{{before, oldSID, oldKey.Private}, {after, newSID, newKey.Private}} {
		tr, err := c.IntelligenceV2.FetchTranscript(tc.sid)
		if err != nil {
			t.Fatal(err)
		}
		if *tr.EncryptionCredentialSid != tc.cred {
			t.Fatalf("%s recorded key %s, want %s", tc.sid, *tr.EncryptionCredentialSid, tc.cred)
		}
		enc, err := c.IntelligenceV2.FetchEncryptedSentences(tc.sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertSentences(t, SeedDecrypt(t, tc.key, *enc.Location), tc.sid, conversation[:2])
	}
	// Switching encryption off applies to new transcripts.
	if _, err := c.IntelligenceV2.UpdateService(*svc.Sid, (&intelligence.UpdateServiceParams{}).SetEncryptionCredentialSid("")); err != nil {
		t.Fatal(err)
	}
	off := submit()
	if got, err := c.IntelligenceV2.ListSentence(off, nil); err != nil || len(got) != 2 {
		t.Fatalf("after switching encryption off: %v, %d sentences", err, len(got))
	}
}
