package audio

import (
	"math"
	"testing"
)

func sine(rate, n int, hz, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
	}
	return out
}

func rms(s []int16) float64 {
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(s)))
}

// TestResamplePassband: a tone well inside the pass band comes out at the
// new rate as the same tone, in phase, within 0.5 % RMS error.
func TestResamplePassband(t *testing.T) {
	for _, v := range []struct {
		from, to int
		hz       float64
	}{
		{44100, 16000, 1000}, {48000, 16000, 1000}, {22050, 16000, 3000}, {11025, 16000, 440},
		{8000, 16000, 1000}, {8000, 16000, 3000}, {16000, 8000, 1000}, {47999, 16000, 1000},
	} {
		const amp = 10000
		in := sine(v.from, v.from/2, v.hz, amp)
		out := Resample(in, v.from, v.to)
		if want := (len(in)*v.to + v.from - 1) / v.from; len(out) != want {
			t.Fatalf("%d→%d: %d samples, want %d", v.from, v.to, len(out), want)
		}
		ideal := sine(v.to, len(out), v.hz, amp)
		edge := v.to / 100 // the filter's reach at both ends
		var e float64
		for i := edge; i < len(out)-edge; i++ {
			d := float64(out[i]) - float64(ideal[i])
			e += d * d
		}
		rel := math.Sqrt(e/float64(len(out)-2*edge)) / (amp / math.Sqrt2)
		if rel > 0.005 {
			t.Errorf("%d→%d Hz, %.0f Hz tone: relative RMS error %.4f, want ≤ 0.005", v.from, v.to, v.hz, rel)
		}
	}
}

// TestResampleRejectsAliases: content above the new Nyquist frequency is
// removed before decimation instead of folding into the speech band
// (plain decimation or linear interpolation would let it through).
func TestResampleRejectsAliases(t *testing.T) {
	for _, v := range []struct {
		from, to int
		hz       float64
	}{
		{44100, 16000, 10000}, {44100, 16000, 15000}, {48000, 16000, 9000}, {48000, 16000, 20000}, {16000, 8000, 5000},
	} {
		const amp = 10000
		out := Resample(sine(v.from, v.from/2, v.hz, amp), v.from, v.to)
		edge := v.to / 100
		level := 20 * math.Log10(rms(out[edge:len(out)-edge])/(amp/math.Sqrt2))
		if level > -60 {
			t.Errorf("%d→%d Hz, %.0f Hz tone: %.1f dB left, want ≤ -60 dB", v.from, v.to, v.hz, level)
		}
	}
}

func TestResampleEdges(t *testing.T) {
	if got := Resample([]int16{1, 2, 3}, 0, 16000); got != nil {
		t.Errorf("rate 0: %v, want nil", got)
	}
	in := []int16{1, 2, 3}
	got := Resample(in, 16000, 16000)
	got[0] = 9
	if in[0] != 1 || len(got) != 3 {
		t.Errorf("same rate must return a copy")
	}
	if got := Resample(nil, 44100, 16000); len(got) != 0 {
		t.Errorf("empty input: %d samples", len(got))
	}
	// Full-scale square waves saturate instead of wrapping around.
	sq := make([]int16, 4410)
	for i := range sq {
		sq[i] = 32767
		if i/50%2 == 1 {
			sq[i] = -32768
		}
	}
	for n, s := range Resample(sq, 44100, 16000) {
		pos := float64(n) * 44100 / 16000
		if d := math.Mod(pos, 50); d < 10 || d > 40 || pos > 4400 {
			continue // near an edge, where ringing is expected
		}
		if (s > 0) != (sq[int(pos)] > 0) {
			t.Fatalf("output %d: %d, input there %d: wrapped around", n, s, sq[int(pos)])
		}
	}
}
