package e2e

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestMediaSettingsAndNoRecording: through twilio-go, MediaRedaction without
// AutoRedaction is refused (400); keep_media shows on the Service, the API
// cannot change it (403) and `convoseal services keep-media` can; /Media of
// a transcript without a stored recording (a document, inline or fetched)
// answers media_url null, never the customer's media URL.
func TestMediaSettingsAndNoRecording(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	_, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("media-bad").SetMediaRedaction(true))
	var re *client.TwilioRestError
	if !errors.As(err, &re) || re.Status != 400 || !strings.Contains(re.Message, "AutoRedaction") {
		t.Fatalf("MediaRedaction without AutoRedaction: %v, want 400 naming AutoRedaction", err)
	}
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("media-ok").
		SetAutoRedaction(true).SetMediaRedaction(true))
	if err != nil || !*svc.MediaRedaction {
		t.Fatalf("MediaRedaction with AutoRedaction: %v", err)
	}
	_, err = c.IntelligenceV2.UpdateService(*svc.Sid, (&intelligence.UpdateServiceParams{}).SetAutoRedaction(false))
	if !errors.As(err, &re) || re.Status != 400 {
		t.Fatalf("AutoRedaction=false under MediaRedaction: %v, want 400", err)
	}
	keepMedia := func() any {
		t.Helper()
		code, body := s.Do(t, "GET", "/v2/Services/"+*svc.Sid, nil)
		if code != 200 {
			t.Fatalf("fetch service: %d %v", code, body)
		}
		return body["keep_media"]
	}
	if got := keepMedia(); got != false {
		t.Fatalf("keep_media %v, want false by default", got)
	}
	for _, req := range []struct {
		path string
		form url.Values
	}{
		{"/v2/Services/" + *svc.Sid, url.Values{"KeepMedia": {"true"}}},
		{"/v2/Services", url.Values{"UniqueName": {"media-x"}, "KeepMedia": {"true"}}},
	} {
		if code, body := s.Do(t, "POST", req.path, req.form); code != 403 || !strings.Contains(fmt.Sprint(body["message"]), "keep-media") {
			t.Fatalf("POST %s %v: %d %v, want 403", req.path, req.form, code, body)
		}
	}
	out, err := s.CLI("services", "keep-media", *svc.Sid, "on").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "keep media ON") {
		t.Fatalf("services keep-media on: %v %s", err, out)
	}
	if got := keepMedia(); got != true {
		t.Fatalf("after services keep-media on: keep_media %v", got)
	}

	// Documents: nothing is recorded, so media_url is null, whatever Redacted says.
	doc := map[string]any{"sentences": refundCall}
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).SetChannel(Channel(DataURL(doc))))
	if err != nil {
		t.Fatal(err)
	}
	if done := WaitTranscript(t, c, *tr.Sid, 60*time.Second); *done.Status != "completed" {
		t.Fatalf("transcript %s", *done.Status)
	}
	for _, p := range []*intelligence.FetchMediaParams{nil, (&intelligence.FetchMediaParams{}).SetRedacted(false)} {
		m, err := c.IntelligenceV2.FetchMedia(*tr.Sid, p)
		if err != nil || m.MediaUrl != nil || *m.Sid != *tr.Sid || *m.ServiceSid != *svc.Sid {
			t.Fatalf("FetchMedia of a document transcript: %v %+v, want media_url null", err, m)
		}
	}
	fetched, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).
		SetChannel(Channel("https://media.invalid/call.wav")))
	if err != nil {
		t.Fatal(err)
	}
	code, m := s.Do(t, "GET", "/v2/Transcripts/"+*fetched.Sid+"/Media", nil)
	if v, ok := m["media_url"]; code != 200 || !ok || v != nil {
		t.Fatalf("/Media of a transcript with a media URL: %d %v, want media_url null (not the customer's URL)", code, m)
	}
}
