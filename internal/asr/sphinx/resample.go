package sphinx

import "math"

// resample converts mono PCM from rate in to rate out with a Blackman-windowed
// sinc low-pass (cut-off just under the lower Nyquist frequency, 16 zero
// crossings a side), normalised per output sample so gain is exactly one.
func resample(s []int16, in, out int) []int16 {
	if in == out || len(s) == 0 {
		return s
	}
	ratio := float64(out) / float64(in)
	scale := math.Min(1, ratio)   // <1 when downsampling: widen the kernel
	fc := 0.5 * scale * 0.94      // cut-off in cycles per input sample
	half := math.Ceil(16 / scale) // kernel half-width in input samples
	n := int(math.Floor(float64(len(s)) * ratio))
	dst := make([]int16, n)
	for i := range dst {
		x := float64(i) / ratio // position in input samples
		lo := int(math.Floor(x - half + 1))
		hi := int(math.Floor(x + half))
		var acc, wsum float64
		for k := lo; k <= hi; k++ {
			d := x - float64(k)
			w := blackman(d/half) * sinc(2*fc*d)
			wsum += w
			if k >= 0 && k < len(s) {
				acc += w * float64(s[k])
			}
		}
		if wsum != 0 {
			acc /= wsum
		}
		dst[i] = clamp16(acc)
	}
	return dst
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
