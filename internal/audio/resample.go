package audio

import "math"

// Resampler parameters: the filter's cut-off is resampleCutoff times the
// lower of the two sample rates (0.45 → 7.2 kHz at 16 kHz), and the Blackman-windowed sinc spans
// resampleZeros zero crossings either side. The transition band then lies
// between about 6.4 and 8 kHz when converting to 16 kHz, with ≥ 70 dB of
// stop-band rejection.
const (
	resampleCutoff = 0.45
	resampleZeros  = 24
	maxPhaseTable  = 4096
)

// Resample converts samples from one rate to another with a band-limited
// (Blackman-windowed sinc) polyphase filter, in both directions: when
// downsampling it low-passes below the new Nyquist frequency before
// decimating; when upsampling (e.g. 8 → 16 kHz) it interpolates with the
// same kernel rather than linearly. The output has ⌈len·to/from⌉ samples.
// It returns nil when either rate is not positive, a copy when they are equal.
func Resample(samples []int16, from, to int) []int16 {
	if from <= 0 || to <= 0 {
		return nil
	}
	if from == to {
		return append([]int16(nil), samples...)
	}
	g := gcd(from, to)
	up, down := to/g, from/g // output n sits at input time n·down/up
	outLen := int((int64(len(samples))*int64(up) + int64(down) - 1) / int64(down))
	out := make([]int16, outLen)

	// Cut-off in cycles per input sample, and the kernel's half-width in input samples.
	fc := resampleCutoff * float64(min(from, to)) / float64(from)
	half := resampleZeros / (2 * fc)
	taps := int(math.Ceil(half))
	kernel := func(x float64) float64 { // x in input samples from the output instant
		if x <= -half || x >= half {
			return 0
		}
		w := 0.42 + 0.5*math.Cos(math.Pi*x/half) + 0.08*math.Cos(2*math.Pi*x/half)
		if x == 0 {
			return 2 * fc * w
		}
		a := 2 * math.Pi * fc * x
		return 2 * fc * math.Sin(a) / a * w
	}

	// Per phase p (fraction p/up of an input sample), weights for input
	// offsets j = -taps+1 … taps relative to the integer part.
	width := 2 * taps
	var table []float64
	if up <= maxPhaseTable {
		table = make([]float64, up*width)
		for p := range up {
			frac := float64(p) / float64(up)
			for k := range width {
				table[p*width+k] = kernel(frac - float64(k-taps+1))
			}
		}
	}
	w := make([]float64, width)
	for n := range out {
		pos := int64(n) * int64(down)
		base, p := int(pos/int64(up)), int(pos%int64(up))
		if table != nil {
			copy(w, table[p*width:(p+1)*width])
		} else {
			frac := float64(p) / float64(up)
			for k := range w {
				w[k] = kernel(frac - float64(k-taps+1))
			}
		}
		var acc float64
		start := base - taps + 1
		for k, wk := range w {
			if i := start + k; i >= 0 && i < len(samples) {
				acc += wk * float64(samples[i])
			}
		}
		out[n] = clamp16(acc)
	}
	return out
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
