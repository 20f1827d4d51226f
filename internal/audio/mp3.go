package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	mp3 "github.com/hajimehoshi/go-mp3"
)

// mpegHeader is the 4-byte header of an MPEG audio frame.
type mpegHeader []byte

// valid reports whether h is a plausible MPEG-1/2/2.5 Layer III frame header.
func (h mpegHeader) valid() bool {
	if len(h) < 4 || h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return false
	}
	version, layer := (h[1]>>3)&3, (h[1]>>1)&3
	bitrate, rate := h[2]>>4, (h[2]>>2)&3
	return version != 1 && layer == 1 && bitrate != 0 && bitrate != 15 && rate != 3
}

// mono reports whether the frame's channel mode is single channel.
func (h mpegHeader) mono() bool { return h[3]>>6 == 3 }

// firstMPEGFrame is the offset of the first Layer III frame header after any
// ID3v2 tag, or -1.
func firstMPEGFrame(data []byte) int {
	for i := id3v2Size(data); i+4 <= len(data); i++ {
		if data[i] == 0xFF && mpegHeader(data[i:i+4]).valid() {
			return i
		}
	}
	return -1
}

// decodeMP3 decodes MPEG Layer III with go-mp3, which always produces
// interleaved stereo; a stream whose first frame is single-channel is
// reported as one channel. The frame headers are scanned first, so the
// duration is checked before any audio is decoded. A stream cut short or
// damaged after its first frames yields the audio decoded up to that point.
func decodeMP3(data []byte, lim Limits) (d *Decoded, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("audio: mp3: malformed stream: %w", ErrInvalid)
		}
	}()
	first := firstMPEGFrame(data)
	if first < 0 {
		return nil, fmt.Errorf("audio: mp3: no MPEG Layer III frame: %w", ErrInvalid)
	}
	if (data[first+1]>>3)&3 == 0 {
		return nil, fmt.Errorf("audio: mp3: MPEG-2.5 (8–12 kHz MP3) is not decoded by this build; send WAV or FLAC: %w", ErrUnsupported)
	}
	channels := 2
	if mpegHeader(data[first : first+4]).mono() {
		channels = 1
	}
	dec, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		// The library's message may quote header bytes: keep only the class.
		return nil, fmt.Errorf("audio: mp3: malformed stream: %w", ErrInvalid)
	}
	rate := dec.SampleRate()
	if err := lim.checkShape("mp3", rate, channels); err != nil {
		return nil, err
	}
	maxFrames := lim.maxFrames(rate)
	declared := dec.Length() / 4 // 16-bit stereo output
	if err := lim.checkFrames("mp3", declared, rate); err != nil {
		return nil, err
	}
	if declared < 0 {
		declared = 0
	}
	out := make([][]int16, channels)
	for c := range out {
		out[c] = make([]int16, 0, declared)
	}
	buf := make([]byte, 1152*4*8)
	var frames int64
	for {
		n, rerr := io.ReadFull(dec, buf)
		n -= n % 4
		frames += int64(n / 4)
		if frames > maxFrames {
			return nil, lim.checkFrames("mp3", frames, rate)
		}
		for i := 0; i < n; i += 4 {
			out[0] = append(out[0], int16(binary.LittleEndian.Uint16(buf[i:])))
			if channels == 2 {
				out[1] = append(out[1], int16(binary.LittleEndian.Uint16(buf[i+2:])))
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) || frames > 0 {
				break
			}
			return nil, fmt.Errorf("audio: mp3: malformed stream: %w", ErrInvalid)
		}
	}
	head, tail := mp3Gap(data[first:])
	if frames <= int64(head+tail) {
		return nil, fmt.Errorf("audio: mp3: no samples: %w", ErrInvalid)
	}
	for c := range out {
		out[c] = out[c][head : len(out[c])-tail]
	}
	return &Decoded{SampleRate: rate, Channels: out, Format: "mp3"}, nil
}

// mp3DecoderDelay is the synthesis filterbank's delay, in samples, before
// the first encoded sample comes out.
const mp3DecoderDelay = 529

// mp3Gap is how many samples to drop from the start and end of the decoded
// output so that it lines up with the encoder's input: the decoder delay;
// the Xing/Info frame, which decodes as silence; and the encoder delay and
// padding recorded in a LAME (or FFmpeg) tag.
func mp3Gap(frame []byte) (head, tail int) {
	head = mp3DecoderDelay
	h := mpegHeader(frame)
	mpeg1 := (h[1]>>3)&3 == 3
	side := 17 // MPEG-1 mono, MPEG-2 stereo
	switch {
	case mpeg1 && !h.mono():
		side = 32
	case !mpeg1 && h.mono():
		side = 9
	}
	o := 4 + side
	if h[1]&1 == 0 { // protected by a CRC
		o += 2
	}
	if o+8 > len(frame) || (string(frame[o:o+4]) != "Xing" && string(frame[o:o+4]) != "Info") {
		return head, 0
	}
	if mpeg1 {
		head += 1152
	} else {
		head += 576
	}
	flags := binary.BigEndian.Uint32(frame[o+4 : o+8])
	o += 8
	for _, f := range []struct {
		bit  uint32
		size int
	}{{1, 4}, {2, 4}, {4, 100}, {8, 4}} {
		if flags&f.bit != 0 {
			o += f.size
		}
	}
	if o+24 > len(frame) {
		return head, 0
	}
	enc := string(frame[o : o+4])
	if enc != "LAME" && enc != "Lavc" && enc != "Lavf" {
		return head, 0
	}
	b := frame[o+21 : o+24]
	delay := int(b[0])<<4 | int(b[1])>>4
	padding := int(b[1]&0x0f)<<8 | int(b[2])
	return head + delay, max(0, padding-mp3DecoderDelay)
}
