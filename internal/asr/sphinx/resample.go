package sphinx

import "math"

// resample converts mono PCM from rate in to rate out with a Blackman-windowed
// sinc low-pass (cut-off just under the lower Nyquist frequency, 16 zero
// crossings a side), normalised per output sample so gain is exactly one.
// The kernel depends only on the output sample's phase against the input,
// which repeats every out/gcd(in, out) samples: it is computed once per phase.
func resample(s []int16, in, out int) []int16 {
	if in == out || len(s) == 0 || in <= 0 || out <= 0 {
		return s
	}
	g := gcd(in, out)
	step, phases := in/g, out/g // output sample i sits at input i*step/phases
	scale := math.Min(1, float64(out)/float64(in))
	fc := 0.5 * scale * 0.94 // cut-off in cycles per input sample
	half := math.Ceil(16 / scale)
	taps := 2 * int(half)
	var table [][]float64 // per phase: weights for input lo … lo+taps-1
	if phases <= 4096 {
		table = make([][]float64, phases)
	}
	kernel := func(frac float64) []float64 {
		w := make([]float64, taps)
		var sum float64
		for t := range w {
			d := frac + half - 1 - float64(t) // distance from x to input lo+t
			w[t] = blackman(d/half) * sinc(2*fc*d)
			sum += w[t]
		}
		for t := range w {
			w[t] /= sum
		}
		return w
	}
	n := int(int64(len(s)) * int64(out) / int64(in))
	dst := make([]int16, n)
	for i := range dst {
		num := int64(i) * int64(step)
		k0 := int(num / int64(phases)) // floor(x)
		ph := int(num % int64(phases))
		var w []float64
		if table != nil {
			if table[ph] == nil {
				table[ph] = kernel(float64(ph) / float64(phases))
			}
			w = table[ph]
		} else {
			w = kernel(float64(ph) / float64(phases))
		}
		lo := k0 - int(half) + 1
		var acc float64
		if lo >= 0 && lo+taps <= len(s) {
			for t, v := range s[lo : lo+taps] {
				acc += w[t] * float64(v)
			}
		} else {
			for t := range w {
				if k := lo + t; k >= 0 && k < len(s) {
					acc += w[t] * float64(s[k])
				}
			}
		}
		dst[i] = clamp16(acc)
	}
	return dst
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window on t ∈ [-1, 1], zero outside.
func blackman(t float64) float64 {
	if t <= -1 || t >= 1 {
		return 0
	}
	u := (t + 1) / 2
	return 0.42 - 0.5*math.Cos(2*math.Pi*u) + 0.08*math.Cos(4*math.Pi*u)
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
