package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/asr/openai"
	"github.com/convoseal/convoseal/internal/audio"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/store"
	"github.com/convoseal/convoseal/seal"
)

// fakeASR hears, on each channel, the words of script whose channel it is
// (told apart by the first sample's value: the channel number), or fails
// with err.
type fakeASR struct {
	script map[int][]asr.Word
	err    error
}

func (f *fakeASR) Languages() []string { return []string{"en-US"} }

func (f *fakeASR) Recognize(_ context.Context, a asr.Audio, lang string) (*asr.Result, error) {
	if f.err != nil {
		return nil, f.err
	}
	words := f.script[int(a.Samples[0])]
	res := &asr.Result{Language: lang, Duration: a.Duration()}
	if len(words) > 0 {
		res.Segments = []asr.Segment{{Start: words[0].Start, End: words[len(words)-1].End, Words: words, Confidence: -1}}
	}
	return res, nil
}

func words(start float64, text string) []asr.Word {
	var ws []asr.Word
	for _, w := range strings.Fields(text) {
		ws = append(ws, asr.Word{Word: w, Start: start, End: start + 0.3, Confidence: 0.8})
		start += 0.35
	}
	return ws
}

// TestProcessAudio: a stereo recording (sealed inline source) becomes
// sentences per channel, interleaved by time, with word times, and a
// duration from the audio; recognizer failures are classified.
func TestProcessAudio(t *testing.T) {
	forEachQueueBackend(t, func(t *testing.T, _ queueBackend, open func() *store.DB) { testProcessAudio(t, open()) })
}

func testProcessAudio(t *testing.T, db *store.DB) {
	ctx := context.Background()
	p, local, kek := newTestPipeline(t, db)
	fake := &fakeASR{script: map[int][]asr.Word{
		1: append(words(0.5, "thank you for calling"), words(3.0, "how can i help")...), // a 1.1 s pause: two sentences
		2: words(2.0, "i want a refund"),
	}}
	p.ASR = fake
	acct, svc := newAccountAndService(t, db)
	// 6.4 s of 8 kHz stereo; each channel's first sample is its number.
	rec := &audio.Decoded{SampleRate: 8000, Channels: [][]int16{make([]int16, 51200), make([]int16, 51200)}}
	rec.Channels[0][0], rec.Channels[1][0] = 1, 2
	wav := audio.EncodeWAV(rec)

	run := func(lang string) *convoseal.Transcript {
		t.Helper()
		body, env, err := seal.Seal(kek, EncodeSource(&media.Media{ContentType: "audio/wav", Data: wav}))
		if err != nil {
			t.Fatal(err)
		}
		tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID,
			Channel: []byte(`{}`), MediaURL: SealedSourceURL, LanguageCode: lang}
		if err := db.CreateTranscript(ctx, tr, &store.SealedSource{Body: body, Metadata: env.Metadata()}, func(*sql.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := p.Process(ctx, tr.SID); err != nil {
			t.Fatalf("Process: %v", err)
		}
		got, err := db.TranscriptForJob(ctx, tr.SID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	got := run("en-US")
	if got.Status != convoseal.StatusCompleted || got.Duration != 6 {
		t.Fatalf("status %s (%q), duration %d; want completed, 6", got.Status, got.FailureReason, got.Duration)
	}
	key := SentencesKey(acct.SID, got.SID, false)
	body, meta, err := local.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := seal.ParseMetadata(meta)
	plain, err := p.Keys.Open(keyring.ObjectBinding(acct.SID, got.SID, key), body, env)
	if err != nil {
		t.Fatal(err)
	}
	var doc convoseal.SentencesDocument
	if err := json.Unmarshal(plain, &doc); err != nil {
		t.Fatal(err)
	}
	var summary []string
	for i, s := range doc.Sentences {
		if s.SentenceIndex != i || !strings.HasPrefix(s.SID, convoseal.PrefixSentence) || len(s.Words) == 0 || s.Confidence == nil || *s.Confidence != 0.8 {
			t.Errorf("sentence %d: %+v", i, s)
		}
		summary = append(summary, fmt.Sprintf("%d@%.2f-%.2f:%s", s.MediaChannel, s.StartTime, s.EndTime, s.Transcript))
	}
	want := "1@0.50-1.85:thank you for calling | 2@2.00-3.35:i want a refund | 1@3.00-4.35:how can i help"
	if strings.Join(summary, " | ") != want {
		t.Errorf("sentences\n %s\nwant\n %s", strings.Join(summary, " | "), want)
	}

	// Silence: completed, with no sentences (an empty list, not null).
	script := fake.script
	fake.script = nil
	got = run("en-US")
	fake.script = script
	body, meta, err = local.Get(ctx, SentencesKey(acct.SID, got.SID, false))
	if err != nil {
		t.Fatal(err)
	}
	env, _ = seal.ParseMetadata(meta)
	plain, err = p.Keys.Open(keyring.ObjectBinding(acct.SID, got.SID, SentencesKey(acct.SID, got.SID, false)), body, env)
	if err != nil || got.Status != convoseal.StatusCompleted || !strings.Contains(string(plain), `"sentences":[]`) {
		t.Errorf("silence: %s, %s, %v", got.Status, plain, err)
	}

	// Failures: the reason a tenant sees, or a retry.
	for _, c := range []struct {
		lang   string
		err    error
		reason string // "" : retried
	}{
		{"fr-FR", nil, "speech recognition is not available for language fr-FR on this server (available: en-US)"},
		{"en-US", fmt.Errorf("sphinx: %w: libpocketsphinx.so.3 missing (install it with: apt-get …)", asr.ErrUnavailable), ReasonASRUnavailable},
		{"en-US", fmt.Errorf("asr/openai: %q: %w", "de", asr.ErrLanguage), "speech recognition is not available for language en-US on this server (available: en-US)"},
		{"en-US", &openai.StatusError{Code: 400, Attempts: 1}, "speech recognition failed"},
		{"en-US", &openai.StatusError{Code: 503, Attempts: 3}, ""},
		{"en-US", fmt.Errorf("wrapped: %w", openai.ErrTimeout), ""},
	} {
		fake.err = c.err
		if c.reason == "" {
			body, env, _ := seal.Seal(kek, EncodeSource(&media.Media{ContentType: "audio/wav", Data: wav}))
			tr := &convoseal.Transcript{SID: convoseal.NewSID(convoseal.PrefixTranscript), AccountSID: acct.SID, ServiceSID: svc.SID,
				Channel: []byte(`{}`), MediaURL: SealedSourceURL, LanguageCode: c.lang}
			if err := db.CreateTranscript(ctx, tr, &store.SealedSource{Body: body, Metadata: env.Metadata()}, func(*sql.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if err := p.Process(ctx, tr.SID); !errors.Is(err, errRecognizerDown) {
				t.Errorf("%v: Process = %v, want a retry (errRecognizerDown)", c.err, err)
			}
			continue
		}
		if got := run(c.lang); got.Status != convoseal.StatusFailed || got.FailureReason != c.reason {
			t.Errorf("%s, %v: %s %q, want failed %q", c.lang, c.err, got.Status, got.FailureReason, c.reason)
		}
	}
	p.ASR = nil
	if got := run("en-US"); got.FailureReason != ReasonASRUnavailable {
		t.Errorf("no recognizer: %q", got.FailureReason)
	}
}

// TestSegmentSentences: sentences end at pauses of 0.5 s and every 30 words;
// a sentence that is a whole segment keeps the recognizer's text.
func TestSegmentSentences(t *testing.T) {
	long := words(0, strings.Repeat("word ", 35))
	res := &asr.Result{Segments: []asr.Segment{
		{Text: "Hello, how are you?", Words: []asr.Word{{Word: "Hello", Start: 0, End: 0.4, Confidence: -1}, {Word: "how", Start: 0.5, End: 0.7, Confidence: -1},
			{Word: "are", Start: 0.7, End: 0.8, Confidence: -1}, {Word: "you", Start: 0.8, End: 1, Confidence: -1}}, Confidence: 0.6},
		{Text: "fine thanks bye", Words: []asr.Word{{Word: "fine", Start: 2, End: 2.3}, {Word: "thanks", Start: 2.3, End: 2.6}, {Word: " ", Start: 2.6, End: 2.7}, {Word: "bye", Start: 3.2, End: 3.4}}},
		{Words: long},
	}}
	got := segmentSentences(2, res)
	var texts []string
	for _, s := range got {
		if s.MediaChannel != 2 {
			t.Errorf("channel %d", s.MediaChannel)
		}
		texts = append(texts, fmt.Sprintf("%s(%d)", s.Transcript, len(s.Words)))
	}
	want := "Hello, how are you?(4) | fine thanks(2) | bye(1) | " + strings.TrimSpace(strings.Repeat("word ", 30)) + "(30) | word word word word word(5)"
	if strings.Join(texts, " | ") != want {
		t.Errorf("sentences\n %s\nwant\n %s", strings.Join(texts, " | "), want)
	}
	if got[0].Confidence == nil || *got[0].Confidence != 0.6 {
		t.Errorf("confidence without word confidences: %v, want the segment's 0.6", got[0].Confidence)
	}
}

func TestLanguageSupported(t *testing.T) {
	for _, c := range []struct {
		langs []string
		lang  string
		want  bool
	}{{[]string{"en-US"}, "en-US", true}, {[]string{"en-US"}, "EN-us", true}, {[]string{"en-US"}, "en-GB", false},
		{[]string{"en", "fr"}, "fr-CA", true}, {[]string{"en-US"}, "en", true}, {[]string{"en-US"}, "de-DE", false}} {
		if got := languageSupported(c.langs, c.lang); got != c.want {
			t.Errorf("%v %s: %v", c.langs, c.lang, got)
		}
	}
}

// Inline audio is checked at creation from its header.
func TestProbeAudio(t *testing.T) {
	rec := &audio.Decoded{SampleRate: 8000, Channels: [][]int16{make([]int16, 800)}}
	if err := ProbeAudio(&media.Media{ContentType: "audio/wav", Data: audio.EncodeWAV(rec)}); err != nil {
		t.Errorf("a valid WAV: %v", err)
	}
	for _, m := range []*media.Media{{ContentType: "audio/wav", Data: []byte("RIFF\x04\x00\x00\x00WAVEjunk")}, {ContentType: "audio/mpeg", Data: []byte("nonsense")}} {
		if !IsAudio(m) {
			t.Errorf("%s: not audio", m.ContentType)
		}
		if err := ProbeAudio(m); err == nil {
			t.Errorf("%s garbage accepted", m.ContentType)
		}
	}
	if IsAudio(&media.Media{ContentType: "application/json", Data: []byte(`{"sentences":[]}`)}) {
		t.Error("JSON taken for audio")
	}
}
