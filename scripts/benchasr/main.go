// Command benchasr measures the embedded recognizer (internal/asr/sphinx)
// against pocketsphinx_continuous on the same files in the same run: word
// error rate on (a) flite call-centre sentences at 16 kHz, (b) the same as
// 8 kHz μ-law WAV, (c) pocketsphinx-testdata real speech; and CPU-seconds
// per audio-second. scripts/bench-asr.sh runs it; it prints Markdown.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/convoseal/convoseal/internal/asr"
	"github.com/convoseal/convoseal/internal/asr/sphinx"
)

// sentences are the call-centre lines of sets (a) and (b).
var sentences = []string{
	"thank you for calling customer support how can i help you today",
	"i would like to cancel my subscription please",
	"can you confirm the billing address on the account",
	"i was charged twice for the same order last month",
	"let me transfer you to my supervisor",
	"my order number is four five six seven eight",
	"the package arrived damaged and i want a refund",
	"please hold while i look up your account",
	"is there anything else i can help you with",
	"i have been waiting on hold for thirty minutes",
}

const testdata = "/usr/share/pocketsphinx/test/data"

// clip is one file with its reference transcript.
type clip struct {
	name    string
	ref     string
	ours    string // what the recognizer reads (WAV, PCM or μ-law)
	cli     string // what pocketsphinx_continuous reads (16 kHz 16-bit WAV)
	seconds float64
}

// score accumulates one system's results on one set.
type score struct {
	errs, words  int
	cpu, seconds float64
}

func (s score) wer() float64 { return 100 * float64(s.errs) / float64(max(s.words, 1)) }

func main() {
	work := flag.String("work", "", "directory for generated audio (default: a temporary one)")
	extra := flag.String("args", "", "extra decoder options for convoseal, space-separated (e.g. \"-lw 8\")")
	cliExtra := flag.String("cliargs", "", "extra options for pocketsphinx_continuous")
	noCLI := flag.Bool("nocli", false, "skip pocketsphinx_continuous (for tuning)")
	verbose := flag.Bool("v", false, "print every hypothesis to stderr")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	if *work == "" {
		d, err := os.MkdirTemp("", "benchasr")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*work = d
	}
	var args []string
	if *extra != "" {
		args = strings.Fields(*extra)
	}

	sets, err := buildSets(*work)
	if err != nil {
		log.Fatal(err)
	}
	cpu0 := cpuSeconds()
	t0 := time.Now()
	rec, err := sphinx.New(sphinx.Options{Decoders: 1, Args: args})
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()
	loadCPU, loadWall := cpuSeconds()-cpu0, time.Since(t0)

	model := sphinx.DefaultModelDir
	cliArgs := append([]string{"-hmm", model + "/en-us", "-lm", model + "/en-us.lm.bin",
		"-dict", model + "/cmudict-en-us.dict", "-logfn", "/dev/null"}, strings.Fields(*cliExtra)...)
	cliLoad := 0.0
	if !*noCLI {
		cliLoad = cliLoadCPU(*work, cliArgs)
	}

	fmt.Printf("| Set | Files | Audio (s) | WER convoseal | WER pocketsphinx_continuous | CPU-s / audio-s convoseal | CPU-s / audio-s CLI (model load excluded) |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|\n")
	var allOurs score
	for _, set := range sets {
		var ours, cli score
		for _, c := range set.clips {
			a, err := readWAV(c.ours)
			if err != nil {
				log.Fatalf("%s: %v", c.ours, err)
			}
			c0 := cpuSeconds()
			res, err := rec.Recognize(context.Background(), a, "en-US")
			if err != nil {
				log.Fatalf("%s: %v", c.name, err)
			}
			ours.cpu += cpuSeconds() - c0
			hyp := hypothesis(res)
			ref := normalize(c.ref)
			ours.errs += distance(ref, hyp)
			ours.words += len(ref)
			ours.seconds += c.seconds

			out, used, err := "", 0.0, error(nil)
			if !*noCLI {
				out, used, err = runCLI(c.cli, cliArgs)
			}
			if err != nil {
				log.Fatalf("pocketsphinx_continuous %s: %v", c.name, err)
			}
			chyp := normalize(out)
			cli.errs += distance(ref, chyp)
			cli.words += len(ref)
			cli.cpu += max(used-cliLoad, 0)
			cli.seconds += c.seconds
			if *verbose {
				fmt.Fprintf(os.Stderr, "%s\n  ref:  %s\n  ours: %s\n  cli:  %s\n", c.name, strings.Join(ref, " "), strings.Join(hyp, " "), strings.Join(chyp, " "))
			}
		}
		allOurs.cpu += ours.cpu
		allOurs.seconds += ours.seconds
		fmt.Printf("| %s | %d | %.1f | **%.1f %%** (%d/%d) | %.1f %% (%d/%d) | %.3f | %.3f |\n", set.name, len(set.clips), ours.seconds,
			ours.wer(), ours.errs, ours.words, cli.wer(), cli.errs, cli.words, ours.cpu/ours.seconds, cli.cpu/cli.seconds)
	}
	perAudio := allOurs.cpu / allOurs.seconds
	fmt.Printf("\nconvoseal over all sets: %.3f CPU-s per audio-second on one core ⇒ %.0f audio-hours per core-hour; "+
		"%.0f five-minute single-channel calls (%.0f two-channel calls) per hour per core.\n",
		perAudio, 1/perAudio, 3600/(300*perAudio), 3600/(600*perAudio))
	fmt.Printf("Model load: %.2f CPU-s (%.2f s wall) per decoder, once; pocketsphinx_continuous pays ≈%.2f CPU-s per file for it (measured on a 0.1 s file, subtracted above).\n",
		loadCPU, loadWall.Seconds(), cliLoad)
	fmt.Printf("Peak resident set of this process (1 decoder): %d MB.\n", maxRSSMB())
}

type set struct {
	name  string
	clips []clip
}

// buildSets synthesizes sets (a) and (b) with flite and sox and lists (c).
func buildSets(work string) ([]set, error) {
	var a, b, c set
	a.name = "(a) flite 16 kHz (rms + slt)"
	b.name = "(b) flite 8 kHz μ-law (rms + slt)"
	c.name = "(c) pocketsphinx-testdata real speech (librivox + cards)"
	for _, voice := range []string{"rms", "slt"} {
		for i, s := range sentences {
			base := filepath.Join(work, fmt.Sprintf("%s-%02d", voice, i))
			wav16, ulaw, back := base+".wav", base+"-ulaw.wav", base+"-ulaw16.wav"
			if err := run("flite", "-voice", voice, "-t", s, "-o", wav16); err != nil {
				return nil, err
			}
			if err := run("sox", "-D", wav16, "-e", "mu-law", "-r", "8000", ulaw); err != nil {
				return nil, err
			}
			if err := run("sox", "-D", ulaw, "-e", "signed-integer", "-b", "16", "-r", "16000", back); err != nil {
				return nil, err
			}
			d, err := duration(wav16)
			if err != nil {
				return nil, err
			}
			a.clips = append(a.clips, clip{name: base, ref: s, ours: wav16, cli: wav16, seconds: d})
			b.clips = append(b.clips, clip{name: base + " μ-law", ref: s, ours: ulaw, cli: back, seconds: d})
		}
	}
	for _, dir := range []string{"librivox", "cards"} {
		tf := filepath.Join(testdata, dir, "transcription")
		if dir == "cards" {
			tf = filepath.Join(testdata, dir, "cards.transcription")
		}
		data, err := os.ReadFile(tf)
		if err != nil {
			return nil, fmt.Errorf("pocketsphinx-testdata: %w", err)
		}
		line := regexp.MustCompile(`^(.*)\((\S+)\)\s*$`)
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			m := line.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			wav := filepath.Join(testdata, dir, m[2]+".wav")
			d, err := duration(wav)
			if err != nil {
				return nil, err
			}
			c.clips = append(c.clips, clip{name: m[2], ref: m[1], ours: wav, cli: wav, seconds: d})
		}
	}
	return []set{a, b, c}, nil
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, out)
	}
	return nil
}

func duration(path string) (float64, error) {
	a, err := readWAV(path)
	if err != nil {
		return 0, err
	}
	return a.Duration(), nil
}

// runCLI decodes a file with pocketsphinx_continuous; it returns the
// hypothesis lines and the child's CPU seconds.
func runCLI(file string, args []string) (string, float64, error) {
	cmd := exec.Command("pocketsphinx_continuous", append([]string{"-infile", file}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return "", 0, err
	}
	st := cmd.ProcessState
	return string(out), (st.UserTime() + st.SystemTime()).Seconds(), nil
}

// cliLoadCPU is the CLI's CPU time on 0.1 s of silence: its model load.
func cliLoadCPU(work string, args []string) float64 {
	f := filepath.Join(work, "silence.wav")
	if err := run("sox", "-n", "-r", "16000", "-b", "16", "-c", "1", f, "trim", "0", "0.1"); err != nil {
		log.Fatal(err)
	}
	best := 1e9
	for range 3 {
		_, used, err := runCLI(f, args)
		if err != nil {
			log.Fatal(err)
		}
		best = min(best, used)
	}
	return best
}

func hypothesis(res *asr.Result) []string {
	var words []string
	for _, s := range res.Segments {
		for _, w := range s.Words {
			words = append(words, strings.ToLower(w.Word))
		}
	}
	return words
}

var punct = regexp.MustCompile(`[^a-z0-9' ]+`)

// normalize lowercases, drops <s>/</s> and utterance ids, strips punctuation
// and alternative-pronunciation marks, and splits into words.
func normalize(s string) []string {
	s = strings.ToLower(s)
	s = regexp.MustCompile(`</?s>|<sil>|\(\d+\)|\[[a-z]+\]`).ReplaceAllString(s, " ")
	return strings.Fields(punct.ReplaceAllString(s, " "))
}

// distance is the word-level Levenshtein distance (substitutions,
// insertions and deletions) between ref and hyp.
func distance(ref, hyp []string) int {
	d := make([]int, len(hyp)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(hyp); j++ {
			cur := d[j]
			if ref[i-1] == hyp[j-1] {
				d[j] = prev
			} else {
				d[j] = 1 + min(prev, d[j], d[j-1])
			}
			prev = cur
		}
	}
	return d[len(hyp)]
}

// readWAV reads a mono WAV of 16-bit PCM or G.711 μ-law.
func readWAV(path string) (asr.Audio, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return asr.Audio{}, err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return asr.Audio{}, errors.New("not a WAV file")
	}
	var format, bits uint16
	rate := 0
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(len(b), p+8+n)]
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body[2:]) != 1 {
				return asr.Audio{}, errors.New("not a mono WAV")
			}
			format, bits = binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[14:])
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			a := asr.Audio{SampleRate: rate}
			switch {
			case format == 1 && bits == 16:
				a.Samples = make([]int16, len(body)/2)
				for i := range a.Samples {
					a.Samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
				}
			case format == 7 && bits == 8:
				a.Samples = make([]int16, len(body))
				for i, v := range body {
					a.Samples[i] = ulaw(v)
				}
			default:
				return asr.Audio{}, fmt.Errorf("unsupported WAV format %d/%d bits", format, bits)
			}
			return a, nil
		}
		p += 8 + n + n%2
	}
	return asr.Audio{}, errors.New("no data chunk")
}

// ulaw decodes one G.711 μ-law byte.
func ulaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func maxRSSMB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss / 1024
}
