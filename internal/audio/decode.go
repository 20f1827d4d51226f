package audio

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors wrapped by Decode. Messages never contain audio content.
var (
	// ErrUnsupported: the format, codec, sample rate or channel count is not one Decode handles.
	ErrUnsupported = errors.New("unsupported audio format (supported: WAV with PCM 8/16/24/32-bit, float, μ-law or A-law; MP3; FLAC; 8000–48000 Hz)")
	// ErrTooLarge: the encoded input exceeds Limits.MaxBytes.
	ErrTooLarge = errors.New("audio too large")
	// ErrTooLong: the recording exceeds Limits.MaxDuration.
	ErrTooLong = errors.New("audio too long")
	// ErrInvalid: the input claims a supported format but is malformed.
	ErrInvalid = errors.New("invalid audio")
)

// Sample rates Decode accepts, in Hz.
const (
	MinSampleRate = 8000
	MaxSampleRate = 48000
)

// Decode sniffs the format of data (contentType is only a hint, used when the
// bytes alone do not tell) and decodes it into per-channel 16-bit PCM, in
// memory. Zero fields of lim take their value from DefaultLimits. The
// duration is checked from the header before decoding where the format
// declares it, and the decoded output never exceeds MaxDuration worth of
// samples.
func Decode(data []byte, contentType string, lim Limits) (*Decoded, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("audio: %d bytes exceed the limit of %d: %w", len(data), lim.MaxBytes, ErrTooLarge)
	}
	switch kind := sniff(data, contentType); kind {
	case kindWAV:
		return decodeWAV(data, lim)
	case kindMP3:
		return decodeMP3(data, lim)
	case kindFLAC:
		return decodeFLAC(data, lim)
	case kindOgg:
		return nil, fmt.Errorf("audio: Ogg (Opus/Vorbis) is not decoded by this build: %w", ErrUnsupported)
	default:
		return nil, fmt.Errorf("audio: unrecognised format: %w", ErrUnsupported)
	}
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultLimits.MaxDuration
	}
	if l.MaxChannels <= 0 {
		l.MaxChannels = DefaultLimits.MaxChannels
	}
	return l
}

// maxFrames is the most sample frames (samples per channel) allowed at rate.
func (l Limits) maxFrames(rate int) int64 {
	return int64(l.MaxDuration * float64(rate))
}

// checkShape validates a declared sample rate and channel count.
func (l Limits) checkShape(format string, rate, channels int) error {
	if channels <= 0 {
		return fmt.Errorf("audio: %s: no channels: %w", format, ErrInvalid)
	}
	if channels > l.MaxChannels {
		return fmt.Errorf("audio: %s: %d channels, at most %d accepted: %w", format, channels, l.MaxChannels, ErrUnsupported)
	}
	if rate < MinSampleRate || rate > MaxSampleRate {
		return fmt.Errorf("audio: %s: sample rate %d Hz outside %d–%d Hz: %w", format, rate, MinSampleRate, MaxSampleRate, ErrUnsupported)
	}
	return nil
}

// checkFrames refuses a declared length beyond MaxDuration.
func (l Limits) checkFrames(format string, frames int64, rate int) error {
	if frames > l.maxFrames(rate) {
		return fmt.Errorf("audio: %s: %.1f s exceeds the limit of %.0f s: %w", format, float64(frames)/float64(rate), l.MaxDuration, ErrTooLong)
	}
	return nil
}

type kind int

const (
	kindUnknown kind = iota
	kindWAV
	kindMP3
	kindFLAC
	kindOgg
)

// sniff tells the container from the leading bytes, falling back on the
// content type only when the bytes are inconclusive.
func sniff(data []byte, contentType string) kind {
	if len(data) >= 12 && (bytes.HasPrefix(data, []byte("RIFF")) || bytes.HasPrefix(data, []byte("RF64"))) && string(data[8:12]) == "WAVE" {
		return kindWAV
	}
	if bytes.HasPrefix(data, []byte("OggS")) {
		return kindOgg
	}
	body := data[id3v2Size(data):]
	if bytes.HasPrefix(body, []byte("fLaC")) {
		return kindFLAC
	}
	if len(body) >= 4 && mpegHeader(body[:4]).valid() {
		return kindMP3
	}
	if id3v2Size(data) > 0 {
		return kindMP3 // an ID3 tag introduces MP3 far more often than anything else
	}
	ct := strings.ToLower(contentType)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch strings.TrimSpace(ct) {
	case "audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3", "audio/x-mp3":
		return kindMP3 // frames may follow some junk; the decoder resynchronises
	}
	return kindUnknown
}

// id3v2Size is the length of a leading ID3v2 tag, or 0.
func id3v2Size(data []byte) int {
	if len(data) < 10 || string(data[:3]) != "ID3" {
		return 0
	}
	for _, b := range data[6:10] {
		if b&0x80 != 0 {
			return 0
		}
	}
	n := 10 + (int(data[6])<<21 | int(data[7])<<14 | int(data[8])<<7 | int(data[9]))
	if data[5]&0x10 != 0 {
		n += 10 // footer
	}
	if n > len(data) {
		return len(data)
	}
	return n
}
