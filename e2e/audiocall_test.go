package e2e

import (
	"bytes"
	encbin "encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Test audio: a scripted two-party call spoken by flite voices, one per
// channel, with the time of every word known from flite's own phone
// segmentation (flite -psdur), built with flite, sox and lame.

// needASR skips the test when the audio toolchain or the embedded
// recognizer is missing, or fails it when CONVOSEAL_REQUIRE_ASR=1.
func needASR(t *testing.T) {
	t.Helper()
	err := asrMissing()
	if err == nil {
		return
	}
	if os.Getenv("CONVOSEAL_REQUIRE_ASR") == "1" {
		t.Fatal(err.Error() + "; CONVOSEAL_REQUIRE_ASR=1")
	}
	t.Skip(err.Error())
}

// asrMissing says what of the audio toolchain and the embedded recognizer
// is missing, or nil.
func asrMissing() error {
	var missing []string
	for _, c := range []string{"flite", "sox", "lame"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if _, err := os.Stat("/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"); err != nil {
		missing = append(missing, "pocketsphinx-en-us")
	}
	if out, _ := exec.Command("/sbin/ldconfig", "-p").Output(); !bytes.Contains(out, []byte("libpocketsphinx.so.3")) {
		missing = append(missing, "libpocketsphinx3")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("audio tests need %s (apt-get install libpocketsphinx3 pocketsphinx-en-us flite sox lame)", strings.Join(missing, ", "))
}

// callTurn is one utterance of the script.
type callTurn struct {
	Channel int
	Text    string
}

// scriptedCall is a support call: the agent (channel 1, flite voice rms)
// speaks first; the customer (channel 2, voice slt) gives a name and a phone
// number and asks for a supervisor.
var scriptedCall = []callTurn{
	{1, "thank you for calling customer support my name is john how can i help you today"},
	{2, "hello john my name is sarah miller and i was charged twice for the same order"},
	{1, "i am sorry about that can you give me your phone number please"},
	{2, "my phone number is four one five five five five zero one three two"},
	{1, "thank you i can see the account and the double charge on your last order"},
	{2, "this is the third time i have called about this problem"},
	{1, "i understand please hold while i look up your order"},
	{2, "no i want to speak to a supervisor right now"},
	{1, "of course let me transfer you to my supervisor please hold"},
	{2, "thank you"},
}

var callVoices = map[int]string{1: "rms", 2: "kal"}

// scriptWord is a word of the script with its time in the call.
type scriptWord struct {
	Channel    int
	Turn       int // index in the script
	Word       string
	Start, End float64
}

// testCall is a built call.
type testCall struct {
	Dir     string
	Words   []scriptWord // by turn, then word
	Turns   [][2]float64 // each turn's start and end, in script order
	Seconds float64      // length of the recording
	// WAV16 is 16 kHz 16-bit stereo PCM; MuLaw the same as 8 kHz G.711
	// μ-law stereo WAV; MP3 as 16 kHz stereo MPEG-2 Layer III (64 kbit/s).
	WAV16, MuLaw, MP3 []byte
}

var (
	callOnce  sync.Once
	callBuilt *testCall
	callErr   error
)

// scriptedCallAudio builds the scripted call once per test run.
func scriptedCallAudio(t *testing.T) *testCall {
	t.Helper()
	needASR(t)
	callOnce.Do(func() {
		dir, err := os.MkdirTemp(filepath.Dir(binary), "call-") // removed with TestMain's directory
		if err != nil {
			callErr = err
			return
		}
		callBuilt, callErr = buildCall(dir, scriptedCall)
	})
	if callErr != nil {
		t.Fatalf("building the scripted call: %v", callErr)
	}
	return callBuilt
}

const callRate = 16000

func buildCall(dir string, turns []callTurn) (*testCall, error) {
	c := &testCall{Dir: dir}
	var ch [2][]int16
	at := 0.5 // leading silence
	for i, turn := range turns {
		samples, words, err := speak(dir, fmt.Sprintf("turn%02d", i), callVoices[turn.Channel], turn.Text)
		if err != nil {
			return nil, err
		}
		offset := int(math.Round(at * callRate))
		for c := range ch {
			ch[c] = append(ch[c], make([]int16, offset+len(samples)-len(ch[c]))...)
		}
		copy(ch[turn.Channel-1][offset:], samples)
		for _, w := range words {
			w.Channel, w.Turn = turn.Channel, i
			w.Start += at
			w.End += at
			c.Words = append(c.Words, w)
		}
		c.Turns = append(c.Turns, [2]float64{words[0].Start + at, words[len(words)-1].End + at})
		at += float64(len(samples))/callRate + 0.6
	}
	tail := make([]int16, callRate/2)
	ch[0], ch[1] = append(ch[0], tail...), append(ch[1], tail...)
	c.Seconds = float64(len(ch[0])) / callRate
	c.WAV16 = stereoWAV(ch[0], ch[1], callRate)
	wav16 := filepath.Join(dir, "call16.wav")
	if err := os.WriteFile(wav16, c.WAV16, 0o600); err != nil {
		return nil, err
	}
	mulaw, mp3 := filepath.Join(dir, "call-mulaw.wav"), filepath.Join(dir, "call.mp3")
	if out, err := exec.Command("sox", "-D", wav16, "-e", "mu-law", "-r", "8000", mulaw).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sox μ-law: %v %s", err, out)
	}
	if out, err := exec.Command("lame", "--quiet", "-b", "64", wav16, mp3).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lame: %v %s", err, out)
	}
	var err error
	if c.MuLaw, err = os.ReadFile(mulaw); err != nil {
		return nil, err
	}
	if c.MP3, err = os.ReadFile(mp3); err != nil {
		return nil, err
	}
	return c, nil
}

// speak synthesises text with flite and returns 16 kHz mono samples and the
// time of each word, from flite's phone segmentation: a word's phones are
// counted by synthesising it alone, and its start is the end of the segment
// before its first phone.
func speak(dir, name, voice, text string) ([]int16, []scriptWord, error) {
	raw, wav := filepath.Join(dir, name+"-flite.wav"), filepath.Join(dir, name+".wav")
	out, err := exec.Command("flite", "-voice", voice, "-t", text, "-psdur", "-o", raw).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("flite: %v", err)
	}
	type seg struct {
		phone string
		end   float64
	}
	var segs []seg
	for _, f := range strings.Fields(string(out)) {
		p, e, ok := strings.Cut(f, ":")
		end, err := strconv.ParseFloat(e, 64)
		if !ok || err != nil {
			return nil, nil, fmt.Errorf("flite -psdur: unexpected %q", f)
		}
		segs = append(segs, seg{p, end})
	}
	var words []scriptWord
	i := 0
	for _, w := range strings.Fields(text) {
		n, err := phoneCount(w)
		if err != nil {
			return nil, nil, err
		}
		for i < len(segs) && segs[i].phone == "pau" {
			i++
		}
		if i+n > len(segs) || i == 0 {
			return nil, nil, fmt.Errorf("flite's phones of %q do not add up", text)
		}
		words = append(words, scriptWord{Word: w, Start: segs[i-1].end, End: segs[i+n-1].end})
		i += n
	}
	if out, err := exec.Command("sox", "-D", raw, "-r", strconv.Itoa(callRate), "-b", "16", "-c", "1", wav).CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("sox: %v %s", err, out)
	}
	b, err := os.ReadFile(wav)
	if err != nil {
		return nil, nil, err
	}
	pcm, err := wavData(b)
	if err != nil {
		return nil, nil, err
	}
	samples := make([]int16, len(pcm)/2)
	for k := range samples {
		samples[k] = int16(encbin.LittleEndian.Uint16(pcm[2*k:]))
	}
	return samples, words, nil
}

var phoneCache sync.Map

// phoneCount is how many phones flite says a word with.
func phoneCount(word string) (int, error) {
	if n, ok := phoneCache.Load(word); ok {
		return n.(int), nil
	}
	out, err := exec.Command("flite", "-t", word, "-ps", "-o", "none").Output()
	if err != nil {
		return 0, fmt.Errorf("flite -ps %q: %v", word, err)
	}
	n := 0
	for _, p := range strings.Fields(string(out)) {
		if p != "pau" {
			n++
		}
	}
	phoneCache.Store(word, n)
	return n, nil
}

// wavData returns the data chunk of a RIFF/WAVE file.
func wavData(b []byte) ([]byte, error) {
	for pos := 12; pos+8 <= len(b); {
		size := int(encbin.LittleEndian.Uint32(b[pos+4:]))
		if string(b[pos:pos+4]) == "data" {
			return b[pos+8 : min(len(b), pos+8+size)], nil
		}
		pos += 8 + size + size&1
	}
	return nil, fmt.Errorf("no data chunk")
}

// stereoWAV writes two channels as a 16-bit PCM WAV.
func stereoWAV(left, right []int16, rate int) []byte {
	n := len(left)
	var b bytes.Buffer
	le := func(v any) { encbin.Write(&b, encbin.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 4*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(2))
	le(uint32(rate))
	le(uint32(rate * 4))
	le(uint16(4))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(4 * n))
	for i := range n {
		le(left[i])
		le(right[i])
	}
	return b.Bytes()
}

// heardWord is a recognised word from a decrypted sentence.
type heardWord struct {
	Channel    int
	Word       string
	Start, End float64
}

// callSentence is a decrypted sentence with its words.
type callSentence struct {
	MediaChannel int     `json:"media_channel"`
	StartTime    float64 `json:"start_time,string"`
	EndTime      float64 `json:"end_time,string"`
	Transcript   string  `json:"transcript"`
	Confidence   float64 `json:"confidence,string"`
	Words        []struct {
		Word      string  `json:"word"`
		StartTime float64 `json:"start_time,string"` // strings, as the sentence's
		EndTime   float64 `json:"end_time,string"`
	} `json:"words"`
}

// alignment pairs recognised words with script words of the same turn
// (longest common subsequence of the lower-cased words, per channel; a
// recognised word belongs to the turn of its channel that its middle falls
// in, give or take maxWordSkew).
type alignment struct {
	pairs  [][2]int // indexes into heard and script
	heard  []heardWord
	script []scriptWord
}

func align(heard []heardWord, script []scriptWord, turns [][2]float64) alignment {
	a := alignment{heard: heard, script: script}
	turnOf := func(h heardWord) int {
		mid := (h.Start + h.End) / 2
		for k, tr := range turns {
			if scriptedCall[k].Channel == h.Channel && mid >= tr[0]-maxWordSkew && mid <= tr[1]+maxWordSkew {
				return k
			}
		}
		return -1
	}
	same := func(h heardWord, s scriptWord) bool { return strings.EqualFold(h.Word, s.Word) && turnOf(h) == s.Turn }
	for ch := 1; ch <= 2; ch++ {
		var hi, si []int
		for i, h := range heard {
			if h.Channel == ch {
				hi = append(hi, i)
			}
		}
		for i, s := range script {
			if s.Channel == ch {
				si = append(si, i)
			}
		}
		l := make([][]int, len(hi)+1)
		for i := range l {
			l[i] = make([]int, len(si)+1)
		}
		for i := len(hi) - 1; i >= 0; i-- {
			for j := len(si) - 1; j >= 0; j-- {
				if same(heard[hi[i]], script[si[j]]) {
					l[i][j] = l[i+1][j+1] + 1
				} else {
					l[i][j] = max(l[i+1][j], l[i][j+1])
				}
			}
		}
		for i, j := 0, 0; i < len(hi) && j < len(si); {
			switch {
			case same(heard[hi[i]], script[si[j]]):
				a.pairs = append(a.pairs, [2]int{hi[i], si[j]})
				i++
				j++
			case l[i+1][j] >= l[i][j+1]:
				i++
			default:
				j++
			}
		}
	}
	slices.SortFunc(a.pairs, func(x, y [2]int) int { return x[1] - y[1] })
	return a
}
