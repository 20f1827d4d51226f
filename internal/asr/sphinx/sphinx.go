// Package sphinx is the embedded speech recognizer: Debian's pocketsphinx 0.8
// (libpocketsphinx3 with the pocketsphinx-en-us model), loaded at run time
// so convoseal builds without cgo and serves text documents on machines
// without it.
//
// It is driven the way that recognises best: an energy VAD cuts the audio
// into utterances and each is decoded whole (ps_process_raw with full_utt),
// which gives batch cepstral normalisation and a lattice for word posteriors.
package sphinx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
)

// SampleRate is the rate the acoustic model wants; other rates are resampled.
const SampleRate = 16000

// framesPerSecond is pocketsphinx's default frame rate (-frate 100).
const framesPerSecond = 100

// DefaultModelDir is where pocketsphinx-en-us installs the US-English model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// Options configure New. Zero values mean the Debian defaults.
type Options struct {
	// Decoders is how many utterances can be decoded at once (each decoder
	// holds its own copy of the model, ≈110 MB). Default 1.
	Decoders int
	// ModelDir holds en-us/ (acoustic model), en-us.lm.bin and cmudict-en-us.dict.
	ModelDir string
	// Pocketsphinx and Sphinxbase name the shared libraries (dlopen names or paths).
	Pocketsphinx, Sphinxbase string
	// Args are extra decoder options, e.g. {"-lw", "7"}; they override
	// the defaults (-remove_silence no -maxhmmpf 5000).
	Args []string
}

// Recognizer is a pool of pocketsphinx decoders. It is safe for concurrent use.
type Recognizer struct {
	lib  *lib
	args []string
	// pool holds idle decoders; sem bounds how many exist.
	pool chan *decoder
	sem  chan struct{}

	mu       sync.Mutex
	all      []*decoder
	closed   bool
	loadTime time.Duration
}

// decoder is one pocketsphinx decoder; only one goroutine uses it at a time.
type decoder struct {
	ps, cfg, lmath uintptr
	argv           *cStrings
	// fed is how many frames earlier utterances consumed: the decoder's
	// frame numbers keep counting across utterances.
	fed int
}

// defaultArgs are the decoder settings beyond the model paths, chosen on
// the benchmark in scripts/bench-asr.sh. -remove_silence no: the VAD here
// already cut the silence, and the library's own would drop frames and
// shift every word time. -maxhmmpf 5000 (default 30000) cut CPU by a
// fifth at the same WER.
var defaultArgs = []string{"-remove_silence", "no", "-maxhmmpf", "5000"}

// New loads the library and one decoder (more are made as calls need them,
// up to opts.Decoders). Errors wrap asr.ErrUnavailable and say what to install.
func New(opts Options) (*Recognizer, error) {
	if opts.Decoders <= 0 {
		opts.Decoders = 1
	}
	if opts.ModelDir == "" {
		opts.ModelDir = DefaultModelDir
	}
	if opts.Pocketsphinx == "" {
		opts.Pocketsphinx = defaultPocketsphinx
	}
	if opts.Sphinxbase == "" {
		opts.Sphinxbase = defaultSphinxbase
	}
	unavailable := func(err error) error {
		return fmt.Errorf("%w: %v (install it with: %s)", asr.ErrUnavailable, err, installHint)
	}
	hmm := filepath.Join(opts.ModelDir, "en-us")
	lm := filepath.Join(opts.ModelDir, "en-us.lm.bin")
	dict := filepath.Join(opts.ModelDir, "cmudict-en-us.dict")
	l, err := loadLib(opts.Pocketsphinx, opts.Sphinxbase)
	if err != nil {
		return nil, unavailable(err)
	}
	if err := checkModel(hmm, lm, dict); err != nil {
		return nil, unavailable(err)
	}
	if len(opts.Args)%2 != 0 {
		return nil, errors.New("sphinx: decoder options must be name/value pairs")
	}
	args := append([]string{"convoseal"}, mergeArgs([]string{"-hmm", hmm, "-lm", lm, "-dict", dict}, defaultArgs, opts.Args)...)
	r := &Recognizer{
		lib:  l,
		args: args,
		pool: make(chan *decoder, opts.Decoders),
		sem:  make(chan struct{}, opts.Decoders),
	}
	r.sem <- struct{}{}
	t := time.Now()
	d, err := r.newDecoder()
	if errors.Is(err, errOptions) {
		return nil, fmt.Errorf("sphinx: %w", err)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	r.loadTime = time.Since(t)
	r.pool <- d
	return r, nil
}

// mergeArgs joins name/value option lists, later values replacing earlier
// ones (the library refuses a name given twice).
func mergeArgs(lists ...[]string) []string {
	var out []string
	at := map[string]int{}
	for _, l := range lists {
		for i := 0; i+1 < len(l); i += 2 {
			if j, ok := at[l[i]]; ok {
				out[j+1] = l[i+1]
				continue
			}
			at[l[i]] = len(out)
			out = append(out, l[i], l[i+1])
		}
	}
	return out
}

// LoadTime is how long loading the model into the first decoder took.
func (r *Recognizer) LoadTime() time.Duration { return r.loadTime }

// errOptions is a decoder option the library does not accept.
var errOptions = errors.New("pocketsphinx rejected the decoder options")

func (r *Recognizer) newDecoder() (*decoder, error) {
	argv := newCStrings(r.args)
	cfg := r.lib.cmdLnParseR(0, r.lib.psArgs(), int32(len(r.args)), &argv.ptrs[0], 1)
	if cfg == 0 {
		return nil, errOptions
	}
	ps := r.lib.psInit(cfg)
	if ps == 0 {
		r.lib.cmdLnFreeR(cfg)
		return nil, errors.New("pocketsphinx could not load the model")
	}
	d := &decoder{ps: ps, cfg: cfg, argv: argv, lmath: r.lib.psGetLogmath(ps)}
	r.mu.Lock()
	r.all = append(r.all, d)
	r.mu.Unlock()
	return d, nil
}

// Languages implements asr.Recognizer.
func (r *Recognizer) Languages() []string { return []string{"en-US"} }

// acquire takes an idle decoder, or makes one while under the pool size.
func (r *Recognizer) acquire(ctx context.Context) (*decoder, error) {
	select {
	case d := <-r.pool:
		return d, nil
	default:
	}
	select {
	case d := <-r.pool:
		return d, nil
	case r.sem <- struct{}{}:
		d, err := r.newDecoder()
		if err != nil {
			<-r.sem
			return nil, fmt.Errorf("sphinx: new decoder: %w", err)
		}
		return d, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Recognize implements asr.Recognizer. Audio at any rate is resampled to
// 16 kHz; the context is checked between utterances.
func (r *Recognizer) Recognize(ctx context.Context, a asr.Audio, language string) (*asr.Result, error) {
	if !supported(language) {
		return nil, fmt.Errorf("sphinx: %q: %w", language, asr.ErrLanguage)
	}
	if a.SampleRate <= 0 {
		return nil, errors.New("sphinx: audio has no sample rate")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pcm := resample(a.Samples, a.SampleRate, SampleRate)
	spans := segmentSpeech(pcm)
	res := &asr.Result{Language: "en-US", Duration: a.Duration(), Segments: []asr.Segment{}}
	if len(spans) == 0 {
		return res, nil
	}
	d, err := r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { r.pool <- d }()
	for _, sp := range spans {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seg, err := r.decode(d, pcm[sp.start:sp.end], float64(sp.start)/SampleRate)
		if err != nil {
			return nil, err
		}
		if seg != nil {
			res.Segments = append(res.Segments, *seg)
		}
	}
	return res, nil
}

// supported reports whether language is US English (or unspecified English).
func supported(language string) bool {
	switch strings.ToLower(language) {
	case "", "en", "en-us":
		return true
	}
	return false
}

// decode recognises one utterance that starts offset seconds into the audio.
func (r *Recognizer) decode(d *decoder, pcm []int16, offset float64) (*asr.Segment, error) {
	l := r.lib
	if l.psStartUtt(d.ps) < 0 {
		return nil, errors.New("sphinx: start utterance failed")
	}
	if l.psProcessRaw(d.ps, &pcm[0], uintptr(len(pcm)), 0, 1) < 0 {
		l.psEndUtt(d.ps)
		return nil, errors.New("sphinx: processing audio failed")
	}
	if l.psEndUtt(d.ps) < 0 {
		return nil, errors.New("sphinx: end utterance failed")
	}
	nFrames := int(l.psGetNFrames(d.ps))
	base := d.fed
	d.fed += nFrames
	maxT := float64(len(pcm)) / SampleRate

	type raw struct {
		word   string
		sf, ef int
		post   int32
	}
	var raws []raw
	cumulative := true
	for it := l.psSegIter(d.ps); it != 0; it = l.psSegNext(it) {
		w, ok := cleanWord(l.psSegWord(it))
		if !ok {
			continue
		}
		var sf, ef, ascr, lscr, lback int32
		l.psSegFrames(it, &sf, &ef)
		post := l.psSegProb(it, &ascr, &lscr, &lback)
		raws = append(raws, raw{w, int(sf), int(ef), post})
		cumulative = cumulative && int(sf) >= base
	}
	// With whole-utterance decoding and -remove_silence no, frame numbers
	// count from the utterance's first sample. Should a library build count
	// on from earlier utterances instead, a word ending past this
	// utterance's frames gives it away: rebase them all.
	if n := len(raws); n == 0 || base == 0 || raws[n-1].ef < nFrames {
		cumulative = false
	}
	words := make([]asr.Word, 0, len(raws))
	for _, rw := range raws {
		s, e := rw.sf, rw.ef
		if cumulative {
			s, e = s-base, e-base
		}
		start := math.Min(float64(s)/framesPerSecond, maxT)
		end := math.Min(float64(e+1)/framesPerSecond, maxT)
		conf := l.logmathExp(d.lmath, rw.post)
		if math.IsNaN(conf) || conf < 0 {
			conf = 0
		} else if conf > 1 {
			conf = 1
		}
		words = append(words, asr.Word{Word: rw.word, Start: offset + start, End: offset + end, Confidence: conf})
	}
	if len(words) == 0 {
		return nil, nil
	}
	seg := &asr.Segment{Start: words[0].Start, End: words[len(words)-1].End, Words: words}
	texts := make([]string, len(words))
	var sum float64
	for i, w := range words {
		texts[i] = w.Word
		sum += w.Confidence
	}
	seg.Text = strings.Join(texts, " ")
	seg.Confidence = sum / float64(len(words))
	return seg, nil
}

var altPron = regexp.MustCompile(`\(\d+\)$`)

// cleanWord drops fillers (<s>, </s>, <sil>, [NOISE], ++BREATH++) and strips
// alternative-pronunciation marks ("read(2)" → "read").
func cleanWord(w string) (string, bool) {
	if w == "" || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "++") {
		return "", false
	}
	w = altPron.ReplaceAllString(w, "")
	return w, w != ""
}

// Close frees the decoders. Calls in flight must have returned.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for _, d := range r.all {
		r.lib.psFree(d.ps)
		r.lib.cmdLnFreeR(d.cfg)
	}
	r.all = nil
	return nil
}

var _ asr.Recognizer = (*Recognizer)(nil)
