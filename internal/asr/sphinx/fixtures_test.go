package sphinx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// callSentences are call-centre lines the tests and the benchmark speak.
var callSentences = []string{
	"thank you for calling customer support how can i help you today",
	"i would like to cancel my subscription please",
	"can you confirm the billing address on the account",
	"i was charged twice for the same order last month",
	"let me transfer you to my supervisor",
}

// scripted is one synthesized sentence placed in a longer recording.
type scripted struct {
	text          string
	onset, offset float64 // seconds of the first and last phone, from flite
}

// requireASR skips (or fails with CONVOSEAL_REQUIRE_ASR=1) when err says
// the library or a tool is missing.
func requireASR(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CONVOSEAL_REQUIRE_ASR") == "1" {
		t.Fatalf("%s: %v", what, err)
	}
	t.Skipf("%s unavailable (%v); Debian: apt-get install libpocketsphinx3 pocketsphinx-en-us flite", what, err)
}

// requireLib skips (or fails) when the library or the model is not installed.
func requireLib(t *testing.T) {
	t.Helper()
	_, err := loadLib(defaultPocketsphinx, defaultSphinxbase)
	if err == nil {
		m := DefaultModelDir
		err = checkModel(filepath.Join(m, "en-us"), filepath.Join(m, "en-us.lm.bin"), filepath.Join(m, "cmudict-en-us.dict"))
	}
	requireASR(t, "pocketsphinx", err)
}

func newTestRecognizer(t *testing.T, n int) *Recognizer {
	t.Helper()
	requireLib(t)
	r, err := New(Options{Decoders: n})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// synthesize speaks the sentences with one flite voice, 0.8 s apart after
// 0.5 s of leading silence, and returns 16 kHz PCM with the script's times.
func synthesize(t *testing.T, voice string, sentences []string) ([]int16, []scripted) {
	t.Helper()
	if _, err := exec.LookPath("flite"); err != nil {
		requireASR(t, "flite", err)
	}
	dir := t.TempDir()
	gap := make([]int16, SampleRate*8/10)
	pcm := make([]int16, SampleRate/2)
	var script []scripted
	for i, s := range sentences {
		wav := filepath.Join(dir, strconv.Itoa(i)+".wav")
		out, err := exec.Command("flite", "-voice", voice, "-psdur", "-t", s, "-o", wav).Output()
		if err != nil {
			t.Fatalf("flite: %v", err)
		}
		on, off := phoneBounds(string(out))
		data, err := os.ReadFile(wav)
		if err != nil {
			t.Fatal(err)
		}
		samples, rate, err := readWAV(data)
		if err != nil || rate != SampleRate {
			t.Fatalf("flite wav: rate %d err %v", rate, err)
		}
		base := float64(len(pcm)) / SampleRate
		script = append(script, scripted{s, base + on, base + off})
		pcm = append(pcm, samples...)
		pcm = append(pcm, gap...)
	}
	return pcm, script
}

// phoneBounds reads flite -psdur output ("pau:0.136 p:0.234 … pau:2.152")
// and returns when the first phone starts and the last phone ends.
func phoneBounds(ps string) (onset, offset float64) {
	prev := 0.0
	first := true
	for _, f := range strings.Fields(ps) {
		name, v, ok := strings.Cut(f, ":")
		if !ok {
			continue
		}
		end, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		if name != "pau" {
			if first {
				onset, first = prev, false
			}
			offset = end
		}
		prev = end
	}
	return onset, offset
}

// readWAV reads a mono 16-bit PCM WAV.
func readWAV(b []byte) ([]int16, int, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a WAV")
	}
	rate := 0
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(len(b), p+8+n)]
		switch id {
		case "fmt ":
			if binary.LittleEndian.Uint16(body) != 1 || binary.LittleEndian.Uint16(body[2:]) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, 0, errors.New("not mono 16-bit PCM")
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			s := make([]int16, len(body)/2)
			if err := binary.Read(bytes.NewReader(body[:len(s)*2]), binary.LittleEndian, s); err != nil {
				return nil, 0, err
			}
			return s, rate, nil
		}
		p += 8 + n + n%2
	}
	return nil, 0, errors.New("no data chunk")
}

// wer is the word error rate of hyp against ref (word-level Levenshtein).
func wer(ref, hyp []string) (errs int) {
	d := make([]int, len(hyp)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(hyp); j++ {
			cur := d[j]
			c := prev
			if ref[i-1] != hyp[j-1] {
				c = 1 + min(prev, d[j], d[j-1])
			}
			d[j] = c
			prev = cur
		}
	}
	return d[len(hyp)]
}
