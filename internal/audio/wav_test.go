package audio

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// wavSpec describes a synthetic WAV file built by makeWAV.
type wavSpec struct {
	tag        uint16 // WAVE format tag written in the fmt chunk
	extensible bool   // write WAVE_FORMAT_EXTENSIBLE with tag as sub-format
	channels   int
	rate       int
	bits       int
	payload    []byte // interleaved sample bytes
	list       bool   // an odd-sized LIST chunk before "fmt "
	dataSize   int64  // -1: the true size; otherwise written as is
	truncate   int    // bytes cut from the end of the file
	rf64       bool
}

func makeWAV(s wavSpec) []byte {
	le16 := func(v int) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
	le32 := func(v int64) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	var body []byte
	if s.list {
		info := []byte("INFOISFT\x05\x00\x00\x00lavf\x00") // 17 bytes: odd, padded
		body = append(body, "LIST"...)
		body = append(body, le32(int64(len(info)))...)
		body = append(body, info...)
		body = append(body, 0)
	}
	container := (s.bits + 7) / 8
	fmtTag := s.tag
	if s.extensible {
		fmtTag = waveExtensible
	}
	fmtc := append(le16(int(fmtTag)), le16(s.channels)...)
	fmtc = append(fmtc, le32(int64(s.rate))...)
	fmtc = append(fmtc, le32(int64(s.rate*s.channels*container))...)
	fmtc = append(fmtc, le16(s.channels*container)...)
	fmtc = append(fmtc, le16(s.bits)...)
	if s.extensible {
		fmtc = append(fmtc, le16(22)...)
		fmtc = append(fmtc, le16(s.bits)...)
		fmtc = append(fmtc, le32(3)...)
		fmtc = append(fmtc, le16(int(s.tag))...)
		fmtc = append(fmtc, "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71"...)
	}
	body = append(body, "fmt "...)
	body = append(body, le32(int64(len(fmtc)))...)
	body = append(body, fmtc...)
	body = append(body, "data"...)
	size := s.dataSize
	if size < 0 {
		size = int64(len(s.payload))
	}
	body = append(body, le32(size)...)
	body = append(body, s.payload...)
	if s.dataSize < 0 && len(s.payload)%2 == 1 {
		body = append(body, 0)
	}
	magic := "RIFF"
	if s.rf64 {
		magic = "RF64"
	}
	out := append([]byte(magic), le32(int64(4+len(body)))...)
	out = append(out, "WAVE"...)
	out = append(out, body...)
	return out[:len(out)-s.truncate]
}

// tone is frames of a sine at hz, amplitude amp, per channel (channel c gets
// frequency hz·(c+1) so channels differ).
func tone(channels, rate, frames int, hz, amp float64) [][]int16 {
	out := make([][]int16, channels)
	for c := range out {
		out[c] = make([]int16, frames)
		for i := range frames {
			out[c][i] = int16(amp * math.Sin(2*math.Pi*hz*float64(c+1)*float64(i)/float64(rate)))
		}
	}
	return out
}

// interleave packs channels as little-endian samples of size bytes holding
// the 16-bit value in the top bytes.
func interleave(ch [][]int16, size int) []byte {
	var b []byte
	for i := range ch[0] {
		for c := range ch {
			v := uint32(uint16(ch[c][i])) << (8*size - 16)
			for k := range size {
				b = append(b, byte(v>>(8*k)))
			}
		}
	}
	return b
}

func TestDecodeWAVVariants(t *testing.T) {
	ref := tone(2, 8000, 800, 440, 12000)
	mono := tone(1, 16000, 1601, 300, 20000)
	pcm16 := interleave(ref, 2)
	// G.711 code words and their values from the standard's tables.
	ulaw := []byte{0xFF, 0x80, 0x00, 0x7F, 0xEF, 0x6F}
	ulawWant := []int16{0, 32124, -32124, 0, 132, -132}
	alaw := []byte{0xD5, 0x55, 0xAA, 0x2A, 0xC5, 0x45}
	alawWant := []int16{8, -8, 32256, -32256, 264, -264}
	f32 := func(ch [][]int16) []byte {
		var b []byte
		for i := range ch[0] {
			for c := range ch {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(ch[c][i])/32768))
			}
		}
		return b
	}
	u8 := make([]byte, len(mono[0]))
	u8Want := make([]int16, len(mono[0]))
	for i, s := range mono[0] {
		u8[i] = byte(int(s>>8) + 128)
		u8Want[i] = int16(int(s>>8) << 8)
	}
	cases := []struct {
		name   string
		spec   wavSpec
		format string
		want   [][]int16
	}{
		{"pcm16 stereo", wavSpec{tag: wavePCM, channels: 2, rate: 8000, bits: 16, payload: pcm16, dataSize: -1}, "wav/pcm16", ref},
		{"pcm16 mono odd length with LIST", wavSpec{tag: wavePCM, channels: 1, rate: 16000, bits: 16, payload: interleave(mono, 2), dataSize: -1, list: true}, "wav/pcm16", mono},
		{"pcm16 extensible", wavSpec{tag: wavePCM, extensible: true, channels: 2, rate: 8000, bits: 16, payload: pcm16, dataSize: -1}, "wav/pcm16", ref},
		{"pcm24", wavSpec{tag: wavePCM, channels: 2, rate: 8000, bits: 24, payload: interleave(ref, 3), dataSize: -1}, "wav/pcm24", ref},
		{"pcm32 extensible", wavSpec{tag: wavePCM, extensible: true, channels: 2, rate: 8000, bits: 32, payload: interleave(ref, 4), dataSize: -1}, "wav/pcm32", ref},
		{"pcm8 unsigned", wavSpec{tag: wavePCM, channels: 1, rate: 16000, bits: 8, payload: u8, dataSize: -1}, "wav/pcm8", [][]int16{u8Want}},
		{"float32", wavSpec{tag: waveFloat, channels: 2, rate: 8000, bits: 32, payload: f32(ref), dataSize: -1}, "wav/float32", ref},
		{"mulaw", wavSpec{tag: waveMuLaw, channels: 1, rate: 8000, bits: 8, payload: ulaw, dataSize: -1}, "wav/mulaw", [][]int16{ulawWant}},
		{"mulaw stereo extensible", wavSpec{tag: waveMuLaw, extensible: true, channels: 2, rate: 8000, bits: 8, payload: ulaw, dataSize: -1}, "wav/mulaw",
			[][]int16{{ulawWant[0], ulawWant[2], ulawWant[4]}, {ulawWant[1], ulawWant[3], ulawWant[5]}}},
		{"alaw", wavSpec{tag: waveALaw, channels: 1, rate: 8000, bits: 8, payload: alaw, dataSize: -1}, "wav/alaw", [][]int16{alawWant}},
		{"streamed size 0", wavSpec{tag: wavePCM, channels: 2, rate: 8000, bits: 16, payload: pcm16, dataSize: 0}, "wav/pcm16", ref},
		{"streamed size 0xFFFFFFFF RF64", wavSpec{tag: wavePCM, channels: 2, rate: 8000, bits: 16, payload: pcm16, dataSize: 0xFFFFFFFF, rf64: true}, "wav/pcm16", ref},
		{"truncated mid-frame", wavSpec{tag: wavePCM, channels: 2, rate: 8000, bits: 16, payload: pcm16, dataSize: -1, truncate: 4*100 + 3}, "wav/pcm16",
			[][]int16{ref[0][:699], ref[1][:699]}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decode(makeWAV(tc.spec), "audio/wav", Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if d.Format != tc.format || d.SampleRate != tc.spec.rate || len(d.Channels) != len(tc.want) {
				t.Fatalf("got %s %d Hz %d channels, want %s %d Hz %d channels", d.Format, d.SampleRate, len(d.Channels), tc.format, tc.spec.rate, len(tc.want))
			}
			for c := range tc.want {
				if len(d.Channels[c]) != len(tc.want[c]) {
					t.Fatalf("channel %d: %d samples, want %d", c+1, len(d.Channels[c]), len(tc.want[c]))
				}
				for i, w := range tc.want[c] {
					if diff := int(d.Channels[c][i]) - int(w); diff > 1 || diff < -1 {
						t.Fatalf("channel %d sample %d: %d, want %d", c+1, i, d.Channels[c][i], w)
					}
				}
			}
			if got, want := d.Duration(), float64(len(tc.want[0]))/float64(tc.spec.rate); got != want {
				t.Errorf("Duration %v, want %v", got, want)
			}
		})
	}
}

func TestDecodeRefusals(t *testing.T) {
	pcm := interleave(tone(2, 8000, 8000, 440, 1000), 2) // 1 s stereo
	wav := func(mod func(*wavSpec)) []byte {
		s := wavSpec{tag: wavePCM, channels: 2, rate: 8000, bits: 16, payload: pcm, dataSize: -1}
		mod(&s)
		return makeWAV(s)
	}
	noFmt := []byte("RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00")
	cases := []struct {
		name string
		data []byte
		ct   string
		lim  Limits
		want error
	}{
		{"bytes", wav(func(*wavSpec) {}), "", Limits{MaxBytes: 1000}, ErrTooLarge},
		{"duration from header", wav(func(*wavSpec) {}), "", Limits{MaxDuration: 0.5}, ErrTooLong},
		{"channels", wav(func(s *wavSpec) { s.channels = 4; s.payload = pcm[:len(pcm)/2] }), "", Limits{}, ErrUnsupported},
		{"mono only", wav(func(*wavSpec) {}), "", Limits{MaxChannels: 1}, ErrUnsupported},
		{"rate 96 kHz", wav(func(s *wavSpec) { s.rate = 96000 }), "", Limits{}, ErrUnsupported},
		{"rate 4 kHz", wav(func(s *wavSpec) { s.rate = 4000 }), "", Limits{}, ErrUnsupported},
		{"mp3 in wav", wav(func(s *wavSpec) { s.tag = 0x55 }), "", Limits{}, ErrUnsupported},
		{"ima adpcm", wav(func(s *wavSpec) { s.tag = 0x11; s.bits = 4 }), "", Limits{}, ErrUnsupported},
		{"mulaw 16-bit", wav(func(s *wavSpec) { s.tag = waveMuLaw }), "", Limits{}, ErrUnsupported},
		{"zero channels", wav(func(s *wavSpec) { s.channels = 0 }), "", Limits{}, ErrInvalid},
		{"no fmt", noFmt, "", Limits{}, ErrInvalid},
		{"truncated fmt", wav(func(*wavSpec) {})[:30], "", Limits{}, ErrInvalid},
		{"no data", wav(func(*wavSpec) {})[:36], "", Limits{}, ErrInvalid},
		{"empty data", wav(func(s *wavSpec) { s.payload = nil }), "", Limits{}, ErrInvalid},
		{"ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead"), "audio/ogg", Limits{}, ErrUnsupported},
		{"unknown", []byte("%PDF-1.7 not audio at all"), "audio/wav", Limits{}, ErrUnsupported},
		{"empty", nil, "", Limits{}, ErrUnsupported},
		{"mp3 content type, no frames", []byte("secret-words-here no mpeg frames"), "audio/mpeg", Limits{}, ErrInvalid},
		{"flac signature only", []byte("fLaC\x00\x00"), "", Limits{}, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decode(tc.data, tc.ct, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, %v; want an error wrapping %q", d, err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error quotes the input: %v", err)
			}
		})
	}
}

// TestDecodeWAVChunkOrder: chunks in any order, unknown and odd-sized chunks
// skipped with their pad byte, trailing chunks not taken for audio.
func TestDecodeWAVChunkOrder(t *testing.T) {
	chunk := func(id string, body []byte) []byte {
		b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
		b = append(b, body...)
		if len(body)%2 == 1 {
			b = append(b, 0)
		}
		return b
	}
	riff := func(chunks ...[]byte) []byte {
		var body []byte
		for _, c := range chunks {
			body = append(body, c...)
		}
		out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
		return append(append(out, "WAVE"...), body...)
	}
	fmtc := chunk("fmt ", []byte{1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0}) // PCM mono 8 kHz 16-bit
	data := chunk("data", []byte{1, 0, 2, 0, 3, 0, 0xff, 0xff})
	want := []int16{1, 2, 3, -1}
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"fmt after data", riff(data, fmtc)},
		{"odd junk chunk first", riff(chunk("junk", []byte{9, 9, 9}), fmtc, data)},
		{"LIST after data", riff(fmtc, data, chunk("LIST", []byte("INFOICMTsecret words\x00")))},
		{"fact and cue chunks", riff(chunk("fact", []byte{4, 0, 0, 0}), fmtc, chunk("cue ", nil), data)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decode(tc.file, "", Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if d.SampleRate != 8000 || len(d.Channels) != 1 || !slices.Equal(d.Channels[0], want) {
				t.Fatalf("got %d Hz %d channels %v, want 8000 Hz 1 channel %v", d.SampleRate, len(d.Channels), d.Channels, want)
			}
		})
	}
}
