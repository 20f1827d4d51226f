// Package audio decodes call recordings (WAV with PCM, μ-law or A-law; MP3;
// FLAC) into per-channel 16-bit PCM, within bounds on size, duration and
// decoding work, entirely in memory.
package audio

// Limits bound what Decode accepts.
type Limits struct {
	// MaxBytes is the largest encoded input.
	MaxBytes int64
	// MaxDuration is the longest recording, in seconds.
	MaxDuration float64
	// MaxChannels is the most channels (a call is 1 or 2).
	MaxChannels int
}

// DefaultLimits fit call recordings: 4 hours, 2 channels, 512 MiB encoded.
var DefaultLimits = Limits{MaxBytes: 512 << 20, MaxDuration: 4 * 3600, MaxChannels: 2}

// Decoded is a recording split into channels of equal length.
type Decoded struct {
	// SampleRate is in Hz, the same for every channel.
	SampleRate int
	// Channels holds one slice of samples per channel, in channel order
	// (channel 1 first).
	Channels [][]int16
	// Format names what was decoded ("wav/pcm16", "wav/mulaw", "mp3", …), for logs.
	Format string
}

// Duration is the recording's length in seconds.
func (d *Decoded) Duration() float64 {
	if d == nil || d.SampleRate <= 0 || len(d.Channels) == 0 {
		return 0
	}
	return float64(len(d.Channels[0])) / float64(d.SampleRate)
}
