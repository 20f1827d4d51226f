package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestAudioBenchmark measures audio transcripts end to end through the
// service (BENCHMARKS.md, "Audio transcripts end to end"): the scripted call
// submitted CONVOSEAL_BENCH_AUDIO times (half μ-law WAV over HTTP, half MP3
// inline) to a one-worker server, on a customer-key Service with
// AutoRedaction and three operators. It reports the server process's
// CPU-seconds per audio-second (model load excluded: a warm-up transcript
// loads it), transcripts per hour per core, and the time spent sealing (the
// convoseal_seal_duration_seconds metric) as a share of the transcripts'
// processing time. Run:
//
//	CONVOSEAL_BENCH_AUDIO=8 go test -count=1 -run TestAudioBenchmark -v ./e2e
func TestAudioBenchmark(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CONVOSEAL_BENCH_AUDIO"))
	if n <= 0 {
		t.Skip("set CONVOSEAL_BENCH_AUDIO=<transcripts> to run")
	}
	call := scriptedCallAudio(t)
	s := StartServer(t, ServerOptions{Extra: []string{"--workers", "1", "--log-level", "info"}})
	if len(s.APIs) != 1 || len(s.Workers) != 0 {
		t.Skip("the benchmark measures one embedded process")
	}
	c := s.Twilio()
	_, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("bench").
		SetEncryptionCredentialSid(cred).SetAutoRedaction(true))
	if err != nil {
		t.Fatal(err)
	}
	attach(t, s, *svc.Sid, prebuilt(t, s, "Escalation Request"), prebuilt(t, s, "Sentiment Analysis"), prebuilt(t, s, "PII Extraction"))
	media := newLCMedia(t, 0)
	wavURL := media.add("/call.wav", "audio/wav", call.MuLaw)
	mp3URL := "data:audio/mpeg;base64," + base64.StdEncoding.EncodeToString(call.MP3)
	pid := s.APIs[0].cmd.Process.Pid

	warm := lcCreate(t, c, *svc.Sid, wavURL)
	if tr := WaitTranscript(t, c, warm, 5*time.Minute); *tr.Status != "completed" {
		t.Fatalf("warm-up: %s", *tr.Status)
	}
	sealBefore := s.Metric(t, `convoseal_seal_duration_seconds_sum{recipient="customer"}`) + s.Metric(t, `convoseal_seal_duration_seconds_sum{recipient="server"}`)
	sealsBefore := s.Metric(t, `convoseal_seal_duration_seconds_count{recipient="customer"}`) + s.Metric(t, `convoseal_seal_duration_seconds_count{recipient="server"}`)
	cpuBefore := procCPU(t, pid)
	start := time.Now()
	sids := make([]string, n)
	for i := range sids {
		u := wavURL
		if i%2 == 1 {
			u = mp3URL
		}
		sids[i] = lcCreate(t, c, *svc.Sid, u)
	}
	for _, sid := range sids {
		if tr := WaitTranscript(t, c, sid, 10*time.Minute); *tr.Status != "completed" {
			t.Fatalf("%s: %s", sid, *tr.Status)
		}
	}
	wall := time.Since(start).Seconds()
	cpu := procCPU(t, pid) - cpuBefore
	seal := s.Metric(t, `convoseal_seal_duration_seconds_sum{recipient="customer"}`) + s.Metric(t, `convoseal_seal_duration_seconds_sum{recipient="server"}`) - sealBefore
	seals := s.Metric(t, `convoseal_seal_duration_seconds_count{recipient="customer"}`) + s.Metric(t, `convoseal_seal_duration_seconds_count{recipient="server"}`) - sealsBefore
	audioSeconds := float64(n) * call.Seconds
	load := regexp.MustCompile(`"load_time":"([^"]+)"`).FindSubmatch(s.Log())
	fmt.Printf("audio benchmark: %d transcripts of a %.1f s two-party call (%.0f audio-seconds), 1 worker, %d CPUs\n",
		n, call.Seconds, audioSeconds, runtime.NumCPU())
	fmt.Printf("  server CPU %.2f s, wall %.2f s: %.3f CPU-s per audio-second, %.2f CPU-s per transcript ⇒ %.0f transcripts per hour per core\n",
		cpu, wall, cpu/audioSeconds, cpu/float64(n), 3600/(cpu/float64(n)))
	fmt.Printf("  sealing: %.0f artifacts, %.4f s in all (%.2f ms each) = %.3f %% of the processing time, %.3f %% of the CPU\n",
		seals, seal, 1000*seal/max(seals, 1), 100*seal/wall, 100*seal/cpu)
	if len(load) == 2 {
		fmt.Printf("  model load (first audio transcript): %s\n", load[1])
	}
}

// procCPU is a process's user+system CPU time in seconds, from /proc.
func procCPU(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces), 1-based: utime is 14, stime 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}
