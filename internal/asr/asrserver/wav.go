package asrserver

import (
	"encoding/binary"
	"errors"

	"github.com/convoseal/convoseal/internal/asr"
)

// errAudio is returned for an upload that is not 16-bit PCM WAV.
var errAudio = errors.New("the file must be a WAV of 16-bit PCM, mono or stereo")

// decodeWAV reads a RIFF/WAVE file of 16-bit PCM, mono or stereo (averaged
// to mono). It is deliberately tiny: other formats are the caller's to
// convert.
func decodeWAV(b []byte) (asr.Audio, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return asr.Audio{}, errAudio
	}
	var channels, bits uint16
	var rate uint32
	var haveFmt bool
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size < 0 || size > len(body) {
			if id != "data" {
				return asr.Audio{}, errAudio
			}
			size = len(body) // streamed WAVs leave the data size unset
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return asr.Audio{}, errAudio
			}
			format := binary.LittleEndian.Uint16(body[0:])
			channels = binary.LittleEndian.Uint16(body[2:])
			rate = binary.LittleEndian.Uint32(body[4:])
			bits = binary.LittleEndian.Uint16(body[14:])
			if format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the subformat's first two bytes
				format = binary.LittleEndian.Uint16(body[24:])
			}
			if format != 1 || bits != 16 || (channels != 1 && channels != 2) || rate < 1000 || rate > 192000 {
				return asr.Audio{}, errAudio
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return asr.Audio{}, errAudio
			}
			frame := 2 * int(channels)
			n := len(body) / frame
			a := asr.Audio{SampleRate: int(rate), Samples: make([]int16, n)}
			for i := range n {
				if channels == 1 {
					a.Samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
					continue
				}
				l := int32(int16(binary.LittleEndian.Uint16(body[4*i:])))
				r := int32(int16(binary.LittleEndian.Uint16(body[4*i+2:])))
				a.Samples[i] = int16((l + r) / 2)
			}
			return a, nil
		}
		p += 8 + size + size%2 // chunks are padded to even sizes
	}
	return asr.Audio{}, errAudio
}
