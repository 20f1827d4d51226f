package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/mewkiz/flac"
)

// Info is what a recording's header declares, read without decoding it.
type Info struct {
	// Format is the container and codec ("wav/mulaw", "mp3", "flac", …).
	Format     string
	SampleRate int
	Channels   int
	// Frames is the declared length in samples per channel, or -1 when the
	// header does not say (MP3).
	Frames int64
}

// IsAudio reports whether data looks like a recording in a container Decode
// knows (WAV, MP3, FLAC, or Ogg, which it refuses), from its leading bytes,
// or failing that from an MP3 content type.
func IsAudio(data []byte, contentType string) bool {
	return sniff(data, contentType) != kindUnknown
}

// Probe reads the header of a recording and checks its shape (sample rate,
// channels, declared duration) against lim, without decoding the audio. It
// returns the errors Decode would for a header it refuses. A recording Probe
// accepts may still fail to decode further on.
func Probe(data []byte, contentType string, lim Limits) (*Info, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("audio: %d bytes exceed the limit of %d: %w", len(data), lim.MaxBytes, ErrTooLarge)
	}
	var (
		info *Info
		err  error
	)
	switch sniff(data, contentType) {
	case kindWAV:
		info, err = probeWAV(data)
	case kindMP3:
		info, err = probeMP3(data)
	case kindFLAC:
		info, err = probeFLAC(data)
	case kindOgg:
		return nil, fmt.Errorf("audio: Ogg (Opus/Vorbis) is not decoded by this build: %w", ErrUnsupported)
	default:
		return nil, fmt.Errorf("audio: unrecognised format: %w", ErrUnsupported)
	}
	if err != nil {
		return nil, err
	}
	if err := lim.checkShape(info.Format, info.SampleRate, info.Channels); err != nil {
		return nil, err
	}
	if info.Frames >= 0 {
		if err := lim.checkFrames(info.Format, info.Frames, info.SampleRate); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// probeWAV finds the fmt and data chunks as decodeWAV does.
func probeWAV(data []byte) (*Info, error) {
	var f *wavFmt
	dataLen := int64(-1)
	pos, n := int64(12), int64(len(data))
	for pos+8 <= n && (f == nil || dataLen < 0) {
		id := string(data[pos : pos+4])
		size := int64(binary.LittleEndian.Uint32(data[pos+4 : pos+8]))
		body, end := pos+8, pos+8+size
		if id == "data" {
			if size == 0 || size == 0xFFFFFFFF || end > n {
				end = n
			}
			dataLen = end - body
		} else if id == "fmt " {
			if end > n {
				return nil, fmt.Errorf("audio: wav: truncated fmt chunk: %w", ErrInvalid)
			}
			var err error
			if f, err = parseWavFmt(data[body:end]); err != nil {
				return nil, err
			}
		} else if end > n {
			break
		}
		pos = end + end&1
	}
	if f == nil {
		return nil, fmt.Errorf("audio: wav: no fmt chunk: %w", ErrInvalid)
	}
	if dataLen < 0 {
		return nil, fmt.Errorf("audio: wav: no data chunk: %w", ErrInvalid)
	}
	frames := dataLen / int64(f.container*f.channels)
	if frames == 0 {
		return nil, fmt.Errorf("audio: wav: no samples: %w", ErrInvalid)
	}
	formats := map[uint16]string{waveMuLaw: "wav/mulaw", waveALaw: "wav/alaw", wavePCM: fmt.Sprintf("wav/pcm%d", f.bits), waveFloat: fmt.Sprintf("wav/float%d", f.bits)}
	return &Info{Format: formats[f.tag], SampleRate: f.rate, Channels: f.channels, Frames: frames}, nil
}

// mpegRates are the sample rates by MPEG version bits (3: MPEG-1, 2:
// MPEG-2, 0: MPEG-2.5) and rate index.
var mpegRates = map[byte][3]int{3: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 0: {11025, 12000, 8000}}

func probeMP3(data []byte) (*Info, error) {
	first := firstMPEGFrame(data)
	if first < 0 {
		return nil, fmt.Errorf("audio: mp3: no MPEG Layer III frame: %w", ErrInvalid)
	}
	h := mpegHeader(data[first : first+4])
	version := (h[1] >> 3) & 3
	if version == 0 {
		return nil, fmt.Errorf("audio: mp3: MPEG-2.5 (8–12 kHz MP3) is not decoded by this build; send WAV or FLAC: %w", ErrUnsupported)
	}
	channels := 2
	if h.mono() {
		channels = 1
	}
	return &Info{Format: "mp3", SampleRate: mpegRates[version][(h[2]>>2)&3], Channels: channels, Frames: -1}, nil
}

func probeFLAC(data []byte) (info *Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			info, err = nil, fmt.Errorf("audio: flac: malformed header: %w", ErrInvalid)
		}
	}()
	stream, err := flac.New(bytes.NewReader(data[id3v2Size(data):]))
	if err != nil || stream == nil || stream.Info == nil {
		return nil, fmt.Errorf("audio: flac: malformed header: %w", ErrInvalid)
	}
	frames := int64(stream.Info.NSamples)
	if frames == 0 {
		frames = -1 // not declared
	}
	return &Info{Format: "flac", SampleRate: int(stream.Info.SampleRate), Channels: int(stream.Info.NChannels), Frames: frames}, nil
}
