package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/mewkiz/flac"
)

// decodeFLAC decodes FLAC with mewkiz/flac, frame by frame. The duration in
// the stream info is checked before decoding; when the stream does not
// declare it, decoding stops as soon as the limit is passed.
func decodeFLAC(data []byte, lim Limits) (d *Decoded, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("audio: flac: malformed stream: %w", ErrInvalid)
		}
	}()
	// Library messages may quote checksums or header values: keep only the class.
	stream, err := flac.New(bytes.NewReader(data[id3v2Size(data):]))
	if err != nil || stream == nil || stream.Info == nil {
		return nil, fmt.Errorf("audio: flac: malformed header: %w", ErrInvalid)
	}
	info := stream.Info
	rate, channels := int(info.SampleRate), int(info.NChannels)
	if err := lim.checkShape("flac", rate, channels); err != nil {
		return nil, err
	}
	if err := lim.checkFrames("flac", int64(info.NSamples), rate); err != nil {
		return nil, err
	}
	maxFrames := lim.maxFrames(rate)
	// Reserve what the header declares, but no more than the input could
	// plausibly hold: a forged header must not allocate by itself.
	reserve := min(int64(info.NSamples), 16*int64(len(data)))
	out := make([][]int16, channels)
	for c := range out {
		out[c] = make([]int16, 0, reserve)
	}
	var frames int64
	for {
		f, err := stream.ParseNext()
		if err != nil {
			if errors.Is(err, io.EOF) || (frames > 0 && errors.Is(err, io.ErrUnexpectedEOF)) {
				break
			}
			return nil, fmt.Errorf("audio: flac: malformed frame: %w", ErrInvalid)
		}
		if len(f.Subframes) != channels {
			return nil, fmt.Errorf("audio: flac: frame channel count differs from the stream's: %w", ErrInvalid)
		}
		n := len(f.Subframes[0].Samples)
		for _, sf := range f.Subframes {
			if len(sf.Samples) != n {
				return nil, fmt.Errorf("audio: flac: subframes of unequal length: %w", ErrInvalid)
			}
		}
		frames += int64(n)
		if frames > maxFrames {
			return nil, lim.checkFrames("flac", frames, rate)
		}
		shift := int(f.BitsPerSample) - 16
		for c, sf := range f.Subframes {
			for _, s := range sf.Samples {
				out[c] = append(out[c], scaleTo16(s, shift))
			}
		}
	}
	if frames == 0 {
		return nil, fmt.Errorf("audio: flac: no samples: %w", ErrInvalid)
	}
	return &Decoded{SampleRate: rate, Channels: out, Format: "flac"}, nil
}

// scaleTo16 brings a sample of 16+shift bits to 16 bits, saturating.
func scaleTo16(s int32, shift int) int16 {
	v := int64(s)
	if shift > 0 {
		v >>= uint(shift)
	} else if shift < 0 {
		v <<= uint(-shift)
	}
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}
