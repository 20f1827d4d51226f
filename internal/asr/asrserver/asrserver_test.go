package asrserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/asr/openai"
)

// fake is a deterministic recognizer: it "hears" one word per 0.5 s of
// audio, two segments, confidences derived from the position; it records the
// audio it was given.
type fake struct {
	mu      sync.Mutex
	got     []asr.Audio
	langs   []string
	block   chan struct{} // when set, Recognize waits on it
	started chan struct{}
	err     error
}

func (f *fake) Languages() []string { return f.langs }

func (f *fake) Recognize(ctx context.Context, a asr.Audio, language string) (*asr.Result, error) {
	f.mu.Lock()
	f.got = append(f.got, a)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.err != nil {
		return nil, f.err
	}
	return fakeResult(a, language), nil
}

var vocabulary = []string{"hello", "thanks", "for", "calling", "acme", "support", "how", "can", "i", "help"}

func fakeResult(a asr.Audio, language string) *asr.Result {
	d := a.Duration()
	res := &asr.Result{Language: language, Duration: d}
	n := int(d / 0.5)
	half := n / 2
	for si, span := range [][2]int{{0, half}, {half, n}} {
		seg := asr.Segment{Confidence: []float64{0.83, -1}[si]}
		var text []string
		for i := span[0]; i < span[1]; i++ {
			w := asr.Word{Word: vocabulary[i%len(vocabulary)], Start: float64(i) * 0.5, End: float64(i)*0.5 + 0.4, Confidence: 0.5 + float64(i%5)/10}
			if i == 3 {
				w.Confidence = -1 // unknown: falls back to the segment's
			}
			seg.Words = append(seg.Words, w)
			text = append(text, w.Word)
		}
		if len(seg.Words) > 0 {
			seg.Start, seg.End = seg.Words[0].Start, seg.Words[len(seg.Words)-1].End
		}
		seg.Text = strings.Join(text, " ")
		res.Segments = append(res.Segments, seg)
	}
	return res
}

func testAudio(seconds float64, rate int) asr.Audio {
	a := asr.Audio{SampleRate: rate, Samples: make([]int16, int(seconds*float64(rate)))}
	for i := range a.Samples {
		a.Samples[i] = int16(3000 * math.Sin(float64(i)/7))
	}
	return a
}

// The HTTP client against this handler gives back what the recognizer said:
// the same words, times and confidences (within the wire's rounding), with
// unknown word confidence falling back to the segment's as for any server.
func TestRoundTrip(t *testing.T) {
	rec := &fake{langs: []string{"en-US"}}
	srv := httptest.NewServer(Handler(rec, Options{APIKey: "k-123"}))
	defer srv.Close()
	c, err := openai.New(openai.Config{URL: srv.URL + "/v1", APIKey: "k-123", Languages: []string{"en-US"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range []int{8000, 16000} {
		a := testAudio(4.2, rate)
		got, err := c.Recognize(context.Background(), a, "en-US")
		if err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		heard := rec.got[len(rec.got)-1]
		rec.mu.Unlock()
		if heard.SampleRate != rate || !equalSamples(heard.Samples, a.Samples) {
			t.Fatalf("the recognizer got %d Hz × %d samples, not the audio sent", heard.SampleRate, len(heard.Samples))
		}
		want := fakeResult(a, "en-US")
		if got.Language != "en-US" || math.Abs(got.Duration-want.Duration) > 1e-9 || len(got.Segments) != len(want.Segments) {
			t.Fatalf("got %s %v s %d segments, want %s %v s %d", got.Language, got.Duration, len(got.Segments), want.Language, want.Duration, len(want.Segments))
		}
		for i, ws := range want.Segments {
			gs := got.Segments[i]
			if gs.Text != ws.Text || !near(gs.Start, ws.Start, 1e-3) || !near(gs.End, ws.End, 1e-3) || !near(gs.Confidence, ws.Confidence, 1e-4) {
				t.Errorf("segment %d = %q %v–%v conf %v, want %q %v–%v conf %v", i, gs.Text, gs.Start, gs.End, gs.Confidence, ws.Text, ws.Start, ws.End, ws.Confidence)
			}
			if len(gs.Words) != len(ws.Words) {
				t.Fatalf("segment %d: %d words, want %d", i, len(gs.Words), len(ws.Words))
			}
			for j, ww := range ws.Words {
				gw := gs.Words[j]
				wantConf := ww.Confidence
				if wantConf < 0 {
					wantConf = ws.Confidence
				}
				if gw.Word != ww.Word || !near(gw.Start, ww.Start, 1e-3) || !near(gw.End, ww.End, 1e-3) || !near(gw.Confidence, wantConf, 1e-4) {
					t.Errorf("segment %d word %d = %+v, want %+v (confidence %v)", i, j, gw, ww, wantConf)
				}
			}
		}
	}
}

func near(a, b, eps float64) bool { return math.Abs(a-b) <= eps }

func equalSamples(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wav encodes interleaved 16-bit frames with the given channel count.
func wav(rate, channels int, frames []int16) []byte {
	var b bytes.Buffer
	data := 2 * len(frames)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1))
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*2*channels))
	binary.Write(&b, binary.LittleEndian, uint16(2*channels))
	binary.Write(&b, binary.LittleEndian, uint16(16))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, frames)
	return b.Bytes()
}

// form builds a transcription request.
func form(t *testing.T, file []byte, fields ...string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", "a.wav")
	fw.Write(file)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func post(t *testing.T, h http.Handler, path string, body io.Reader, ctype string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, body)
	r.Header.Set("Content-Type", ctype)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorCode checks the OpenAI error shape and returns its code.
func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("status %d body %q is not an OpenAI error", w.Code, w.Body.String())
	}
	return e.Error.Code
}

func TestStereoAndFormats(t *testing.T) {
	rec := &fake{langs: []string{"en-US"}}
	h := Handler(rec, Options{})
	// Stereo frames (L, R) average to mono.
	frames := []int16{1000, 3000, -2000, -4000, 32767, 32767, -32768, -32768}
	for _, format := range []string{"json", "text", "verbose_json"} {
		body, ct := form(t, wav(8000, 2, frames), "response_format", format, "language", "en")
		w := post(t, h, "/audio/transcriptions", body, ct)
		if w.Code != 200 {
			t.Fatalf("%s: status %d %s", format, w.Code, w.Body)
		}
	}
	if got := rec.got[0].Samples; !equalSamples(got, []int16{2000, -3000, 32767, -32768}) || rec.got[0].SampleRate != 8000 {
		t.Fatalf("decoded %v at %d Hz", got, rec.got[0].SampleRate)
	}
}

func TestRefusals(t *testing.T) {
	rec := &fake{langs: []string{"en-US"}}
	h := Handler(rec, Options{APIKey: "k-1", MaxBody: 64 << 10})
	good := wav(16000, 1, make([]int16, 16000))
	auth := []string{"Authorization", "Bearer k-1"}
	for _, tc := range []struct {
		name   string
		file   []byte
		fields []string
		hdr    []string
		status int
		code   string
	}{
		{"no key", good, nil, nil, 401, "invalid_api_key"},
		{"wrong key", good, nil, []string{"Authorization", "Bearer k-2"}, 401, "invalid_api_key"},
		{"too large", make([]byte, 70<<10), nil, auth, 413, "request_too_large"},
		{"not wav", []byte("ID3 this is an mp3"), nil, auth, 400, "invalid_audio"},
		{"8-bit wav", func() []byte { b := wav(8000, 1, make([]int16, 10)); b[34] = 8; return b }(), nil, auth, 400, "invalid_audio"},
		{"language", good, []string{"language", "fr"}, auth, 400, "unsupported_language"},
		{"format", good, []string{"response_format", "srt"}, auth, 400, "invalid_request"},
	} {
		body, ct := form(t, tc.file, tc.fields...)
		w := post(t, h, "/v1/audio/transcriptions", body, ct, tc.hdr...)
		if w.Code != tc.status || errorCode(t, w) != tc.code {
			t.Errorf("%s: status %d %s, want %d %s", tc.name, w.Code, w.Body, tc.status, tc.code)
		}
	}
	if len(rec.got) != 0 {
		t.Fatalf("the recognizer ran on %d refused requests", len(rec.got))
	}
	// The client maps the language refusal to asr.ErrLanguage.
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, _ := openai.New(openai.Config{URL: srv.URL + "/v1", APIKey: "k-1"})
	if _, err := c.Recognize(context.Background(), testAudio(1, 16000), "fr-FR"); !errors.Is(err, asr.ErrLanguage) {
		t.Fatalf("French: %v, want asr.ErrLanguage", err)
	}
}

func TestBusyIs429(t *testing.T) {
	rec := &fake{langs: []string{"en-US"}, block: make(chan struct{}), started: make(chan struct{}, 4)}
	h := Handler(rec, Options{MaxConcurrent: 1})
	done := make(chan int)
	go func() {
		body, ct := form(t, wav(16000, 1, make([]int16, 1600)))
		done <- post(t, h, "/v1/audio/transcriptions", body, ct).Code
	}()
	<-rec.started
	body, ct := form(t, wav(16000, 1, make([]int16, 1600)))
	// Bounded, so that a handler that queued instead of refusing fails the
	// test rather than hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/audio/transcriptions", body)
	r.Header.Set("Content-Type", ct)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 429 || w.Header().Get("Retry-After") == "" || errorCode(t, w) != "rate_limit_exceeded" {
		t.Fatalf("second request: %d %q", w.Code, w.Body)
	}
	close(rec.block)
	if code := <-done; code != 200 {
		t.Fatalf("first request: %d", code)
	}
}

func TestRecognizerErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{fmt.Errorf("no model: %w", asr.ErrUnavailable), 503},
		{fmt.Errorf("x: %w", asr.ErrLanguage), 400},
		{errors.New("decoder crashed"), 500},
	} {
		h := Handler(&fake{langs: []string{"en-US"}, err: tc.err}, Options{})
		body, ct := form(t, wav(16000, 1, make([]int16, 1600)))
		if w := post(t, h, "/v1/audio/transcriptions", body, ct); w.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, w.Code, tc.status)
		}
	}
}

func TestModelsHealthAndLogs(t *testing.T) {
	var logs bytes.Buffer
	rec := &fake{langs: []string{"en-US"}}
	h := Handler(rec, Options{Model: "pocketsphinx-en-us", Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	r := httptest.NewRequest(http.MethodGet, "/v1/models", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"id":"pocketsphinx-en-us"`) {
		t.Fatalf("models: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if w.Code != 200 {
		t.Fatalf("healthz: %d", w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/audio/speech", nil))
	if w.Code != 404 || errorCode(t, w) != "not_found" {
		t.Fatalf("unknown path: %d", w.Code)
	}
	body, ct := form(t, wav(16000, 1, testAudio(3, 16000).Samples), "response_format", "verbose_json", "timestamp_granularities[]", "word")
	w = post(t, h, "/v1/audio/transcriptions", body, ct)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"probability"`) || !strings.Contains(w.Body.String(), `"avg_logprob"`) {
		t.Fatalf("verbose_json: %d %s", w.Code, w.Body)
	}
	for _, word := range []string{"hello", "calling", "acme", "support"} {
		if strings.Contains(logs.String(), word) {
			t.Fatalf("the log holds recognised text %q: %s", word, logs.String())
		}
	}
}
