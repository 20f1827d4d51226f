package e2e

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestDeleteAtCompletion: transcripts deleted while their job runs, at
// delays spread up to its completion, leave no object behind (artifacts,
// redacted variants, data-logging copies) once each deletion and job has
// finished. (The interleaving that orphaned objects before deletions removed
// rows first is too narrow to hit reliably from outside; the pipeline's
// TestDeleteRacingCompletion forces it.)
func TestDeleteAtCompletion(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("deleted-at-completion").SetAutoRedaction(true))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.CLI("services", "data-logging", *svc.Sid, "on").CombinedOutput(); err != nil {
		t.Fatalf("services data-logging: %v %s", err, out)
	}
	doc := DataURL(map[string]any{"sentences": []sentenceIn{{1, 0, 1, "hello there", 0.9, nil}, {2, 1, 2, "general kenobi", 0.9, nil}}})

	// First, how long a transcript takes here, so the deletions land
	// before, around and after its completion.
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).SetChannel(Channel(doc)))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for deadline := start.Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		got, err := c.IntelligenceV2.FetchTranscript(*tr.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if *got.Status == "completed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transcript %s still %s", *tr.Sid, *got.Status)
		}
	}
	took := time.Since(start)

	const rounds = 60
	var sids []string
	for i := range rounds {
		tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).SetChannel(Channel(doc)))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(took * time.Duration(i) / rounds) // 0 to the time to complete
		if err := c.IntelligenceV2.DeleteTranscript(*tr.Sid); err != nil {
			t.Fatalf("round %d: delete: %v", i, err)
		}
		sids = append(sids, *tr.Sid)
	}
	// A job that found its transcript gone removes what it wrote: give the
	// last jobs time to finish.
	var left []string
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		left = left[:0]
		for _, sid := range sids {
			left = append(left, s.BlobsUnder(t, s.AccountSID+"/"+sid+"/")...)
			left = append(left, s.BlobsUnder(t, "datalogging/"+s.AccountSID+"/"+sid+"/")...)
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) != 0 {
		t.Fatalf("objects of deleted transcripts left behind: %q", left)
	}
}

// TestLocationOneSpelling: a download location is honoured only as it was
// issued; spellings that decode to the same signature, key and expiry (the
// unused low bits of the signature's last character, padding,
// percent-encoding, reordered parameters) are refused. Only the embedded
// store's locations are convoseal's own (a cluster's are S3's presigned
// URLs).
func TestLocationOneSpelling(t *testing.T) {
	if e2eBackend() == "cluster" {
		t.Skip("cluster locations are S3 presigned URLs, checked by S3")
	}
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	_, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("spelling").SetEncryptionCredentialSid(cred))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel(DataURL(map[string]any{"sentences": []sentenceIn{{1, 0, 1, "hello", 0.9, nil}}}))))
	if err != nil {
		t.Fatal(err)
	}
	WaitTranscript(t, c, *tr.Sid, 30*time.Second)
	enc, err := c.IntelligenceV2.FetchEncryptedSentences(*tr.Sid, nil)
	if err != nil || enc.Location == nil {
		t.Fatalf("Sentences/Encrypted: %v", err)
	}
	loc := *enc.Location
	Download(t, loc) // the canonical spelling works

	base, query, _ := strings.Cut(loc, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	exp, sig := q.Get("X-Convoseal-Expires"), q.Get("X-Convoseal-Signature")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	lowBit := sig[:len(sig)-1] + string(alphabet[strings.IndexByte(alphabet, sig[len(sig)-1])^1])
	slash := strings.LastIndexByte(base, '/')
	e, g := "X-Convoseal-Expires=", "&X-Convoseal-Signature="
	variants := map[string]string{
		"flipped low bit":          base + "?" + e + exp + g + lowBit,
		"trailing =":               base + "?" + e + exp + g + sig + "=",
		"%2F for / in the key":     base[:slash] + "%2F" + base[slash+1:] + "?" + e + exp + g + sig,
		"percent-encoded sig byte": base + "?" + e + exp + g + fmt.Sprintf("%%%02X", sig[0]) + sig[1:],
		"parameters swapped":       base + "?" + g[1:] + sig + "&" + e + exp,
	}
	for name, v := range variants {
		resp, err := httpClient.Get(v)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("x-amz-meta-x-amz-key") != "" {
			t.Errorf("%s: status %d (%d bytes), want 403", name, resp.StatusCode, len(body))
		}
	}
}
