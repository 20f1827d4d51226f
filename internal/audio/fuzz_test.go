package audio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits keep one decode's output under 48 kHz × 2 channels × 30 s × 2
// bytes ≈ 5.8 MB, whatever the input declares.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxDuration: 30, MaxChannels: 2}

// FuzzDecode: any input either decodes into a well-formed recording within
// the limits or fails with one of the sentinel errors; it never panics.
func FuzzDecode(f *testing.F) {
	pcm := interleave(tone(2, 8000, 400, 440, 9000), 2)
	for _, s := range []wavSpec{
		{tag: wavePCM, channels: 2, rate: 8000, bits: 16, payload: pcm, dataSize: -1},
		{tag: wavePCM, channels: 1, rate: 16000, bits: 16, payload: pcm[:301], dataSize: -1, list: true},
		{tag: waveMuLaw, channels: 2, rate: 8000, bits: 8, payload: pcm[:400], dataSize: 0},
		{tag: waveALaw, extensible: true, channels: 1, rate: 8000, bits: 8, payload: pcm[:200], dataSize: 0xFFFFFFFF, rf64: true},
		{tag: wavePCM, channels: 2, rate: 44100, bits: 24, payload: pcm[:600], dataSize: -1, truncate: 7},
		{tag: waveFloat, channels: 1, rate: 48000, bits: 32, payload: pcm[:400], dataSize: -1},
	} {
		f.Add(makeWAV(s), "audio/wav")
	}
	seeds, _ := filepath.Glob("testdata/*.*")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "")
		}
	}
	f.Add([]byte("OggS"), "audio/ogg")
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00"), "audio/mpeg")
	f.Fuzz(func(t *testing.T, data []byte, contentType string) {
		d, err := Decode(data, contentType, fuzzLimits)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLong) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(d.Channels) < 1 || len(d.Channels) > fuzzLimits.MaxChannels {
			t.Fatalf("%d channels", len(d.Channels))
		}
		if d.SampleRate < MinSampleRate || d.SampleRate > MaxSampleRate {
			t.Fatalf("sample rate %d", d.SampleRate)
		}
		for _, ch := range d.Channels {
			if len(ch) != len(d.Channels[0]) || len(ch) == 0 {
				t.Fatalf("channel lengths %d and %d", len(ch), len(d.Channels[0]))
			}
		}
		if d.Duration() > fuzzLimits.MaxDuration {
			t.Fatalf("duration %.1f s beyond the limit", d.Duration())
		}
	})
}

// TestDecodeCommittedSamples decodes the small sox/lame-made tones kept in
// testdata (also the fuzz seeds), so MP3 and FLAC are covered without tools.
func TestDecodeCommittedSamples(t *testing.T) {
	for _, v := range []struct {
		file      string
		format    string
		rate, chs int
		seconds   float64
	}{
		{"tone-stereo.mp3", "mp3", 44100, 2, 0.15},
		{"tone-mono.mp3", "mp3", 16000, 1, 0.15},
		{"tone.flac", "flac", 8000, 2, 0.1},
	} {
		d := decodeFile(t, filepath.Join("testdata", v.file))
		if d.Format != v.format || d.SampleRate != v.rate || len(d.Channels) != v.chs || d.Duration() != v.seconds {
			t.Errorf("%s: got %s %d Hz %d channels %.4f s, want %s %d Hz %d channels %.4f s",
				v.file, d.Format, d.SampleRate, len(d.Channels), d.Duration(), v.format, v.rate, v.chs, v.seconds)
		}
		if r := rms(d.Channels[0]); r < 1000 {
			t.Errorf("%s: channel 1 RMS %.0f, want a tone", v.file, r)
		}
	}
}
