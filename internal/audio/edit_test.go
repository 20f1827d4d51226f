package audio

import (
	"math"
	"slices"
	"testing"
)

func TestEncodeWAVRoundTrip(t *testing.T) {
	for _, channels := range []int{1, 2} {
		d := &Decoded{SampleRate: 8000, Channels: tone(channels, 8000, 1001, 700, 30000)}
		d.Channels[0][0], d.Channels[0][1] = -32768, 32767
		got, err := Decode(EncodeWAV(d), "", Limits{})
		if err != nil {
			t.Fatalf("%d channels: Decode(EncodeWAV): %v", channels, err)
		}
		if got.SampleRate != 8000 || got.Format != "wav/pcm16" || len(got.Channels) != channels {
			t.Fatalf("%d channels: got %s %d Hz %d channels", channels, got.Format, got.SampleRate, len(got.Channels))
		}
		for c := range d.Channels {
			if !slices.Equal(got.Channels[c], d.Channels[c]) {
				t.Errorf("%d channels: channel %d differs after a round trip", channels, c+1)
			}
		}
	}
}

func TestSilence(t *testing.T) {
	fresh := func() *Decoded {
		return &Decoded{SampleRate: 8000, Channels: tone(2, 8000, 8000, 440, 10000)}
	}
	// zeroed reports, per channel, the range of zeroed samples that were not zero before.
	zeroed := func(before, after *Decoded) [][2]int {
		var out [][2]int
		for c := range after.Channels {
			lo, hi := -1, -1
			for i, s := range after.Channels[c] {
				if s != before.Channels[c][i] {
					if s != 0 {
						t.Fatalf("channel %d sample %d changed to %d, not silenced", c+1, i, s)
					}
					if lo < 0 {
						lo = i
					}
					hi = i + 1
				}
			}
			out = append(out, [2]int{lo, hi})
		}
		return out
	}
	cases := []struct {
		name     string
		channel  int
		from, to float64
		want     [][2]int // changed [lo, hi) per channel; -1 for none
	}{
		{"channel 2 only", 2, 0.5, 0.75, [][2]int{{-1, -1}, {4000, 6000}}},
		{"all channels", 0, 0.25, 0.5, [][2]int{{2000, 4000}, {2000, 4000}}},
		{"widened to whole samples", 1, 0.10001, 0.19999, [][2]int{{800, 1600}, {-1, -1}}},
		{"clipped to the recording", 1, -3, 99, [][2]int{{0, 8000}, {-1, -1}}},
		{"channel out of range", 3, 0, 1, [][2]int{{-1, -1}, {-1, -1}}},
		{"empty range", 1, 0.5, 0.5, [][2]int{{-1, -1}, {-1, -1}}},
		{"reversed range", 1, 0.6, 0.5, [][2]int{{-1, -1}, {-1, -1}}},
		{"NaN", 1, math.NaN(), 0.5, [][2]int{{-1, -1}, {-1, -1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, d := fresh(), fresh()
			Silence(d, tc.channel, tc.from, tc.to)
			got := zeroed(before, d)
			for c := range tc.want {
				lo, hi := got[c][0], got[c][1]
				w := tc.want[c]
				// A sine crosses zero: samples already 0 do not show as changed.
				if w[0] < 0 {
					if lo >= 0 {
						t.Errorf("channel %d: samples [%d, %d) changed, want none", c+1, lo, hi)
					}
					continue
				}
				if lo < w[0] || lo > w[0]+1 || hi > w[1] || hi < w[1]-1 {
					t.Errorf("channel %d: silenced [%d, %d), want [%d, %d)", c+1, lo, hi, w[0], w[1])
				}
			}
		})
	}
	Silence(nil, 0, 0, 1) // no panic
}
