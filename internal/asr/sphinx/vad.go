package sphinx

import (
	"math"
	"sort"
)

// VAD tuning, in 10 ms frames at 16 kHz.
const (
	frameLen    = 160 // samples per 10 ms frame
	minOnset    = 3   // consecutive loud frames that start speech
	minGap      = 35  // a pause at least this long splits segments
	padBefore   = 20  // frames of context kept before speech
	padAfter    = 25  // and after it
	minSpeech   = 10  // shorter bursts are clicks, not words
	maxSegment  = 2000
	minThreshDB = 6.0 // threshold at least this far above the noise floor
)

// span is a half-open range of samples.
type span struct{ start, end int }

// segmentSpeech finds the stretches of speech in 16 kHz mono PCM by frame
// energy against a threshold set between the noise floor (10th percentile)
// and the speech level (97th percentile), with pauses shorter than minGap
// bridged and some context kept around each stretch.
func segmentSpeech(s []int16) []span {
	nf := len(s) / frameLen
	if nf == 0 {
		return nil
	}
	db := make([]float64, nf)
	for f := range db {
		var e float64
		for _, v := range s[f*frameLen : (f+1)*frameLen] {
			e += float64(v) * float64(v)
		}
		db[f] = 10 * math.Log10(e/frameLen+1)
	}
	sorted := append([]float64(nil), db...)
	sort.Float64s(sorted)
	floor := sorted[nf/10]
	peak := sorted[nf*97/100]
	thr := floor + math.Max(minThreshDB, 0.3*(peak-floor))
	if peak < 25 { // nothing louder than an rms of ~18: no speech at all
		return nil
	}

	// Raw speech runs: minOnset loud frames start one; minGap quiet ones end it.
	var runs []span
	inSpeech, start, quiet, loud := false, 0, 0, 0
	for f, v := range db {
		if v >= thr {
			loud++
			quiet = 0
			if !inSpeech && loud >= minOnset {
				inSpeech, start = true, f-loud+1
			}
			continue
		}
		loud = 0
		if inSpeech {
			quiet++
			if quiet >= minGap {
				runs = append(runs, span{start, f - quiet + 1})
				inSpeech, quiet = false, 0
			}
		}
	}
	if inSpeech {
		runs = append(runs, span{start, nf - quiet})
	}

	var out []span
	for _, r := range runs {
		if r.end-r.start < minSpeech {
			continue
		}
		out = append(out, splitLong(db, r)...)
	}
	// Pad with context, never overlapping a neighbour, then convert to samples.
	for i := range out {
		st := out[i].start - padBefore
		if st < 0 {
			st = 0
		}
		if i > 0 && st < out[i-1].end {
			st = out[i-1].end
		}
		en := out[i].end + padAfter
		if en > nf {
			en = nf
		}
		if i+1 < len(out) {
			mid := (out[i].end + out[i+1].start) / 2
			if en > mid {
				en = mid
			}
		}
		out[i] = span{st, en}
	}
	for i := range out {
		out[i].start *= frameLen
		out[i].end *= frameLen
	}
	if len(out) > 0 && out[len(out)-1].end == nf*frameLen {
		out[len(out)-1].end = len(s) // keep the partial last frame
	}
	return out
}

// splitLong cuts a run longer than maxSegment at its quietest frame in the
// second half of each window, so a decoder never gets an unbounded utterance.
func splitLong(db []float64, r span) []span {
	var out []span
	for r.end-r.start > maxSegment {
		cut, lo := r.start+maxSegment/2, math.Inf(1)
		for f := r.start + maxSegment/2; f < r.start+maxSegment; f++ {
			if db[f] < lo {
				cut, lo = f, db[f]
			}
		}
		out = append(out, span{r.start, cut})
		r.start = cut
	}
	return append(out, r)
}
