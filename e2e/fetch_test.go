package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestFetchEndToEnd: convoseal fetch, run as a customer would against a real
// installation, prints in each format exactly what the documented Python
// script decrypts from the same locations (local blob URLs, or S3 presigned
// URLs on the cluster backend).
func TestFetchEndToEnd(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	svc, err := c.IntelligenceV2.CreateService((&intelligence.CreateServiceParams{}).SetUniqueName("fetch").
		SetEncryptionCredentialSid(cred).SetAutoRedaction(true))
	if err != nil {
		t.Fatal(err)
	}
	attach(t, s, *svc.Sid, prebuilt(t, s, "Escalation Request"), prebuilt(t, s, "PII Extraction"),
		customOperator(t, s, "Refund mentions", "phrase-matching", map[string]any{"phrases": []string{"refund"}}))
	channel := Channel(DataURL(map[string]any{"sentences": refundCall}))
	channel["participants"] = []map[string]any{
		{"channel_participant": 1, "role": "Agent", "full_name": "Dana"},
		{"channel_participant": 2, "role": "Customer", "full_name": "Jane"},
	}
	tr, err := c.IntelligenceV2.CreateTranscript((&intelligence.CreateTranscriptParams{}).SetServiceSid(*svc.Sid).SetChannel(channel))
	if err != nil {
		t.Fatal(err)
	}
	gt := *tr.Sid
	if done := WaitTranscript(t, c, gt, 2*time.Minute); *done.Status != "completed" {
		t.Fatalf("transcript %s", *done.Status)
	}

	// What the documented script decrypts, for each redaction variant.
	seedSentences := map[bool][]byte{}
	seedResults := map[bool]map[string][]byte{}
	for _, redacted := range []bool{true, false} {
		enc, err := c.IntelligenceV2.FetchEncryptedSentences(gt, (&intelligence.FetchEncryptedSentencesParams{}).SetRedacted(redacted))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(*enc.Location, s.LocationBase()) {
			t.Fatalf("location %s… does not begin with %s", (*enc.Location)[:len(s.LocationBase())], s.LocationBase())
		}
		seedSentences[redacted] = SeedDecrypt(t, kf.Private, *enc.Location)
		ops, err := c.IntelligenceV2.FetchEncryptedOperatorResults(gt, (&intelligence.FetchEncryptedOperatorResultsParams{}).SetRedacted(redacted))
		if err != nil {
			t.Fatal(err)
		}
		seedResults[redacted] = map[string][]byte{}
		for _, loc := range *ops.Locations {
			plain := SeedDecrypt(t, kf.Private, loc)
			var head struct {
				OperatorSID string `json:"operator_sid"`
			}
			json.Unmarshal(plain, &head)
			seedResults[redacted][head.OperatorSID] = plain
		}
		if len(seedResults[redacted]) != 3 {
			t.Fatalf("%d operator results, want 3", len(seedResults[redacted]))
		}
	}
	if bytes.Equal(seedSentences[true], seedSentences[false]) || !bytes.Contains(seedSentences[false], []byte("jane.doe@example.com")) ||
		bytes.Contains(seedSentences[true], []byte("jane.doe@example.com")) {
		t.Fatal("the redacted and unredacted sentences are not what this test expects")
	}

	env := []string{"CONVOSEAL_URL=" + s.URL, "TWILIO_ACCOUNT_SID=" + s.AccountSID, "TWILIO_AUTH_TOKEN=" + s.AuthToken, "CONVOSEAL_PRIVATE_KEY="}
	fetch := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append(append([]string{"fetch", "--private-key", kf.PrivatePKCS8}, args...), gt)...)
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("convoseal fetch %v: %v\n%s", args, err, stderr.String())
		}
		return string(out)
	}

	// json: the documents themselves.
	for _, redacted := range []bool{true, false} {
		out := fetch("--redacted=" + strconv.FormatBool(redacted))
		if !sameJSON(t, []byte(out), seedSentences[redacted]) {
			t.Fatalf("fetch --redacted=%v differs from the documented script:\n%s\nvs\n%s", redacted, out, seedSentences[redacted])
		}
	}
	var both struct {
		TranscriptSID   string            `json:"transcript_sid"`
		Sentences       json.RawMessage   `json:"sentences"`
		OperatorResults []json.RawMessage `json:"operator_results"`
	}
	if err := json.Unmarshal([]byte(fetch("--operator-results")), &both); err != nil {
		t.Fatal(err)
	}
	if both.TranscriptSID != gt || !sameJSON(t, both.Sentences, seedSentences[true]) || len(both.OperatorResults) != 3 {
		t.Fatalf("fetch --operator-results: %s, %d results", both.TranscriptSID, len(both.OperatorResults))
	}
	for _, r := range both.OperatorResults {
		var head struct {
			OperatorSID string `json:"operator_sid"`
		}
		json.Unmarshal(r, &head)
		if !sameJSON(t, r, seedResults[true][head.OperatorSID]) {
			t.Fatalf("operator result %s differs from the documented script:\n%s", head.OperatorSID, r)
		}
	}

	var doc struct {
		Sentences []struct {
			MediaChannel int    `json:"media_channel"`
			StartTime    string `json:"start_time"`
			EndTime      string `json:"end_time"`
			Transcript   string `json:"transcript"`
		} `json:"sentences"`
	}
	if err := json.Unmarshal(seedSentences[true], &doc); err != nil || len(doc.Sentences) != len(refundCall) {
		t.Fatalf("seed sentences: %v", err)
	}
	role := map[int]string{1: "Agent", 2: "Customer"}

	// text: a line per sentence, its start, speaker and words.
	text := fetch("--format", "text", "--operator-results")
	lines := strings.Split(text, "\n")
	for i, sn := range doc.Sentences {
		start, _ := strconv.ParseFloat(sn.StartTime, 64)
		want := fmt.Sprintf("[%02d:%04.1f] %s (channel %d): %s", int(start)/60, start-float64(int(start)/60*60), role[sn.MediaChannel], sn.MediaChannel, sn.Transcript)
		if lines[i] != want {
			t.Fatalf("text line %d:\n got %q\nwant %q", i, lines[i], want)
		}
	}
	for sid := range seedResults[true] {
		if !strings.Contains(text, "("+sid+", ") {
			t.Fatalf("text output lacks operator %s:\n%s", sid, text)
		}
	}

	// vtt: a cue per sentence with its times, voice and text.
	vtt := fetch("--format", "vtt", "--operator-results")
	if !strings.HasPrefix(vtt, "WEBVTT\n\n") {
		t.Fatalf("not WebVTT:\n%s", vtt)
	}
	cue := regexp.MustCompile(`(?m)^(\d+)\n(\d\d):(\d\d):(\d\d\.\d\d\d) --> (\d\d):(\d\d):(\d\d\.\d\d\d)\n<v ([^>]+)>(.*)$`)
	cues := cue.FindAllStringSubmatch(vtt, -1)
	if len(cues) != len(doc.Sentences) {
		t.Fatalf("%d cues for %d sentences:\n%s", len(cues), len(doc.Sentences), vtt)
	}
	secs := func(h, m, s string) float64 {
		hh, _ := strconv.Atoi(h)
		mm, _ := strconv.Atoi(m)
		ss, _ := strconv.ParseFloat(s, 64)
		return float64(hh*3600+mm*60) + ss
	}
	unescape := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
	for i, sn := range doc.Sentences {
		m := cues[i]
		start, _ := strconv.ParseFloat(sn.StartTime, 64)
		end, _ := strconv.ParseFloat(sn.EndTime, 64)
		if m[1] != strconv.Itoa(i+1) || abs(secs(m[2], m[3], m[4])-start) > 0.0005 || abs(secs(m[5], m[6], m[7])-end) > 0.0005 ||
			m[8] != role[sn.MediaChannel] || unescape.Replace(m[9]) != sn.Transcript {
			t.Fatalf("cue %d %q does not match sentence %+v", i, m[0], sn)
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xa, yb)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
