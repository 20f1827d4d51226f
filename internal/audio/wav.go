package audio

import (
	"encoding/binary"
	"fmt"
	"math"
)

// WAVE format tags.
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveALaw       = 0x0006
	waveMuLaw      = 0x0007
	waveExtensible = 0xFFFE
)

type wavFmt struct {
	tag       uint16
	channels  int
	rate      int
	bits      int
	container int // bytes per sample in the data
}

// decodeWAV reads a RIFF/WAVE (or RF64) file. Chunks other than "fmt " and
// "data" are skipped; a data chunk of size 0 or 0xFFFFFFFF (a stream whose
// header was never rewritten), or one running past the end (a truncated
// file), extends to the end of the input.
func decodeWAV(data []byte, lim Limits) (*Decoded, error) {
	var (
		f       *wavFmt
		pcm     []byte
		hasData bool
	)
	pos := int64(12)
	n := int64(len(data))
	for pos+8 <= n && !(hasData && f != nil) {
		id := string(data[pos : pos+4])
		size := int64(binary.LittleEndian.Uint32(data[pos+4 : pos+8]))
		body := pos + 8
		end := body + size
		if id == "data" {
			if size == 0 || size == 0xFFFFFFFF || end > n {
				end = n
			}
			pcm, hasData = data[body:end], true
			pos = end + end&1
			continue
		}
		if end > n {
			if id == "fmt " {
				return nil, fmt.Errorf("audio: wav: truncated fmt chunk: %w", ErrInvalid)
			}
			break
		}
		if id == "fmt " {
			var err error
			if f, err = parseWavFmt(data[body:end]); err != nil {
				return nil, err
			}
		}
		pos = end + end&1
	}
	if f == nil {
		return nil, fmt.Errorf("audio: wav: no fmt chunk: %w", ErrInvalid)
	}
	if !hasData {
		return nil, fmt.Errorf("audio: wav: no data chunk: %w", ErrInvalid)
	}
	if err := lim.checkShape("wav", f.rate, f.channels); err != nil {
		return nil, err
	}
	frameSize := f.container * f.channels
	frames := int64(len(pcm) / frameSize)
	if frames == 0 {
		return nil, fmt.Errorf("audio: wav: no samples: %w", ErrInvalid)
	}
	if err := lim.checkFrames("wav", frames, f.rate); err != nil {
		return nil, err
	}
	d := &Decoded{SampleRate: f.rate, Channels: make([][]int16, f.channels)}
	for c := range d.Channels {
		d.Channels[c] = make([]int16, frames)
	}
	switch f.tag {
	case waveMuLaw:
		d.Format = "wav/mulaw"
		expand8(d.Channels, pcm, &ulawTable)
	case waveALaw:
		d.Format = "wav/alaw"
		expand8(d.Channels, pcm, &alawTable)
	case wavePCM:
		d.Format = fmt.Sprintf("wav/pcm%d", f.bits)
		if f.container == 1 {
			var t [256]int16
			for i := range t {
				t[i] = int16((i - 128) << 8)
			}
			expand8(d.Channels, pcm, &t)
		} else {
			deinterleaveInt(d.Channels, pcm, f.container)
		}
	case waveFloat:
		d.Format = fmt.Sprintf("wav/float%d", f.bits)
		deinterleaveFloat(d.Channels, pcm, f.container)
	}
	return d, nil
}

func parseWavFmt(b []byte) (*wavFmt, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("audio: wav: fmt chunk too short: %w", ErrInvalid)
	}
	f := &wavFmt{
		tag:      binary.LittleEndian.Uint16(b[0:2]),
		channels: int(binary.LittleEndian.Uint16(b[2:4])),
		rate:     int(binary.LittleEndian.Uint32(b[4:8])),
		bits:     int(binary.LittleEndian.Uint16(b[14:16])),
	}
	blockAlign := int(binary.LittleEndian.Uint16(b[12:14]))
	if f.tag == waveExtensible {
		if len(b) < 40 {
			return nil, fmt.Errorf("audio: wav: extensible fmt chunk too short: %w", ErrInvalid)
		}
		f.tag = binary.LittleEndian.Uint16(b[24:26]) // first bytes of the sub-format GUID
	}
	if f.channels <= 0 {
		return nil, fmt.Errorf("audio: wav: no channels: %w", ErrInvalid)
	}
	f.container = (f.bits + 7) / 8
	if blockAlign%f.channels == 0 {
		if c := blockAlign / f.channels; c > f.container && c <= 4 {
			f.container = c // e.g. 24-bit samples in 32-bit containers
		}
	}
	ok := false
	switch f.tag {
	case wavePCM:
		ok = f.bits >= 1 && f.container <= 4
	case waveFloat:
		ok = f.bits == 32 || f.bits == 64
		f.container = f.bits / 8
	case waveMuLaw, waveALaw:
		ok = f.bits == 8
		f.container = 1
	}
	if !ok {
		return nil, fmt.Errorf("audio: wav: format tag 0x%04x with %d-bit samples: %w", f.tag, f.bits, ErrUnsupported)
	}
	return f, nil
}

// expand8 deinterleaves one-byte samples through a lookup table.
func expand8(ch [][]int16, pcm []byte, t *[256]int16) {
	nc := len(ch)
	if nc == 1 {
		for i := range ch[0] {
			ch[0][i] = t[pcm[i]]
		}
		return
	}
	for i := range ch[0] {
		base := i * nc
		for c := range nc {
			ch[c][i] = t[pcm[base+c]]
		}
	}
}

// deinterleaveInt keeps the top 16 bits of little-endian signed samples of
// size bytes (2–4), which are left-justified in their container.
func deinterleaveInt(ch [][]int16, pcm []byte, size int) {
	nc := len(ch)
	for i := range ch[0] {
		base := i * nc * size
		for c := range nc {
			o := base + c*size + size - 2
			ch[c][i] = int16(binary.LittleEndian.Uint16(pcm[o : o+2]))
		}
	}
}

// deinterleaveFloat converts IEEE float samples (4 or 8 bytes) in [-1, 1].
func deinterleaveFloat(ch [][]int16, pcm []byte, size int) {
	nc := len(ch)
	for i := range ch[0] {
		base := i * nc * size
		for c := range nc {
			o := base + c*size
			var v float64
			if size == 4 {
				v = float64(math.Float32frombits(binary.LittleEndian.Uint32(pcm[o : o+4])))
			} else {
				v = math.Float64frombits(binary.LittleEndian.Uint64(pcm[o : o+8]))
			}
			ch[c][i] = floatToInt16(v)
		}
	}
}

func floatToInt16(v float64) int16 {
	v *= 32768
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v != v: // NaN
		return 0
	}
	return int16(math.Round(v))
}
