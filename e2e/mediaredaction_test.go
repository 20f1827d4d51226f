package e2e

import (
	"encoding/base64"
	encbin "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestMediaRedactionSilencesPII: with MediaRedaction (and keep-media on),
// a scripted two-party call leaves a redacted and an original recording.
// On a customer-key Service (the call as a stereo 8 kHz μ-law WAV over HTTP
// and as an MP3 inline) both are downloaded from the /Media location through
// twilio-go and decrypted with the documented script; on a server-key
// Service (μ-law WAV) from /Media's /Media/Content URL with the account's
// credentials. The redacted one is silent (RMS 0) over every word that said
// PII — the words of the unredacted sentences under a placeholder of the
// redacted ones — on that word's channel, while the original has speech
// there, the other channel is untouched, and the rest of the speech is left
// as it was; the script's own times of the PII words (flite's) keep less
// than 5 % of their energy. The recordings go with their transcript.
func TestMediaRedactionSilencesPII(t *testing.T) {
	needASR(t)
	call, err := buildCall(t.TempDir(), mediaPIICall)
	if err != nil {
		t.Fatalf("building the call: %v", err)
	}
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	service := func(name, cred string) string {
		t.Helper()
		p := (&intelligence.CreateServiceParams{}).SetUniqueName(name).SetAutoRedaction(true).SetMediaRedaction(true)
		if cred != "" {
			p.SetEncryptionCredentialSid(cred)
		}
		svc, err := c.IntelligenceV2.CreateService(p)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := s.CLI("services", "keep-media", *svc.Sid, "on").CombinedOutput(); err != nil {
			t.Fatalf("services keep-media on: %v %s", err, out)
		}
		return *svc.Sid
	}
	keyed, serverKey := service("media-redaction", cred), service("media-redaction-server-key", "")
	media := newLCMedia(t, 0)
	for _, sub := range []struct {
		how, svc, url string
		rate          int
	}{
		{"μ-law WAV over HTTP", keyed, media.add("/call.wav", "audio/wav", call.MuLaw), 8000},
		{"MP3 inline", keyed, "data:audio/mpeg;base64," + base64.StdEncoding.EncodeToString(call.MP3), callRate},
		{"server key, μ-law WAV over HTTP", serverKey, media.add("/server/call.wav", "audio/wav", call.MuLaw), 8000},
	} {
		t.Run(sub.how, func(t *testing.T) {
			sid := lcCreate(t, c, sub.svc, sub.url)
			if tr := WaitTranscript(t, c, sid, 4*time.Minute); *tr.Status != "completed" {
				_, raw := s.Do(t, http.MethodGet, "/v2/Transcripts/"+sid, nil)
				t.Fatalf("transcript %s: %v", *tr.Status, raw["failure_reason"])
			}
			src := customerKeyMedia(t, c, kf.Private, sid)
			if sub.svc == serverKey {
				src = serverKeyMedia(t, s, c, sid)
			}
			checkMediaRedaction(t, src, call, sub.rate)
			// Both recordings are stored under the transcript, and go with it.
			prefix := s.AccountSID + "/" + sid + "/media/"
			if got := s.BlobsUnder(t, prefix); !slices.Equal(got, []string{prefix + "redacted", prefix + "unredacted"}) {
				t.Fatalf("stored recordings %v", got)
			}
			if err := c.IntelligenceV2.DeleteTranscript(sid); err != nil {
				t.Fatal(err)
			}
			if got := s.BlobsUnder(t, s.AccountSID+"/"+sid+"/"); len(got) != 0 {
				t.Fatalf("after deleting the transcript: %v", got)
			}
		})
	}
}

// mediaSource reads a transcript's sentences and recordings (16-bit PCM
// WAV) of one redaction variant, as a customer does.
type mediaSource struct {
	sentences func(redacted bool) []callSentence
	recording func(redacted bool) []byte
}

// mediaURL is /Media's media_url (twilio-go), which must be set and not the
// customer's media.
func mediaURL(t *testing.T, c *twilio.RestClient, sid string, redacted bool) string {
	t.Helper()
	m, err := c.IntelligenceV2.FetchMedia(sid, (&intelligence.FetchMediaParams{}).SetRedacted(redacted))
	if err != nil {
		t.Fatalf("FetchMedia(Redacted=%v): %v", redacted, err)
	}
	if m.MediaUrl == nil {
		t.Fatalf("FetchMedia(Redacted=%v): media_url null, want the stored recording's location", redacted)
	}
	if strings.Contains(*m.MediaUrl, "/call.wav") || strings.HasPrefix(*m.MediaUrl, "data:") {
		t.Fatalf("media_url %.80s is the customer's media", *m.MediaUrl)
	}
	return *m.MediaUrl
}

// customerKeyMedia decrypts /Sentences/Encrypted and the /Media location
// with the documented script.
func customerKeyMedia(t *testing.T, c *twilio.RestClient, privateKey, sid string) mediaSource {
	return mediaSource{
		sentences: func(redacted bool) []callSentence {
			t.Helper()
			enc, err := c.IntelligenceV2.FetchEncryptedSentences(sid, (&intelligence.FetchEncryptedSentencesParams{}).SetRedacted(redacted))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Sentences []callSentence `json:"sentences"`
			}
			if err := json.Unmarshal(SeedDecrypt(t, privateKey, *enc.Location), &doc); err != nil {
				t.Fatalf("decrypted sentences: %v", err)
			}
			return doc.Sentences
		},
		recording: func(redacted bool) []byte {
			t.Helper()
			return SeedDecrypt(t, privateKey, mediaURL(t, c, sid, redacted))
		},
	}
}

// serverKeyMedia reads /Sentences with word times and downloads /Media's
// media_url (/Media/Content) with the account's credentials.
func serverKeyMedia(t *testing.T, s *Server, c *twilio.RestClient, sid string) mediaSource {
	return mediaSource{
		sentences: func(redacted bool) []callSentence {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v2/Transcripts/%s/Sentences?Redacted=%v&WordTimestamps=true&PageSize=1000", s.URL, sid, redacted), nil)
			req.SetBasicAuth(s.AccountSID, s.AuthToken)
			var page struct {
				Sentences []callSentence `json:"sentences"`
			}
			if resp, err := httpClient.Do(req); err != nil || resp.StatusCode != 200 {
				t.Fatalf("/Sentences: %v %v", err, resp)
			} else {
				defer resp.Body.Close()
				if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
					t.Fatalf("/Sentences: %v", err)
				}
			}
			return page.Sentences
		},
		recording: func(redacted bool) []byte {
			t.Helper()
			u := mediaURL(t, c, sid, redacted)
			if want := fmt.Sprintf("/v2/Transcripts/%s/Media/Content?Redacted=%v", sid, redacted); !strings.HasSuffix(u, want) {
				t.Fatalf("media_url %s of a server-key transcript, want …%s", u, want)
			}
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if resp, err := httpClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("media_url without credentials: %v %v, want 401", err, resp)
			} else {
				resp.Body.Close()
			}
			req.SetBasicAuth(s.AccountSID, s.AuthToken)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			wav, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" {
				t.Fatalf("GET media_url: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
			}
			return wav
		},
	}
}

// checkMediaRedaction measures a completed transcript's recordings.
func checkMediaRedaction(t *testing.T, src mediaSource, call *testCall, rate int) {
	t.Helper()
	sentences := src.sentences
	recording := func(redacted bool) *pcmRecording {
		t.Helper()
		rec, err := parsePCM16WAV(src.recording(redacted))
		if err != nil {
			t.Fatalf("recording (Redacted=%v): %v", redacted, err)
		}
		return rec
	}
	plain, red := sentences(false), sentences(true)
	if len(plain) != len(red) {
		t.Fatalf("%d unredacted and %d redacted sentences", len(plain), len(red))
	}
	pii, other, spans := piiWords(plain, red)
	if len(pii) == 0 {
		t.Fatalf("no word of the call was redacted (redacted sentences: %+v)", red)
	}
	redRec, orig := recording(true), recording(false)
	for _, r := range []*pcmRecording{redRec, orig} {
		if r.Rate != rate || len(r.Channels) != 2 || math.Abs(r.Seconds()-call.Seconds) > 0.1 {
			t.Fatalf("recording: %d Hz × %d channels, %.2f s; want %d Hz × 2, %.2f s", r.Rate, len(r.Channels), r.Seconds(), rate, call.Seconds)
		}
	}

	// Silent over every PII word, on its channel; the original is not, and
	// the other channel is untouched there.
	var said []string
	for _, w := range pii {
		r, o := redRec.RMS(w.Channel, w.Start, w.End), orig.RMS(w.Channel, w.Start, w.End)
		said = append(said, w.Word)
		if r != 0 {
			t.Errorf("redacted recording over PII word %q (channel %d, %.2f–%.2f s): RMS %.1f, want 0", w.Word, w.Channel, w.Start, w.End, r)
		}
		if o < 300 {
			t.Errorf("original recording over PII word %q (channel %d, %.2f–%.2f s): RMS %.1f, want speech", w.Word, w.Channel, w.Start, w.End, o)
		}
		if oc := 3 - w.Channel; redRec.touched(orig, oc, w.Start, w.End) {
			t.Errorf("channel %d changed while channel %d said PII word %q", oc, w.Channel, w.Word)
		}
	}
	for _, want := range []string{"miller", "seven"} {
		if !containsFold(said, want) {
			t.Errorf("%q (of a name, of a phone number) is not among the silenced PII words %v", want, said)
		}
	}

	// The other speech, away from the silenced spans, is as it was.
	kept, speech := 0, 0.0
	for _, w := range other {
		near := false
		for _, sp := range spans[w.Channel] {
			near = near || (w.Start < sp[1]+0.06 && w.End > sp[0]-0.06)
		}
		if near || w.End-w.Start < 0.15 {
			continue
		}
		if redRec.touched(orig, w.Channel, w.Start, w.End) {
			t.Errorf("word %q (channel %d, %.2f–%.2f s), away from any PII, changed", w.Word, w.Channel, w.Start, w.End)
		}
		kept++
		speech += redRec.RMS(w.Channel, w.Start, w.End)
	}
	if kept < 20 || speech/float64(kept) < 300 {
		t.Fatalf("%d other words checked, mean RMS %.1f: want the call's other speech audible", kept, speech/float64(max(kept, 1)))
	}

	// The script's own times of the PII words (flite's, not the recognizer's).
	var left, before float64
	for _, w := range call.Words {
		if !mediaPIIWord(w) {
			continue
		}
		r, o := redRec.RMS(w.Channel, w.Start, w.End), orig.RMS(w.Channel, w.Start, w.End)
		left += r * r * (w.End - w.Start)
		before += o * o * (w.End - w.Start)
	}
	if before == 0 || left/before > 0.05 {
		t.Errorf("the scripted PII words keep %.1f %% of their energy in the redacted recording; want < 5 %%", 100*left/before)
	}
	t.Logf("%d recognised PII words %v: RMS 0 in the redacted recording (original: speech); %d other words unchanged, mean RMS %.0f; "+
		"scripted PII words keep %.2f %% of their energy", len(pii), said, kept, speech/float64(kept), 100*left/before)
}

// mediaPIIWord reports whether a word of mediaPIICall says PII: the names
// and the phone number's digits.
func mediaPIIWord(w scriptWord) bool {
	switch w.Turn {
	case 0:
		return w.Word == "john"
	case 1:
		return w.Word == "sarah" || w.Word == "miller"
	case 2:
		return slices.Contains([]string{"zero", "one", "two", "three", "five", "six", "seven"}, w.Word)
	}
	return false
}

// mediaPIICall is a call whose customer gives a name and the agent reads a
// phone number back (the customer's voice, kal, is not recognised well
// enough on digits).
var mediaPIICall = []callTurn{
	{1, "thank you for calling customer support my name is john how can i help you"},
	{2, "hello my name is sarah miller and i need to change my phone number"},
	{1, "of course let me read the new number back to you six one seven five five five zero one three two"},
	{2, "yes that is right thank you very much"},
	{1, "you are welcome is there anything else i can help you with today"},
}

// piiWords returns the words of the unredacted sentences that said PII
// (those under a placeholder word of the redacted sentence, or every word of
// a redacted sentence that has a placeholder but no words), the others, and
// the redacted spans by channel.
func piiWords(plain, red []callSentence) (pii, other []heardWord, spansBy map[int][][2]float64) {
	spansBy = map[int][][2]float64{}
	for i, s := range plain {
		var spans [][2]float64
		for _, w := range red[i].Words {
			if strings.HasPrefix(w.Word, "[") && strings.HasSuffix(w.Word, "]") {
				spans = append(spans, [2]float64{w.StartTime, w.EndTime})
			}
		}
		if len(red[i].Words) == 0 && strings.Contains(red[i].Transcript, "[") {
			spans = append(spans, [2]float64{red[i].StartTime, red[i].EndTime})
		}
		spansBy[s.MediaChannel] = append(spansBy[s.MediaChannel], spans...)
		for _, w := range s.Words {
			h := heardWord{s.MediaChannel, w.Word, w.StartTime, w.EndTime}
			in := false
			for _, sp := range spans {
				in = in || (w.StartTime >= sp[0] && w.EndTime <= sp[1])
			}
			if in {
				pii = append(pii, h)
			} else {
				other = append(other, h)
			}
		}
	}
	return pii, other, spansBy
}

func containsFold(words []string, want string) bool {
	for _, w := range words {
		if strings.EqualFold(w, want) {
			return true
		}
	}
	return false
}

// pcmRecording is a decoded 16-bit PCM WAV.
type pcmRecording struct {
	Rate     int
	Channels [][]int16
}

func (r *pcmRecording) Seconds() float64 { return float64(len(r.Channels[0])) / float64(r.Rate) }

// span is the sample range of from–to seconds, clipped.
func (r *pcmRecording) span(from, to float64) (int, int) {
	n := len(r.Channels[0])
	lo := min(n, max(0, int(math.Floor(from*float64(r.Rate)))))
	hi := min(n, max(lo, int(math.Ceil(to*float64(r.Rate)))))
	return lo, hi
}

// RMS is the root mean square of channel (1-based) from–to seconds.
func (r *pcmRecording) RMS(channel int, from, to float64) float64 {
	lo, hi := r.span(from, to)
	if hi == lo {
		return 0
	}
	var sum float64
	for _, s := range r.Channels[channel-1][lo:hi] {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(hi-lo))
}

// touched reports whether any sample of channel from–to differs from orig's
// (the word is next to a silenced span).
func (r *pcmRecording) touched(orig *pcmRecording, channel int, from, to float64) bool {
	lo, hi := r.span(from, to)
	for i := lo; i < hi; i++ {
		if r.Channels[channel-1][i] != orig.Channels[channel-1][i] {
			return true
		}
	}
	return false
}

// parsePCM16WAV reads a RIFF/WAVE file of 16-bit PCM (the test's own reader,
// not the server's decoder).
func parsePCM16WAV(b []byte) (*pcmRecording, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("not a RIFF/WAVE file")
	}
	var rec pcmRecording
	nch := 0
	for pos := 12; pos+8 <= len(b); {
		id, size := string(b[pos:pos+4]), int(encbin.LittleEndian.Uint32(b[pos+4:]))
		body := b[pos+8 : min(len(b), pos+8+size)]
		switch id {
		case "fmt ":
			if len(body) < 16 || encbin.LittleEndian.Uint16(body) != 1 || encbin.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, fmt.Errorf("not 16-bit PCM")
			}
			nch, rec.Rate = int(encbin.LittleEndian.Uint16(body[2:])), int(encbin.LittleEndian.Uint32(body[4:]))
		case "data":
			if nch == 0 {
				return nil, fmt.Errorf("data before fmt")
			}
			frames := len(body) / (2 * nch)
			rec.Channels = make([][]int16, nch)
			for c := range rec.Channels {
				rec.Channels[c] = make([]int16, frames)
			}
			for i := range frames {
				for c := range nch {
					rec.Channels[c][i] = int16(encbin.LittleEndian.Uint16(body[2*(i*nch+c):]))
				}
			}
			return &rec, nil
		}
		pos += 8 + size + size&1
	}
	return nil, fmt.Errorf("no data chunk")
}
