// Package asrserver serves an asr.Recognizer behind the OpenAI-compatible
// speech-to-text endpoint (POST /v1/audio/transcriptions), so recognition
// can run as its own processes (`convoseal asr-serve`) and the HTTP client in
// asr/openai talks to it like to whisper.cpp, speaches or OpenAI.
//
// It accepts 16-bit PCM WAV (mono, or stereo averaged to mono) and answers
// json, text or verbose_json with top-level "words" (with "probability") and
// "segments" (with "avg_logprob", the log of the segment's confidence).
// Requests are bounded in size and in number: beyond Options.MaxConcurrent
// recognitions at once the answer is 429. Nothing of the audio or of what
// was recognised is logged.
package asrserver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxBody       = 128 << 20
	DefaultMaxConcurrent = 2
	DefaultModel         = "convoseal-asr"
	DefaultTimeout       = 10 * time.Minute

	maxFieldBytes = 4 << 10
)

// Options configure Handler.
type Options struct {
	// MaxBody bounds a request's body in bytes.
	MaxBody int64
	// MaxConcurrent bounds recognitions running at once; more get 429.
	MaxConcurrent int
	// APIKey, when not empty, is the bearer token every /v1 request needs.
	APIKey string
	// Model is the model id listed at /v1/models. Requests naming any model
	// are served by the one recognizer.
	Model string
	// Timeout bounds one recognition.
	Timeout time.Duration
	// Logger gets one line per failed request (never content); nil is silent.
	Logger *slog.Logger
}

type server struct {
	rec  asr.Recognizer
	opts Options
	sem  chan struct{}
	log  *slog.Logger
}

// Handler serves rec at POST /v1/audio/transcriptions (and
// /audio/transcriptions), GET /v1/models and GET /healthz.
func Handler(rec asr.Recognizer, opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.Model == "" {
		opts.Model = DefaultModel
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	s := &server{rec: rec, opts: opts, sem: make(chan struct{}, opts.MaxConcurrent), log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	for _, p := range []string{"/v1/audio/transcriptions", "/audio/transcriptions"} {
		mux.HandleFunc("POST "+p, s.authed(s.transcribe))
	}
	for _, p := range []string{"/v1/models", "/models"} {
		mux.HandleFunc("GET "+p, s.authed(s.models))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "", "not_found", "no such endpoint")
	})
	return mux
}

// authed checks the bearer token when one is configured.
func (s *server) authed(h http.HandlerFunc) http.HandlerFunc {
	if s.opts.APIKey == "" {
		return h
	}
	want := []byte("Bearer " + s.opts.APIKey)
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="convoseal-asr"`)
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "", "invalid_api_key", "missing or wrong API key")
			return
		}
		h(w, r)
	}
}

func (s *server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   []map[string]any{{"id": s.opts.Model, "object": "model", "created": 0, "owned_by": "convoseal"}},
	})
}

// request is what a transcription request asked for.
type request struct {
	wav         []byte
	language    string
	format      string
	granularity map[string]bool
}

func (s *server) transcribe(w http.ResponseWriter, r *http.Request) {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "rate_limit_error", "", "rate_limit_exceeded", "all recognizers are busy; retry later")
		return
	}
	start := time.Now()
	req, status, err := s.readRequest(w, r)
	if err != nil {
		s.log.Info("asr request refused", "status", status, "reason", err.Error())
		code := "invalid_request"
		if status == http.StatusRequestEntityTooLarge {
			code = "request_too_large"
		}
		writeError(w, status, "invalid_request_error", "", code, err.Error())
		return
	}
	a, err := decodeWAV(req.wav)
	req.wav = nil
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "file", "invalid_audio", err.Error())
		return
	}
	lang, ok := s.language(req.language)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "language", "unsupported_language",
			fmt.Sprintf("language is not supported; this server recognises %s", strings.Join(s.rec.Languages(), ", ")))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	res, err := s.rec.Recognize(ctx, a, lang)
	if err != nil {
		// Recognizer errors never quote recognised text (asr.Recognizer).
		s.log.Warn("asr recognition failed", "error", err.Error(), "audio_seconds", round3(a.Duration()))
		switch {
		case errors.Is(err, asr.ErrLanguage):
			writeError(w, http.StatusBadRequest, "invalid_request_error", "language", "unsupported_language", "language is not supported")
		case errors.Is(err, asr.ErrUnavailable):
			writeError(w, http.StatusServiceUnavailable, "server_error", "", "unavailable", "speech recognition is not available on this server")
		case r.Context().Err() != nil:
			// The client went away: nobody to answer.
		case errors.Is(err, context.DeadlineExceeded):
			writeError(w, http.StatusGatewayTimeout, "server_error", "", "timeout", "recognition took too long")
		default:
			writeError(w, http.StatusInternalServerError, "server_error", "", "recognition_failed", "recognition failed")
		}
		return
	}
	s.log.Debug("asr recognised", "audio_seconds", round3(a.Duration()), "seconds", round3(time.Since(start).Seconds()))
	s.respond(w, req, res, a.Duration(), lang)
}

// language maps the request's ISO-639-1 code (or a BCP-47 one) to one of the
// recognizer's languages; empty means its first.
func (s *server) language(code string) (string, bool) {
	langs := s.rec.Languages()
	if len(langs) == 0 {
		return "", false
	}
	code = strings.ToLower(strings.TrimSpace(code))
	if code == "" {
		return langs[0], true
	}
	for _, l := range langs {
		if strings.ToLower(l) == code {
			return l, true
		}
	}
	primary, _, _ := strings.Cut(code, "-")
	for _, l := range langs {
		if p, _, _ := strings.Cut(strings.ToLower(l), "-"); p == primary {
			return l, true
		}
	}
	return "", false
}

// readRequest reads the multipart form into memory (never to temporary
// files, unlike Request.ParseMultipartForm), bounded by MaxBody.
func (s *server) readRequest(w http.ResponseWriter, r *http.Request) (*request, int, error) {
	if r.ContentLength > s.opts.MaxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request larger than %d bytes", s.opts.MaxBody)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return nil, http.StatusBadRequest, errors.New("the body must be multipart/form-data")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, errors.New("the body must be multipart/form-data")
	}
	req := &request{format: "json", granularity: map[string]bool{}}
	var haveFile bool
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readStatus(err), readError(err, s.opts.MaxBody)
		}
		name := p.FormName()
		if name == "file" {
			var buf bytes.Buffer
			if _, err := io.Copy(&buf, p); err != nil {
				return nil, readStatus(err), readError(err, s.opts.MaxBody)
			}
			req.wav, haveFile = buf.Bytes(), true
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
		if err != nil {
			return nil, readStatus(err), readError(err, s.opts.MaxBody)
		}
		if len(v) > maxFieldBytes {
			return nil, http.StatusBadRequest, errors.New("a form field is too long")
		}
		switch val := strings.TrimSpace(string(v)); name {
		case "language":
			req.language = val
		case "response_format":
			req.format = val
		case "timestamp_granularities[]", "timestamp_granularities":
			req.granularity[val] = true
		}
	}
	if !haveFile {
		return nil, http.StatusBadRequest, errors.New("the form has no file")
	}
	switch req.format {
	case "json", "text", "verbose_json":
	default:
		return nil, http.StatusBadRequest, errors.New("response_format must be json, text or verbose_json")
	}
	return req, 0, nil
}

func readStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func readError(err error, limit int64) error {
	if readStatus(err) == http.StatusRequestEntityTooLarge {
		return fmt.Errorf("request larger than %d bytes", limit)
	}
	return errors.New("the multipart body could not be read")
}

// Wire types of the verbose_json answer.
type (
	verboseJSON struct {
		Task     string        `json:"task"`
		Language string        `json:"language"`
		Duration float64       `json:"duration"`
		Text     string        `json:"text"`
		Segments []segmentJSON `json:"segments"`
		Words    []wordJSON    `json:"words,omitempty"`
	}
	segmentJSON struct {
		ID               int      `json:"id"`
		Seek             int      `json:"seek"`
		Start            float64  `json:"start"`
		End              float64  `json:"end"`
		Text             string   `json:"text"`
		Tokens           []int    `json:"tokens"`
		Temperature      float64  `json:"temperature"`
		AvgLogprob       *float64 `json:"avg_logprob,omitempty"`
		CompressionRatio float64  `json:"compression_ratio"`
		NoSpeechProb     float64  `json:"no_speech_prob"`
	}
	wordJSON struct {
		Word        string   `json:"word"`
		Start       float64  `json:"start"`
		End         float64  `json:"end"`
		Probability *float64 `json:"probability,omitempty"`
	}
)

func (s *server) respond(w http.ResponseWriter, req *request, res *asr.Result, duration float64, lang string) {
	var texts []string
	for _, seg := range res.Segments {
		if t := strings.TrimSpace(seg.Text); t != "" {
			texts = append(texts, t)
		} else if t := wordsText(seg.Words); t != "" {
			texts = append(texts, t)
		}
	}
	text := strings.Join(texts, " ")
	switch req.format {
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, text+"\n")
		return
	case "json":
		writeJSON(w, http.StatusOK, map[string]string{"text": text})
		return
	}
	primary, _, _ := strings.Cut(lang, "-")
	out := verboseJSON{Task: "transcribe", Language: strings.ToLower(primary), Duration: round3(duration), Text: text, Segments: []segmentJSON{}}
	wantWords := req.granularity["word"]
	for i, seg := range res.Segments {
		st := strings.TrimSpace(seg.Text)
		if st == "" {
			st = wordsText(seg.Words)
		}
		out.Segments = append(out.Segments, segmentJSON{
			ID: i, Start: round3(seg.Start), End: round3(seg.End), Text: st, Tokens: []int{},
			AvgLogprob: logProb(seg.Confidence),
		})
		if wantWords {
			for _, wd := range seg.Words {
				out.Words = append(out.Words, wordJSON{Word: wd.Word, Start: round3(wd.Start), End: round3(wd.End), Probability: prob(wd.Confidence)})
			}
		}
	}
	if wantWords && out.Words == nil {
		out.Words = []wordJSON{}
	}
	writeJSON(w, http.StatusOK, out)
}

func wordsText(ws []asr.Word) string {
	parts := make([]string, 0, len(ws))
	for _, w := range ws {
		parts = append(parts, w.Word)
	}
	return strings.Join(parts, " ")
}

// logProb is avg_logprob for a confidence in [0, 1]; unknown (negative) is
// left out so the client falls back as it would for another server.
func logProb(conf float64) *float64 {
	if conf < 0 || math.IsNaN(conf) {
		return nil
	}
	v := math.Log(max(min(conf, 1), 1e-6))
	v = math.Round(v*1e6) / 1e6
	return &v
}

func prob(conf float64) *float64 {
	if conf < 0 || math.IsNaN(conf) {
		return nil
	}
	v := math.Round(min(conf, 1)*1e4) / 1e4
	return &v
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in OpenAI's error shape.
func writeError(w http.ResponseWriter, status int, typ, param, code, msg string) {
	var p any
	if param != "" {
		p = param
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": p, "code": code}})
}
