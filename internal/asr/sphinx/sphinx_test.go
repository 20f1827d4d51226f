package sphinx

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/convoseal/convoseal/internal/asr"
)

func words(res *asr.Result) []string {
	var out []string
	for _, s := range res.Segments {
		for _, w := range s.Words {
			out = append(out, w.Word)
		}
	}
	return out
}

// TestRecognizeFlite recognises scripted call-centre speech in both flite
// voices: low WER, one segment per sentence, word times ordered, inside the
// audio and within 0.3 s of the script at each sentence's edges, and
// confidences in [0, 1].
func TestRecognizeFlite(t *testing.T) {
	r := newTestRecognizer(t, 1)
	t.Logf("model load %v", r.LoadTime())
	for _, voice := range []string{"rms", "slt"} {
		t.Run(voice, func(t *testing.T) {
			pcm, script := synthesize(t, voice, callSentences)
			a := asr.Audio{SampleRate: SampleRate, Samples: pcm}
			res, err := r.Recognize(context.Background(), a, "en-US")
			if err != nil {
				t.Fatal(err)
			}
			var ref []string
			for _, s := range script {
				ref = append(ref, strings.Fields(s.text)...)
			}
			hyp := words(res)
			e := float64(wer(ref, hyp)) / float64(len(ref))
			t.Logf("%s: WER %.1f%% (%d words)", voice, 100*e, len(ref))
			if e > 0.25 {
				t.Errorf("WER %.1f%% > 25%%", 100*e)
			}
			if res.Duration != a.Duration() || res.Language != "en-US" {
				t.Errorf("duration %v language %q", res.Duration, res.Language)
			}
			if len(res.Segments) != len(script) {
				t.Fatalf("%d segments, want %d", len(res.Segments), len(script))
			}
			last := 0.0
			for i, s := range res.Segments {
				if s.Confidence < 0 || s.Confidence > 1 {
					t.Errorf("segment %d confidence %v", i, s.Confidence)
				}
				for _, w := range s.Words {
					if w.Start < last-1e-9 || w.End < w.Start || w.End > res.Duration {
						t.Errorf("segment %d word %q at %.2f–%.2f after %.2f", i, w.Word, w.Start, w.End, last)
					}
					if w.Confidence < 0 || w.Confidence > 1 {
						t.Errorf("word %q confidence %v", w.Word, w.Confidence)
					}
					if strings.ContainsAny(w.Word, "<>[]()+") {
						t.Errorf("filler or variant mark in %q", w.Word)
					}
					last = w.End
				}
				if d := math.Abs(s.Words[0].Start - script[i].onset); d > 0.3 {
					t.Errorf("segment %d starts %.2f, script %.2f", i, s.Words[0].Start, script[i].onset)
				}
				if d := math.Abs(s.Words[len(s.Words)-1].End - script[i].offset); d > 0.3 {
					t.Errorf("segment %d ends %.2f, script %.2f", i, s.Words[len(s.Words)-1].End, script[i].offset)
				}
			}
		})
	}
}

// TestRecognize8kHz recognises the same speech given at 8 kHz.
func TestRecognize8kHz(t *testing.T) {
	r := newTestRecognizer(t, 1)
	pcm, script := synthesize(t, "rms", callSentences[:2])
	a := asr.Audio{SampleRate: 8000, Samples: resample(pcm, SampleRate, 8000)}
	res, err := r.Recognize(context.Background(), a, "en")
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.Fields(script[0].text + " " + script[1].text)
	e := float64(wer(ref, words(res))) / float64(len(ref))
	t.Logf("8 kHz WER %.1f%%", 100*e)
	if e > 0.35 {
		t.Errorf("WER %.1f%% > 35%%: %q", 100*e, words(res))
	}
	if d := math.Abs(res.Segments[0].Words[0].Start - script[0].onset); d > 0.3 {
		t.Errorf("first word at %.2f, script %.2f", res.Segments[0].Words[0].Start, script[0].onset)
	}
}

// TestRecognizeConcurrent runs more calls than decoders at once: each gets
// the same transcript as a lone call, and the pool never grows past its size.
func TestRecognizeConcurrent(t *testing.T) {
	r := newTestRecognizer(t, 2)
	pcm, _ := synthesize(t, "rms", callSentences[1:3])
	a := asr.Audio{SampleRate: SampleRate, Samples: pcm}
	want, err := r.Recognize(context.Background(), a, "en-US")
	if err != nil {
		t.Fatal(err)
	}
	wantText := strings.Join(words(want), " ")
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.Recognize(context.Background(), a, "en-US")
			if err == nil && strings.Join(words(res), " ") != wantText {
				err = errors.New("concurrent transcript differs: " + strings.Join(words(res), " "))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	r.mu.Lock()
	n := len(r.all)
	r.mu.Unlock()
	if n > 2 {
		t.Errorf("%d decoders for a pool of 2", n)
	}
}

// TestRecognizeCancelled returns the context's error and no transcript.
func TestRecognizeCancelled(t *testing.T) {
	r := newTestRecognizer(t, 1)
	pcm, _ := synthesize(t, "rms", callSentences[:1])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Recognize(ctx, asr.Audio{SampleRate: SampleRate, Samples: pcm}, "en-US")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestRecognizeLanguage refuses languages without a model and silence gives
// no segments.
func TestRecognizeLanguage(t *testing.T) {
	r := newTestRecognizer(t, 1)
	if got := r.Languages(); len(got) != 1 || got[0] != "en-US" {
		t.Errorf("Languages = %v", got)
	}
	a := asr.Audio{SampleRate: SampleRate, Samples: make([]int16, SampleRate)}
	if _, err := r.Recognize(context.Background(), a, "fr-FR"); !errors.Is(err, asr.ErrLanguage) {
		t.Errorf("fr-FR: err = %v, want ErrLanguage", err)
	}
	res, err := r.Recognize(context.Background(), a, "en-US")
	if err != nil || len(res.Segments) != 0 || res.Duration != 1 {
		t.Errorf("silence: %+v, %v", res, err)
	}
}

// TestNewMissingLibrary says what to install when the library is absent.
func TestNewMissingLibrary(t *testing.T) {
	_, err := New(Options{Pocketsphinx: "/nonexistent/libpocketsphinx.so.3", Sphinxbase: "/nonexistent/libsphinxbase.so.3"})
	if !errors.Is(err, asr.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "apt-get install libpocketsphinx3 pocketsphinx-en-us") {
		t.Errorf("error does not say what to install: %v", err)
	}
}

// TestNewMissingModel says what to install when the model is absent.
func TestNewMissingModel(t *testing.T) {
	_, err := New(Options{ModelDir: t.TempDir()})
	if !errors.Is(err, asr.ErrUnavailable) || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
		t.Fatalf("err = %v, want ErrUnavailable naming pocketsphinx-en-us", err)
	}
}

func TestCleanWord(t *testing.T) {
	for in, want := range map[string]string{"<s>": "", "</s>": "", "<sil>": "", "[NOISE]": "", "++BREATH++": "", "read(2)": "read", "account": "account"} {
		got, ok := cleanWord(in)
		if got != want || ok != (want != "") {
			t.Errorf("cleanWord(%q) = %q, %v", in, got, ok)
		}
	}
}

// TestResample keeps a 440 Hz tone's amplitude and length across rates.
func TestResample(t *testing.T) {
	in := make([]int16, 8000)
	for i := range in {
		in[i] = int16(10000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	out := resample(in, 8000, SampleRate)
	if len(out) != 16000 {
		t.Fatalf("len %d", len(out))
	}
	var maxErr float64
	for i := 200; i < len(out)-200; i++ {
		want := 10000 * math.Sin(2*math.Pi*440*float64(i)/16000)
		maxErr = math.Max(maxErr, math.Abs(float64(out[i])-want))
	}
	if maxErr > 100 {
		t.Errorf("max error %.0f of 10000", maxErr)
	}
}

// TestResampleDown keeps a 1 kHz tone through 44.1 kHz → 16 kHz and removes
// a 10 kHz one (above the new Nyquist frequency).
func TestResampleDown(t *testing.T) {
	tone := func(f float64) []int16 {
		s := make([]int16, 44100)
		for i := range s {
			s[i] = int16(10000 * math.Sin(2*math.Pi*f*float64(i)/44100))
		}
		return s
	}
	rms := func(s []int16) float64 {
		var e float64
		for _, v := range s[500 : len(s)-500] {
			e += float64(v) * float64(v)
		}
		return math.Sqrt(e / float64(len(s)-1000))
	}
	low, high := resample(tone(1000), 44100, SampleRate), resample(tone(10000), 44100, SampleRate)
	if len(low) != SampleRate {
		t.Fatalf("len %d", len(low))
	}
	if r := rms(low); math.Abs(r-10000/math.Sqrt2) > 100 {
		t.Errorf("1 kHz rms %.0f, want %.0f", r, 10000/math.Sqrt2)
	}
	if r := rms(high); r > 100 {
		t.Errorf("10 kHz rms %.0f after low-pass", r)
	}
}

// TestNewArgsOverride lets Options.Args replace a default without the
// library refusing a duplicate name.
func TestNewArgsOverride(t *testing.T) {
	if got := strings.Join(mergeArgs([]string{"-a", "1", "-b", "2"}, []string{"-b", "3", "-c", "4"}), " "); got != "-a 1 -b 3 -c 4" {
		t.Errorf("mergeArgs = %q", got)
	}
	requireLib(t)
	r, err := New(Options{Args: []string{"-maxhmmpf", "8000"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// TestNewBadOption is a plain error, not "install pocketsphinx".
func TestNewBadOption(t *testing.T) {
	requireLib(t)
	_, err := New(Options{Args: []string{"-no_such_option", "1"}})
	if err == nil || errors.Is(err, asr.ErrUnavailable) {
		t.Fatalf("err = %v, want a non-ErrUnavailable error", err)
	}
}
