package audio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Probe reads from the header what Decode decodes, and refuses what Decode
// refuses before decoding: a duration beyond the limit, garbage.
func TestProbe(t *testing.T) {
	wav := EncodeWAV(&Decoded{SampleRate: 8000, Channels: [][]int16{make([]int16, 16000), make([]int16, 16000)}})
	inputs := map[string][]byte{"wav": wav}
	for _, name := range []string{"tone-mono.mp3", "tone-stereo.mp3", "tone.flac"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		inputs[name] = b
	}
	for name, b := range inputs {
		info, err := Probe(b, "", Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d, err := Decode(b, "", Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if info.SampleRate != d.SampleRate || info.Channels != len(d.Channels) {
			t.Errorf("%s: probed %+v, decoded %d Hz × %d", name, info, d.SampleRate, len(d.Channels))
		}
		if info.Frames >= 0 && info.Frames != int64(len(d.Channels[0])) && info.Format != "flac" {
			t.Errorf("%s: probed %d frames, decoded %d", name, info.Frames, len(d.Channels[0]))
		}
	}
	if _, err := Probe(wav, "", Limits{MaxDuration: 1}); !errors.Is(err, ErrTooLong) {
		t.Errorf("2 s WAV with a 1 s limit: %v", err)
	}
	for _, b := range [][]byte{[]byte("RIFF\x04\x00\x00\x00WAVE"), []byte("ID3\x03\x00\x00\x00\x00\x00\x00junk"), []byte("fLaCjunk"), []byte("OggS")} {
		if _, err := Probe(b, "", Limits{}); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
	if IsAudio([]byte(`{"sentences":[]}`), "application/json") || !IsAudio(wav, "") || !IsAudio([]byte("x"), "audio/mpeg") {
		t.Error("IsAudio")
	}
}
