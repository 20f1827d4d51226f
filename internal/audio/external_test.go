package audio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// These tests compare Decode with files and reference conversions made by
// sox, lame and flite at test time (Debian: sox, libsox-fmt-mp3, lame, flite).

// TestDecodeG711AgainstSox decodes sox-made 8 kHz stereo μ-law and A-law
// WAVs and compares them with sox's own conversion of the same files to
// 16-bit PCM.
func TestDecodeG711AgainstSox(t *testing.T) {
	dir := t.TempDir()
	ref := referenceCall(t, dir)
	for _, enc := range []struct{ sox, format string }{{"mu-law", "wav/mulaw"}, {"a-law", "wav/alaw"}} {
		t.Run(enc.sox, func(t *testing.T) {
			g711 := filepath.Join(dir, enc.sox+".wav")
			run(t, "sox", ref, "-r", "8000", "-e", enc.sox, "-b", "8", g711)
			pcm := filepath.Join(dir, enc.sox+"-pcm.wav")
			run(t, "sox", g711, "-e", "signed-integer", "-b", "16", pcm)
			d, want := decodeFile(t, g711), decodeFile(t, pcm)
			if d.Format != enc.format || d.SampleRate != 8000 || len(d.Channels) != 2 {
				t.Fatalf("got %s %d Hz %d channels, want %s 8000 Hz 2 channels", d.Format, d.SampleRate, len(d.Channels), enc.format)
			}
			for c := range d.Channels {
				if len(d.Channels[c]) != len(want.Channels[c]) {
					t.Fatalf("channel %d: %d samples, sox has %d", c+1, len(d.Channels[c]), len(want.Channels[c]))
				}
				if m := maxAbsDiff(d.Channels[c], want.Channels[c]); m > 0 {
					t.Errorf("channel %d: max abs difference from sox %d, want 0", c+1, m)
				}
			}
		})
	}
}

// TestDecodeWAVEncodingsAgainstSox covers the PCM and float variants sox
// writes (including WAVE_FORMAT_EXTENSIBLE for 24-bit and float).
func TestDecodeWAVEncodingsAgainstSox(t *testing.T) {
	dir := t.TempDir()
	ref := referenceCall(t, dir)
	want := decodeFile(t, ref)
	for _, v := range []struct {
		name   string
		args   []string
		format string
		tol    int
	}{
		{"pcm8", []string{"-D", "-e", "unsigned-integer", "-b", "8"}, "wav/pcm8", 256},
		{"pcm24", []string{"-e", "signed-integer", "-b", "24"}, "wav/pcm24", 0},
		{"pcm32", []string{"-e", "signed-integer", "-b", "32"}, "wav/pcm32", 0},
		{"float32", []string{"-e", "floating-point", "-b", "32"}, "wav/float32", 1},
		{"float64", []string{"-e", "floating-point", "-b", "64"}, "wav/float64", 1},
	} {
		t.Run(v.name, func(t *testing.T) {
			out := filepath.Join(dir, v.name+".wav")
			run(t, "sox", append(append([]string{ref}, v.args...), out)...)
			d := decodeFile(t, out)
			if d.Format != v.format || d.SampleRate != 16000 || len(d.Channels) != 2 {
				t.Fatalf("got %s %d Hz %d channels", d.Format, d.SampleRate, len(d.Channels))
			}
			for c := range d.Channels {
				if len(d.Channels[c]) != len(want.Channels[c]) {
					t.Fatalf("channel %d: %d samples, want %d", c+1, len(d.Channels[c]), len(want.Channels[c]))
				}
				if m := maxAbsDiff(d.Channels[c], want.Channels[c]); m > v.tol {
					t.Errorf("channel %d: max abs difference %d, want ≤ %d", c+1, m, v.tol)
				}
			}
		})
	}
}

// TestDecodeMP3 decodes lame- and sox-made MP3s (MPEG-1 and MPEG-2, CBR,
// ABR and VBR, stereo and mono) and compares them with the PCM they were
// encoded from: channel count and rate exact, the encoder delay and padding
// removed when a LAME tag records them (then alignment and length are
// exact; without one, 576 samples of delay and under two frames of padding
// remain), and the samples highly correlated.
func TestDecodeMP3(t *testing.T) {
	needTools(t, "lame")
	dir := t.TempDir()
	ref := referenceCall(t, dir)
	for _, v := range []struct {
		name     string
		rate     string
		channels int
		lame     []string // nil: encode with sox (no LAME tag)
		lag      int
		frames   float64 // how many frames longer than the source it may be
	}{
		{"44.1k stereo CBR", "44100", 2, []string{}, 0, 0},
		{"44.1k mono", "44100", 1, []string{"-m", "m"}, 0, 0},
		{"48k stereo VBR", "48000", 2, []string{"-V", "5"}, 0, 0},
		{"22.05k mono ABR (MPEG-2)", "22050", 1, []string{"--abr", "64", "-m", "m"}, 0, 0},
		{"16k stereo (MPEG-2)", "16000", 2, []string{}, 0, 0},
		{"44.1k stereo by sox", "44100", 2, nil, 576, 2},
	} {
		t.Run(v.name, func(t *testing.T) {
			pcm := filepath.Join(dir, "pcm.wav")
			run(t, "sox", ref, "-r", v.rate, "-c", string(rune('0'+v.channels)), pcm)
			mp := filepath.Join(dir, "x.mp3")
			if v.lame == nil {
				needSoxMP3(t)
				run(t, "sox", pcm, mp)
			} else {
				run(t, "lame", append(append([]string{"--quiet"}, v.lame...), pcm, mp)...)
			}
			want, d := decodeFile(t, pcm), decodeFile(t, mp)
			if d.Format != "mp3" || len(d.Channels) != v.channels || d.SampleRate != want.SampleRate {
				t.Fatalf("got %s %d Hz %d channels, want mp3 %d Hz %d channels", d.Format, d.SampleRate, len(d.Channels), want.SampleRate, v.channels)
			}
			if diff := d.Duration() - want.Duration(); diff < 0 || diff > v.frames*1152/float64(d.SampleRate) {
				t.Errorf("duration %.4f s, source %.4f s: want at most %v frames longer", d.Duration(), want.Duration(), v.frames)
			}
			for c := range d.Channels {
				lag, corr := bestLag(want.Channels[c], d.Channels[c], 2400)
				if lag != v.lag || corr < 0.99 {
					t.Errorf("channel %d: lag %d (want %d), correlation %.4f (want ≥ 0.99)", c+1, lag, v.lag, corr)
				}
			}
		})
	}
}

// TestDecodeMP3MPEG25Refused: go-mp3 lacks MPEG-2.5 (8–12 kHz MP3); such
// files are refused as unsupported rather than misdecoded.
func TestDecodeMP3MPEG25Refused(t *testing.T) {
	needTools(t, "lame")
	dir := t.TempDir()
	ref := referenceCall(t, dir)
	pcm := filepath.Join(dir, "pcm8k.wav")
	run(t, "sox", ref, "-r", "8000", "-c", "1", pcm)
	mp := filepath.Join(dir, "x.mp3")
	run(t, "lame", "--quiet", pcm, mp)
	b, err := os.ReadFile(mp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b, "audio/mpeg", Limits{}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Decode of an 8 kHz MP3 = %v, want ErrUnsupported", err)
	}
}

// TestDecodeFLAC decodes sox-made FLAC (16- and 24-bit) and compares it
// sample for sample with the source.
func TestDecodeFLAC(t *testing.T) {
	dir := t.TempDir()
	ref := referenceCall(t, dir)
	want := decodeFile(t, ref)
	for _, bits := range []string{"16", "24"} {
		t.Run(bits, func(t *testing.T) {
			fl := filepath.Join(dir, bits+".flac")
			run(t, "sox", ref, "-b", bits, fl)
			d := decodeFile(t, fl)
			if d.Format != "flac" || d.SampleRate != 16000 || len(d.Channels) != 2 {
				t.Fatalf("got %s %d Hz %d channels", d.Format, d.SampleRate, len(d.Channels))
			}
			for c := range d.Channels {
				if len(d.Channels[c]) != len(want.Channels[c]) {
					t.Fatalf("channel %d: %d samples, want %d", c+1, len(d.Channels[c]), len(want.Channels[c]))
				}
				if m := maxAbsDiff(d.Channels[c], want.Channels[c]); m > 0 {
					t.Errorf("channel %d: max abs difference %d, want 0", c+1, m)
				}
			}
		})
	}
}
