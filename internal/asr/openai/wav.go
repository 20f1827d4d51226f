package openai

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/convoseal/convoseal/internal/asr"
)

// writeWAV writes a as a canonical RIFF/WAVE file: PCM, 16-bit, mono, at the
// audio's sample rate.
func writeWAV(w io.Writer, a asr.Audio) error {
	data := uint64(len(a.Samples)) * 2
	if data > 0xFFFFFFFF-36 {
		return errors.New("audio too long for a WAV file")
	}
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(a.SampleRate))
	binary.LittleEndian.PutUint32(h[28:], uint32(a.SampleRate)*2)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	const chunk = 4096
	buf := make([]byte, 2*chunk)
	for s := a.Samples; len(s) > 0; {
		n := min(len(s), chunk)
		for i, v := range s[:n] {
			binary.LittleEndian.PutUint16(buf[2*i:], uint16(v))
		}
		if _, err := w.Write(buf[:2*n]); err != nil {
			return err
		}
		s = s[n:]
	}
	return nil
}
