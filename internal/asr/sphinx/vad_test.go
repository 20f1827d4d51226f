package sphinx

import (
	"math"
	"math/rand/v2"
	"testing"
)

// burst is noise at amplitude 30 with 300 Hz tone bursts of amplitude 8000
// at the given [start, end) seconds.
func burst(seconds float64, tones ...[2]float64) []int16 {
	rng := rand.New(rand.NewPCG(1, 2))
	s := make([]int16, int(seconds*SampleRate))
	for i := range s {
		s[i] = int16(rng.NormFloat64() * 30)
	}
	for _, tn := range tones {
		for i := int(tn[0] * SampleRate); i < int(tn[1]*SampleRate); i++ {
			s[i] += int16(8000 * math.Sin(2*math.Pi*300*float64(i)/SampleRate))
		}
	}
	return s
}

// TestSegmentSpeech splits at long pauses, bridges short ones, drops clicks,
// and pads each segment without overlapping its neighbour.
func TestSegmentSpeech(t *testing.T) {
	s := burst(8, [2]float64{1, 2}, [2]float64{2.2, 3}, [2]float64{4, 5}, [2]float64{6, 6.05})
	got := segmentSpeech(s)
	if len(got) != 2 {
		t.Fatalf("%d segments %v, want 2 (1–3 s with a 0.2 s pause bridged, 4–5 s; the 50 ms click dropped)", len(got), got)
	}
	sec := func(n int) float64 { return float64(n) / SampleRate }
	if a, b := sec(got[0].start), sec(got[0].end); a < 0.7 || a > 1 || b < 3 || b > 3.3 {
		t.Errorf("first segment %.2f–%.2f, want ≈0.8–3.25", a, b)
	}
	if a, b := sec(got[1].start), sec(got[1].end); a < 3.5 || a > 4 || b < 5 || b > 5.3 || a < sec(got[0].end) {
		t.Errorf("second segment %.2f–%.2f, want ≈3.8–5.25", a, b)
	}
	if segmentSpeech(burst(3)) != nil {
		t.Error("noise alone gave speech")
	}
}

// TestSegmentSpeechLong cuts 49 s of unbroken syllables (a tone modulated
// at 4 Hz, as dense as speech gets) into pieces of at most maxSegment frames
// that together cover it.
func TestSegmentSpeechLong(t *testing.T) {
	s := make([]int16, 50*SampleRate)
	for i := SampleRate / 2; i < len(s)-SampleRate/2; i++ {
		x := float64(i) / SampleRate
		s[i] = int16(8000 * math.Abs(math.Sin(2*math.Pi*2*x)) * math.Sin(2*math.Pi*300*x))
	}
	got := segmentSpeech(s)
	if len(got) < 3 {
		t.Fatalf("%d segments for 49 s of speech", len(got))
	}
	for i, g := range got {
		if g.end-g.start > (maxSegment+padBefore+padAfter)*frameLen {
			t.Errorf("segment %d is %d samples", i, g.end-g.start)
		}
		if i > 0 && g.start != got[i-1].end {
			t.Errorf("gap or overlap between segments %d and %d", i-1, i)
		}
	}
}
