package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// callKeywords must be heard on their channel.
var callKeywords = map[int][]string{1: {"support", "phone", "number", "account", "transfer", "supervisor"}, 2: {"miller", "order", "problem", "speak", "supervisor"}}

// maxWordSkew is how far a recognised word's start and end may be from the
// script's.
const maxWordSkew = 0.3

// TestAudioCallTranscribed: the scripted two-party call as a stereo 8 kHz
// μ-law WAV and as an MP3, each over HTTP and inline, becomes a completed
// transcript on a customer-key Service with AutoRedaction and the
// Escalation Request operator: the sentences, decrypted with the documented
// script, have the right channels, the scripted keywords and word times
// within 0.3 s of the script's; the operator fires; the duration is the
// recording's. A language the recognizer lacks fails clearly.
func TestAudioCallTranscribed(t *testing.T) {
	call := scriptedCallAudio(t)
	s := StartServer(t, ServerOptions{})
	runCall(t, s, call, true)
}

// TestAudioThroughASRServe: the same call through `convoseal asr-serve` run
// as its own process, the service using it with --asr http.
func TestAudioThroughASRServe(t *testing.T) {
	call := scriptedCallAudio(t)
	asrURL := startASRServe(t, "k-e2e-asr")
	s := StartServer(t, ServerOptions{Extra: []string{"--asr", "http", "--asr-url", asrURL}, Env: []string{"CONVOSEAL_ASR_API_KEY=k-e2e-asr"}})
	runCall(t, s, call, false)
}

// startASRServe runs `convoseal asr-serve` and returns its /v1 URL.
func startASRServe(t *testing.T, apiKey string) string {
	t.Helper()
	port := freePort(t)
	logf, err := os.Create(filepath.Join(t.TempDir(), "asr-serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "asr-serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--workers", "2")
	cmd.Env = append(os.Environ(), "CONVOSEAL_ASR_API_KEY="+apiKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-done:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("asr-serve exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("asr-serve did not become healthy in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/v1", port)
}

// runCall submits the call in both formats, over HTTP and inline (all four
// when all is set, else the μ-law WAV over HTTP and the MP3 inline), and
// checks each transcript.
func runCall(t *testing.T, s *Server, call *testCall, all bool) {
	t.Helper()
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("calls").
		SetEncryptionCredentialSid(cred).SetAutoRedaction(true))
	if err != nil {
		t.Fatal(err)
	}
	escalation := prebuilt(t, s, "Escalation Request")
	attach(t, s, *svc.Sid, escalation)
	media := newLCMedia(t, 0)
	type sub struct{ how, url string }
	subs := []sub{
		{"μ-law WAV over HTTP", media.add("/call.wav", "audio/wav", call.MuLaw)},
		{"MP3 inline", "data:audio/mpeg;base64," + base64.StdEncoding.EncodeToString(call.MP3)},
	}
	if all {
		subs = append(subs,
			sub{"MP3 over HTTP", media.add("/call.mp3", "audio/mpeg", call.MP3)},
			sub{"μ-law WAV inline", "data:audio/wav;base64," + base64.StdEncoding.EncodeToString(call.MuLaw)})
	}
	sids := make([]string, len(subs))
	for i, sb := range subs {
		sids[i] = lcCreate(t, c, *svc.Sid, sb.url)
	}
	began := time.Now()
	for i, sid := range sids {
		tr := WaitTranscript(t, c, sid, 4*time.Minute)
		if *tr.Status != "completed" {
			_, raw := s.Do(t, http.MethodGet, "/v2/Transcripts/"+sid, nil)
			t.Fatalf("%s (%s) is %s: %v", sid, subs[i].how, *tr.Status, raw["failure_reason"])
		}
		if math.Abs(float64(tr.Duration)-call.Seconds) > 0.5 {
			t.Errorf("%s: duration %v, want the recording's %.2f s", subs[i].how, tr.Duration, call.Seconds)
		}
	}
	t.Logf("%d transcripts of a %.1f s call completed in %v", len(sids), call.Seconds, time.Since(began).Round(time.Millisecond))
	for i, sid := range sids {
		enc, err := c.IntelligenceV2.FetchEncryptedSentences(sid, (&intelligence.FetchEncryptedSentencesParams{}).SetRedacted(false))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			TranscriptSID string         `json:"transcript_sid"`
			Sentences     []callSentence `json:"sentences"`
		}
		if err := json.Unmarshal(SeedDecrypt(t, kf.Private, *enc.Location), &doc); err != nil {
			t.Fatalf("%s: decrypted sentences are not JSON: %v", subs[i].how, err)
		}
		checkCallSentences(t, subs[i].how, call, doc.Sentences)
		res := decryptResults(t, s, kf.Private, sid, false)[escalation]
		if res.PredictedLabel == nil || *res.PredictedLabel != "yes" {
			t.Errorf("%s: Escalation Request = %+v, want yes", subs[i].how, res)
		}
	}
}

// checkCallSentences checks decrypted sentences against the script.
func checkCallSentences(t *testing.T, how string, call *testCall, sentences []callSentence) {
	t.Helper()
	var heard []heardWord
	last := -1.0
	for i, s := range sentences {
		if s.MediaChannel != 1 && s.MediaChannel != 2 {
			t.Fatalf("%s: sentence %d on media_channel %d", how, i, s.MediaChannel)
		}
		if s.StartTime < last {
			t.Errorf("%s: sentence %d starts at %.2f, before the previous one (%.2f): not interleaved by time", how, i, s.StartTime, last)
		}
		last = s.StartTime
		if !(s.Confidence > 0 && s.Confidence <= 1) {
			t.Errorf("%s: sentence %d confidence %v", how, i, s.Confidence)
		}
		// A sentence lies within a turn of its own channel.
		inTurn := false
		for k, turn := range call.Turns {
			if scriptedCall[k].Channel == s.MediaChannel && s.StartTime >= turn[0]-maxWordSkew && s.EndTime <= turn[1]+maxWordSkew {
				inTurn = true
			}
		}
		if !inTurn {
			t.Errorf("%s: sentence %d (channel %d, %.2f–%.2f s) is not within a turn of its channel", how, i, s.MediaChannel, s.StartTime, s.EndTime)
		}
		for _, w := range s.Words {
			heard = append(heard, heardWord{s.MediaChannel, w.Word, w.StartTime, w.EndTime})
		}
	}
	for ch, kws := range callKeywords {
		for _, kw := range kws {
			found := false
			for _, h := range heard {
				found = found || (h.Channel == ch && strings.EqualFold(h.Word, kw))
			}
			if !found {
				t.Errorf("%s: keyword %q not heard on channel %d", how, kw, ch)
			}
		}
	}
	a := align(heard, call.Words, call.Turns)
	var worst float64
	late := 0
	anchored := 0
	for k, p := range a.pairs {
		// Only words aligned with a neighbour too: a lone match in a
		// misrecognised stretch ("the" for "thank") may pair the wrong words.
		if !(k > 0 && a.pairs[k-1] == [2]int{p[0] - 1, p[1] - 1}) && !(k+1 < len(a.pairs) && a.pairs[k+1] == [2]int{p[0] + 1, p[1] + 1}) {
			continue
		}
		anchored++
		// Against the nearest saying of the word in the turn: repeated
		// words ("five five five") align ambiguously.
		h, w := a.heard[p[0]], a.script[p[1]]
		skew := math.Inf(1)
		for _, o := range a.script {
			if o.Turn == w.Turn && strings.EqualFold(o.Word, w.Word) {
				if d := math.Max(math.Abs(h.Start-o.Start), math.Abs(h.End-o.End)); d < skew {
					skew, w = d, o
				}
			}
		}
		worst = math.Max(worst, skew)
		if skew > 0.2 {
			t.Logf("%s: %q skew %.3f: heard %.2f–%.2f, script %.2f–%.2f", how, w.Word, skew, h.Start, h.End, w.Start, w.End)
		}
		if skew > maxWordSkew {
			late++
			t.Errorf("%s: %q on channel %d at %.2f–%.2f s, the script says %.2f–%.2f s", how, w.Word, w.Channel, h.Start, h.End, w.Start, w.End)
		}
	}
	if anchored < len(call.Words)*2/3 {
		t.Errorf("%s: only %d of %d scripted words recognised in sequence", how, anchored, len(call.Words))
	}
	if t.Failed() || testing.Verbose() {
		for _, s := range sentences {
			t.Logf("  %d %6.2f–%6.2f %s", s.MediaChannel, s.StartTime, s.EndTime, s.Transcript)
		}
	}
	t.Logf("%s: %d sentences, %d of %d scripted words recognised (%d in sequence; %d words heard), worst time skew %.3f s",
		how, len(sentences), len(a.pairs), len(call.Words), anchored, len(heard), worst)
}

// TestAudioRecognizerMissingOrFailing: serve starts without the embedded
// recognizer's model (one warning with the install hint), keeps serving
// documents, and fails audio transcripts with a reason that names nothing
// of the installation; garbage sent inline as audio is refused at once; an
// HTTP recognizer that keeps answering 503 fails the transcript after a few
// attempts with a generic reason.
func TestAudioRecognizerMissingOrFailing(t *testing.T) {
	call := scriptedCallAudio(t)
	var hits atomic.Int64
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)

	missing := StartServer(t, ServerOptions{Extra: []string{"--asr-model-dir", t.TempDir()}})
	failing := StartServer(t, ServerOptions{Extra: []string{"--asr", "http", "--asr-url", down.URL + "/v1"}})
	wav := "data:audio/wav;base64," + base64.StdEncoding.EncodeToString(call.MuLaw)

	svcs := map[*Server]string{}
	for _, sv := range []*Server{missing, failing} {
		code, body := sv.Do(t, http.MethodPost, "/v2/Services", url.Values{"UniqueName": {"calls"}})
		if code != http.StatusCreated {
			t.Fatalf("create service: %d %v", code, body)
		}
		svc := body["sid"].(string)
		for _, garbage := range []string{"data:audio/wav;base64," + base64.StdEncoding.EncodeToString([]byte("RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")),
			"data:audio/mpeg;base64," + base64.StdEncoding.EncodeToString([]byte("not an mp3 at all"))} {
			ch, _ := json.Marshal(Channel(garbage))
			code, body := sv.Do(t, http.MethodPost, "/v2/Transcripts", url.Values{"ServiceSid": {svc}, "Channel": {string(ch)}})
			if code != http.StatusBadRequest {
				t.Errorf("garbage inline audio: %d %v, want 400", code, body)
			} else {
				t.Logf("garbage inline audio refused: %v", body["message"])
			}
		}
		svcs[sv] = svc
	}

	c := missing.Twilio()
	audioSID := lcCreate(t, c, svcs[missing], wav)
	docSID := lcCreate(t, c, svcs[missing], DataURL(map[string]any{"sentences": conversation}))
	if tr := WaitTranscript(t, c, docSID, time.Minute); *tr.Status != "completed" {
		t.Errorf("a document on a server without the recognizer: %s", *tr.Status)
	}
	WaitTranscript(t, c, audioSID, time.Minute)
	_, raw := missing.Do(t, http.MethodGet, "/v2/Transcripts/"+audioSID, nil)
	if raw["status"] != "failed" || raw["failure_reason"] != "audio transcription is not available on this server" {
		t.Errorf("audio without the recognizer: %v %q", raw["status"], raw["failure_reason"])
	}
	log := string(missing.Log())
	if n := strings.Count(log, "apt-get install libpocketsphinx3 pocketsphinx-en-us"); n == 0 {
		t.Errorf("no install hint in the log:\n%s", log)
	}

	c = failing.Twilio()
	began := time.Now()
	sid := lcCreate(t, c, svcs[failing], wav)
	WaitTranscript(t, c, sid, 3*time.Minute)
	_, raw = failing.Do(t, http.MethodGet, "/v2/Transcripts/"+sid, nil)
	reason, _ := raw["failure_reason"].(string)
	if raw["status"] != "failed" || !strings.HasPrefix(reason, "speech recognition failed") || strings.Contains(reason, "127.0.0.1") {
		t.Errorf("a recognizer answering 503: %v %q", raw["status"], reason)
	}
	if hits.Load() < 6 {
		t.Errorf("the recognizer was asked %d times: the job was not retried", hits.Load())
	}
	t.Logf("failed after %d requests in %v: %q", hits.Load(), time.Since(began).Round(time.Second), reason)
}

// TestAudioLanguageRefused: a transcript in a language the recognizer has no
// model for fails, naming the languages there are.
func TestAudioLanguageRefused(t *testing.T) {
	call := scriptedCallAudio(t)
	s := StartServer(t, ServerOptions{})
	code, body := s.Do(t, http.MethodPost, "/v2/Services", url.Values{"UniqueName": {"french"}, "LanguageCode": {"fr-FR"}})
	if code != http.StatusCreated {
		t.Fatalf("create service: %d %v", code, body)
	}
	c := s.Twilio()
	sid := lcCreate(t, c, body["sid"].(string), "data:audio/wav;base64,"+base64.StdEncoding.EncodeToString(call.MuLaw))
	WaitTranscript(t, c, sid, time.Minute)
	_, raw := s.Do(t, http.MethodGet, "/v2/Transcripts/"+sid, nil)
	want := "speech recognition is not available for language fr-FR on this server (available: en-US)"
	if raw["status"] != "failed" || raw["failure_reason"] != want {
		t.Errorf("fr-FR audio: %v %q, want failed %q", raw["status"], raw["failure_reason"], want)
	}
}
