package audio

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDecode decodes data b.N times and reports audio-seconds decoded per
// CPU-second (all threads, garbage collection included).
func benchDecode(b *testing.B, data []byte) {
	d, err := Decode(data, "", Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Decode(data, "", Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if cpu := (cpuTime() - start).Seconds(); cpu > 0 {
		b.ReportMetric(d.Duration()*float64(b.N)/cpu, "audio-s/cpu-s")
	}
}

// BenchmarkDecodeWAVMuLaw: 60 s of 8 kHz stereo μ-law.
func BenchmarkDecodeWAVMuLaw(b *testing.B) {
	ch := tone(2, 8000, 60*8000, 440, 12000)
	payload := make([]byte, 0, 2*len(ch[0]))
	for i := range ch[0] {
		payload = append(payload, byte(ch[0][i]>>8), byte(ch[1][i]>>8)) // any bytes are valid μ-law
	}
	benchDecode(b, makeWAV(wavSpec{tag: waveMuLaw, channels: 2, rate: 8000, bits: 8, payload: payload, dataSize: -1}))
}

// BenchmarkDecodeMP3: 60 s of 44.1 kHz stereo at 128 kbit/s made by lame.
func BenchmarkDecodeMP3(b *testing.B) {
	needTools(b, "sox", "lame")
	dir := b.TempDir()
	pcm, mp := filepath.Join(dir, "in.wav"), filepath.Join(dir, "in.mp3")
	run(b, "sox", "-n", "-r", "44100", "-c", "2", "-b", "16", pcm, "synth", "60", "pinknoise", "sine", "300-3000", "vol", "0.3")
	run(b, "lame", "--quiet", "-b", "128", pcm, mp)
	data, err := os.ReadFile(mp)
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// BenchmarkResample44To16: 60 s of one channel from 44.1 to 16 kHz.
func BenchmarkResample44To16(b *testing.B) { benchResample(b, 44100, 16000) }

// BenchmarkResample8To16: 60 s of one channel from 8 to 16 kHz.
func BenchmarkResample8To16(b *testing.B) { benchResample(b, 8000, 16000) }

func benchResample(b *testing.B, from, to int) {
	in := sine(from, 60*from, 1000, 10000)
	start := cpuTime()
	for b.Loop() {
		Resample(in, from, to)
	}
	b.StopTimer()
	if cpu := (cpuTime() - start).Seconds(); cpu > 0 {
		b.ReportMetric(60*float64(b.N)/cpu, "audio-s/cpu-s")
	}
}
