package audio

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// needTools skips the test when a command is missing, unless
// CONVOSEAL_REQUIRE_ASR=1 demands the full audio toolchain.
func needTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CONVOSEAL_REQUIRE_ASR") == "1" {
				t.Fatalf("%s is required (CONVOSEAL_REQUIRE_ASR=1): install Debian packages sox, libsox-fmt-mp3, lame, flite", n)
			}
			t.Skipf("%s not installed (Debian packages sox, libsox-fmt-mp3, lame, flite); skipping", n)
		}
	}
}

// needSoxMP3 skips (or, with CONVOSEAL_REQUIRE_ASR=1, fails) when sox
// cannot write MP3 (Debian package libsox-fmt-mp3).
func needSoxMP3(t testing.TB) {
	t.Helper()
	out, _ := exec.Command("sox", "-h").CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "AUDIO FILE FORMATS:") && slices.Contains(strings.Fields(line), "mp3") {
			return
		}
	}
	if os.Getenv("CONVOSEAL_REQUIRE_ASR") == "1" {
		t.Fatal("sox cannot write MP3 (CONVOSEAL_REQUIRE_ASR=1): install Debian package libsox-fmt-mp3")
	}
	t.Skip("sox cannot write MP3 (Debian package libsox-fmt-mp3); skipping")
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func decodeFile(t testing.TB, path string) *Decoded {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(b, "", Limits{})
	if err != nil {
		t.Fatalf("Decode %s: %v", filepath.Base(path), err)
	}
	return d
}

// referenceCall writes ref.wav in dir: 16 kHz 16-bit stereo, flite speech on
// channel 1 and a tone sweep on channel 2, about 3 s long.
func referenceCall(t testing.TB, dir string) string {
	t.Helper()
	needTools(t, "sox", "flite")
	speech := filepath.Join(dir, "speech.wav")
	run(t, "flite", "-t", "thank you for calling, my account number is four two seven one", "-o", speech)
	sp16 := filepath.Join(dir, "speech16.wav")
	run(t, "sox", speech, "-r", "16000", sp16)
	sweep := filepath.Join(dir, "sweep.wav")
	run(t, "sox", "-n", "-r", "16000", "-b", "16", "-c", "1", sweep, "synth", "3", "sine", "200-3000", "vol", "0.4")
	ref := filepath.Join(dir, "ref.wav")
	run(t, "sox", "-M", sp16, sweep, "-b", "16", ref)
	return ref
}

// bestLag finds the shift of got against want (got[i+lag] ≈ want[i]) in
// [0, maxLag] with the highest correlation over a window, and returns it
// with the normalised correlation over the whole overlap.
func bestLag(want, got []int16, maxLag int) (int, float64) {
	from := len(want) / 4
	to := min(len(want), from+16000)
	best, bestC := 0, math.Inf(-1)
	for lag := 0; lag <= maxLag; lag++ {
		var c float64
		for i := from; i < to; i++ {
			if i+lag < len(got) {
				c += float64(want[i]) * float64(got[i+lag])
			}
		}
		if c > bestC {
			best, bestC = lag, c
		}
	}
	return best, correlation(want, got[min(best, len(got)):])
}

func correlation(a, b []int16) float64 {
	n := min(len(a), len(b))
	var ab, aa, bb float64
	for i := range n {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func maxAbsDiff(a, b []int16) int {
	m := 0
	for i := range min(len(a), len(b)) {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		m = max(m, d)
	}
	return m
}
