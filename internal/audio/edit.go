package audio

import (
	"encoding/binary"
	"math"
)

// EncodeWAV writes d as a canonical 16-bit PCM RIFF/WAVE file with
// interleaved channels.
func EncodeWAV(d *Decoded) []byte {
	nc := len(d.Channels)
	frames := 0
	if nc > 0 {
		frames = len(d.Channels[0])
	}
	dataLen := frames * nc * 2
	b := make([]byte, 44+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], wavePCM)
	binary.LittleEndian.PutUint16(b[22:], uint16(nc))
	binary.LittleEndian.PutUint32(b[24:], uint32(d.SampleRate))
	binary.LittleEndian.PutUint32(b[28:], uint32(d.SampleRate*nc*2))
	binary.LittleEndian.PutUint16(b[32:], uint16(nc*2))
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen))
	o := 44
	for i := range frames {
		for c := range nc {
			var s int16
			if i < len(d.Channels[c]) {
				s = d.Channels[c][i]
			}
			binary.LittleEndian.PutUint16(b[o:], uint16(s))
			o += 2
		}
	}
	return b
}

// Silence zeroes the samples of channel (1-based, as media_channel; 0 means
// every channel) from time from to time to, in seconds. The range is
// widened outward to whole samples and clipped to the recording; a channel
// out of range or an empty range changes nothing.
func Silence(d *Decoded, channel int, from, to float64) {
	if d == nil || d.SampleRate <= 0 || !(to > from) {
		return
	}
	chans := d.Channels
	switch {
	case channel == 0:
	case channel >= 1 && channel <= len(d.Channels):
		chans = d.Channels[channel-1 : channel]
	default:
		return
	}
	for _, ch := range chans {
		lo := max(0, math.Floor(from*float64(d.SampleRate)))
		hi := min(float64(len(ch)), math.Ceil(to*float64(d.SampleRate)))
		if hi > lo {
			clear(ch[int(lo):int(hi)])
		}
	}
}
