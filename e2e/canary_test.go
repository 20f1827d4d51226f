package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	encbin "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/convoseal/convoseal/internal/audio"
	"github.com/convoseal/convoseal/internal/interop"
	intelligence "github.com/twilio/twilio-go/rest/intelligence/v2"
)

// TestCanaryNeverOnDisk submits transcripts carrying a unique marker in
// every way the API accepts them, then looks for the marker, in every
// encoding a careless implementation might store it in, in every file the
// server has written: database, WAL, blobs, keys, temporary directory and
// log. Only the customer, with the private key, may ever see it again.
func TestCanaryNeverOnDisk(t *testing.T) {
	interop.RequireTools(t)
	began := time.Now()

	// Three markers, so that a hit tells where it came from.
	keyed := canaryMarker(t)  // transcripts of the Service with a customer key
	server := canaryMarker(t) // transcripts of the Service sealed with the server KEK
	field := canaryMarker(t)  // JSON field names of invalid documents
	var patterns []canaryPattern
	for _, m := range [][2]string{{"customer-key", keyed}, {"server-key", server}, {"field-name", field}} {
		patterns = append(patterns, canaryPatterns(m[0], m[1])...)
	}
	canarySelfTest(t, keyed, patterns)

	base := t.TempDir()
	tmp := filepath.Join(base, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	media := newLCMedia(t, 0)
	s := StartServer(t, ServerOptions{Data: filepath.Join(base, "data"), Env: []string{"TMPDIR=" + tmp}})
	c := s.Twilio()
	kf, cred := RegisterKey(t, c)
	keyedSvc := lcService(t, c, "canary-customer-key", cred)
	serverSvc := lcService(t, c, "canary-server-key", "")
	// Every artifact kind: redaction variants, every pre-built operator and a
	// custom one, and (server-key Service) the data-logging copy.
	phrases := customOperator(t, s, "canary phrases", "phrase-matching", map[string]any{"phrases": []string{"account number", "noted"}})
	prebuiltOps, err := c.IntelligenceV2.ListPrebuiltOperator(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{keyedSvc, serverSvc} {
		if _, err := c.IntelligenceV2.UpdateService(svc, (&intelligence.UpdateServiceParams{}).SetAutoRedaction(true).SetMediaRedaction(true)); err != nil {
			t.Fatal(err)
		}
		// Audio transcripts store both recordings, sealed.
		if out, err := s.CLI("services", "keep-media", svc, "on").CombinedOutput(); err != nil {
			t.Fatalf("keep-media on: %v %s", err, out)
		}
		attach(t, s, svc, phrases)
		for _, op := range prebuiltOps {
			attach(t, s, svc, *op.Sid)
		}
	}
	if out, err := s.CLI("services", "data-logging", serverSvc, "on").CombinedOutput(); err != nil {
		t.Fatalf("data-logging on: %v %s", err, out)
	}

	// Submissions that complete: inline (base64, percent-encoded, fully
	// percent-encoded) and over HTTP, as JSON and as WebVTT.
	type ok struct {
		sid, how string
		keyed    bool
	}
	var oks []ok
	submit := func(svc, how, mediaURL string) {
		oks = append(oks, ok{sid: lcCreate(t, c, svc, mediaURL), how: how, keyed: svc == keyedSvc})
	}
	// Audio: the scripted call as a μ-law WAV over HTTP and an MP3 inline,
	// on both Services. Its recognised sentences, its bytes and its decoded
	// PCM must not be on disk either (patterns added below).
	var audioSIDs []string
	var call *testCall
	if err := asrMissing(); err != nil && os.Getenv("CONVOSEAL_REQUIRE_ASR") != "1" {
		t.Logf("no audio transcripts in this scan: %v", err)
	} else {
		call = scriptedCallAudio(t)
		patterns = append(patterns, audioCanaryPatterns(t, call)...)
		for _, svc := range []string{keyedSvc, serverSvc} {
			audioSIDs = append(audioSIDs, lcCreate(t, c, svc, media.add("/"+svc+"/call.wav", "audio/wav", call.MuLaw)),
				lcCreate(t, c, svc, "data:audio/mpeg;base64,"+base64.StdEncoding.EncodeToString(call.MP3)))
		}
	}
	for _, v := range []struct {
		svc, marker string
	}{{keyedSvc, keyed}, {serverSvc, server}} {
		doc, err := json.Marshal(canaryDoc(v.marker))
		if err != nil {
			t.Fatal(err)
		}
		vtt := []byte(canaryVTT(v.marker))
		submit(v.svc, "inline JSON, base64", "data:application/json;base64,"+base64.StdEncoding.EncodeToString(doc))
		submit(v.svc, "inline JSON, percent-encoded", "data:application/json;charset=utf-8,"+url.PathEscape(string(doc)))
		submit(v.svc, "inline JSON, every byte percent-encoded", "data:application/json,"+canaryPercentAll(doc))
		submit(v.svc, "inline WebVTT, base64", "data:text/vtt;base64,"+base64.StdEncoding.EncodeToString(vtt))
		submit(v.svc, "inline WebVTT, percent-encoded", "data:text/vtt,"+url.PathEscape(string(vtt)))
		submit(v.svc, "HTTP JSON", media.add("/"+v.svc+"/doc.json", "application/json", doc))
		submit(v.svc, "HTTP JSON, sniffed", media.add("/"+v.svc+"/doc.bin", "application/octet-stream", doc))
		submit(v.svc, "HTTP WebVTT", media.add("/"+v.svc+"/doc.vtt", "text/vtt", vtt))
	}

	// Submissions that fail in the pipeline: invalid documents over HTTP,
	// each with a marker where an error message might quote it: in text,
	// in a value of the wrong type, cut off, in a cue timing line, and as a
	// JSON field name (a document keyed by names or numbers, say).
	bad := map[string]string{ // how → SID
		"end_time before start_time": lcCreate(t, c, keyedSvc, media.add("/bad/order.json", "application/json",
			fmt.Appendf(nil, `{"sentences":[{"media_channel":1,"start_time":2.5,"end_time":1.0,"transcript":"%s said so"}]}`, keyed))),
		"wrong type": lcCreate(t, c, keyedSvc, media.add("/bad/type.json", "application/json",
			fmt.Appendf(nil, `{"sentences":[{"media_channel":"%s","start_time":0,"end_time":1,"transcript":"x"}]}`, keyed))),
		"truncated JSON": lcCreate(t, c, keyedSvc, media.add("/bad/truncated.json", "application/json",
			fmt.Appendf(nil, `{"sentences":[{"media_channel":1,"start_time":0,"end_time":1,"transcript":"%s`, keyed))),
		"unknown sentence field": lcCreate(t, c, keyedSvc, media.add("/bad/field.json", "application/json",
			fmt.Appendf(nil, `{"sentences":[{"media_channel":1,"start_time":0,"end_time":1,"transcript":"x","%s":"Alice"}]}`, field))),
		"unknown document field": lcCreate(t, c, keyedSvc, media.add("/bad/keyed.json", "application/json",
			fmt.Appendf(nil, `{"%s":{"media_channel":1,"start_time":0,"end_time":1,"transcript":"x"}}`, field))),
		"bad WebVTT timing": lcCreate(t, c, keyedSvc, media.add("/bad/timing.vtt", "text/vtt",
			fmt.Appendf(nil, "WEBVTT\n\n00:00.000 --> %s\n%s spoke\n", keyed, keyed))),
		"WebVTT cue ends before it starts": lcCreate(t, c, keyedSvc, media.add("/bad/order.vtt", "text/vtt",
			fmt.Appendf(nil, "WEBVTT\n\n00:05.000 --> 00:01.000\n%s spoke\n", keyed))),
	}

	// An invalid inline document is refused at once, without echoing it.
	channel, _ := json.Marshal(Channel(DataURL(map[string]any{"sentences": []map[string]any{
		{"media_channel": 1, "start_time": 3, "end_time": 1, "transcript": keyed + " inline and invalid"}}})))
	code, refusal := s.Do(t, http.MethodPost, "/v2/Transcripts", url.Values{"ServiceSid": {keyedSvc}, "Channel": {string(channel)}})
	if code != http.StatusBadRequest {
		t.Errorf("invalid inline document: status %d (%v), want 400", code, refusal)
	}
	canaryNoMarker(t, "the refusal of an invalid inline document", refusal, patterns)

	for _, o := range oks {
		if tr := WaitTranscript(t, c, o.sid, 2*time.Minute); *tr.Status != "completed" {
			_, raw := s.Do(t, http.MethodGet, "/v2/Transcripts/"+o.sid, nil)
			t.Fatalf("%s (%s) is %s: %v", o.sid, o.how, *tr.Status, raw["failure_reason"])
		}
	}
	for i, sid := range audioSIDs {
		if tr := WaitTranscript(t, c, sid, 4*time.Minute); *tr.Status != "completed" {
			_, raw := s.Do(t, http.MethodGet, "/v2/Transcripts/"+sid, nil)
			t.Fatalf("audio transcript %s is %s: %v", sid, *tr.Status, raw["failure_reason"])
		}
		// What was recognised: every sentence of three words or more becomes
		// a pattern (shorter ones, "thank you", could be anywhere).
		var texts []string
		if i < 2 { // the customer-key Service's
			for _, sentence := range lcOpenAll(t, c, kf.Private, []string{sid})[sid].Sentences {
				texts = append(texts, sentence.Transcript)
			}
		} else {
			sentences, err := c.IntelligenceV2.ListSentence(sid, &intelligence.ListSentenceParams{})
			if err != nil {
				t.Fatal(err)
			}
			for _, sentence := range sentences {
				texts = append(texts, *sentence.Transcript)
			}
		}
		n := 0
		for _, text := range texts {
			if len(strings.Fields(text)) >= 3 && len(text) >= 16 {
				patterns = append(patterns, canaryPattern{fmt.Sprintf("a sentence recognised in %s: %q", sid, text), []byte(text), true})
				n++
			}
		}
		if n < 5 {
			t.Fatalf("audio transcript %s: only %d sentences of three words or more: %q", sid, n, texts)
		}
	}
	for how, sid := range bad {
		if tr := WaitTranscript(t, c, sid, 2*time.Minute); *tr.Status != "failed" {
			t.Fatalf("%s (%s) is %s, want failed", sid, how, *tr.Status)
		}
		_, raw := s.Do(t, http.MethodGet, "/v2/Transcripts/"+sid, nil)
		reason, _ := raw["failure_reason"].(string)
		if reason == "" {
			t.Errorf("%s (%s): failed without a failure_reason", sid, how)
		}
		t.Logf("failed as expected (%s): %q", how, reason)
		canaryNoMarker(t, "transcript "+sid+" ("+how+")", raw, patterns)
		_, raw = s.Do(t, http.MethodGet, "/v2/Transcripts/"+sid+"/Sentences/Encrypted", nil)
		canaryNoMarker(t, "Sentences/Encrypted of failed "+sid+" ("+how+")", raw, patterns)
	}
	_, list := s.Do(t, http.MethodGet, "/v2/Transcripts", url.Values{"PageSize": {"100"}})
	canaryNoMarker(t, "the transcript list", list, patterns)

	// The marker must really be in what the customer gets back, or finding
	// nothing on disk would prove nothing.
	var keyedSIDs []string
	for _, o := range oks {
		if o.keyed {
			keyedSIDs = append(keyedSIDs, o.sid)
		}
	}
	opened := lcOpenAll(t, c, kf.Private, keyedSIDs)
	for _, o := range oks {
		if !o.keyed {
			continue
		}
		doc := opened[o.sid]
		n := 0
		for _, sentence := range doc.Sentences {
			n += strings.Count(sentence.Transcript, keyed)
		}
		if n == 0 {
			t.Errorf("%s (%s): the decrypted sentences lack the marker: %+v", o.sid, o.how, doc.Sentences)
		}
	}
	// Without a customer key the server opens the artifacts itself.
	for _, o := range oks {
		if o.keyed {
			continue
		}
		sentences, err := c.IntelligenceV2.ListSentence(o.sid, &intelligence.ListSentenceParams{})
		if err != nil {
			t.Fatalf("Sentences of %s (%s): %v", o.sid, o.how, err)
		}
		n := 0
		for _, sentence := range sentences {
			if sentence.Transcript != nil {
				n += strings.Count(*sentence.Transcript, server)
			}
		}
		if n == 0 {
			t.Errorf("%s (%s, server key): the sentences lack the marker", o.sid, o.how)
		}
	}

	// Scan while the server runs (the WAL holds the latest pages) and after a
	// graceful stop (the WAL checkpointed into the database).
	// On a cluster, the database's files, the server's write-ahead log and
	// the bucket's directory in the S3 server are scanned too (after a
	// checkpoint, once the processes have stopped).
	scan := func(stopped bool) []string {
		files := canaryScan(t, base, patterns)
		for _, r := range s.StorageRoots(t, stopped) {
			for _, f := range canaryScan(t, r.Dir, patterns) {
				files = append(files, r.Name+"/"+f)
			}
		}
		return files
	}
	running := scan(false)
	s.Stop()
	if code := s.ExitCode(); code != 0 {
		t.Errorf("convoseal exited %d after SIGTERM", code)
	}
	stopped := scan(true)
	wantAlways := []string{"data/kek"}
	wantRunning := []string{}
	blobDir := "data/blobs/"
	if roots := s.StorageRoots(t, false); len(roots) > 0 {
		for _, r := range roots {
			wantAlways = append(wantAlways, r.Want...)
		}
		blobDir = roots[len(roots)-1].Want[0]
	} else {
		wantAlways = append(wantAlways, "data/convoseal.db", blobDir)
		wantRunning = append(wantRunning, "data/convoseal.db-wal")
	}
	for _, p := range s.Processes() {
		wantAlways = append(wantAlways, filepath.Base(p.LogFile))
	}
	for _, sc := range []struct {
		when  string
		files []string
		want  []string
	}{
		{"while running", running, wantRunning},
		{"after stop", stopped, nil},
	} {
		for _, want := range append(sc.want, wantAlways...) {
			found := false
			for _, f := range sc.files {
				found = found || strings.HasPrefix(f, want)
			}
			if !found {
				t.Errorf("scan %s: no %s among the files scanned (%v)", sc.when, want, sc.files)
			}
		}
		var other []string
		blobs, pg := 0, 0
		for _, f := range sc.files {
			switch {
			case strings.HasPrefix(f, blobDir):
				blobs++
			case strings.HasPrefix(f, "postgres/"):
				pg++
			default:
				other = append(other, f)
			}
		}
		t.Logf("scanned %s: %d blob files, %d PostgreSQL files and %s", sc.when, blobs, pg, strings.Join(other, " "))
	}
	t.Logf("%d transcripts completed (and %d of audio), %d failed; %v", len(oks), len(audioSIDs), len(bad), time.Since(began).Round(time.Millisecond))
}

// canaryMarker is a fresh, unmistakable marker.
func canaryMarker(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "CANARY-" + hex.EncodeToString(b)
}

func canaryDoc(marker string) lcDoc {
	return lcDoc{Sentences: []lcSentence{
		{MediaChannel: 1, StartTime: 0, EndTime: 1.9, Transcript: "My account number is " + marker + ".",
			Words: []lcWord{{"My", 0, 0.2}, {"account", 0.2, 0.6}, {"number", 0.6, 1}, {"is", 1, 1.1}, {marker, 1.1, 1.9}}},
		{MediaChannel: 2, StartTime: 2, EndTime: 3.5, Transcript: "Thank you, I have noted " + marker},
	}}
}

func canaryVTT(marker string) string {
	return "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.900\n<v Alice>My account number is " + marker +
		"\n\n00:00:02.000 --> 00:00:03.500\nBob: noted, " + marker + "\n"
}

// canaryPercentAll percent-encodes every byte.
func canaryPercentAll(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, "%%%02X", c)
	}
	return sb.String()
}

type canaryPattern struct {
	name     string
	bytes    []byte
	caseFold bool
}

// canaryPatterns are the forms in which a marker could be stored: as is,
// hex, percent-encoded, UTF-16, and base64 (standard and URL alphabets) at
// the three alignments it can have inside a longer base64 text, without the
// edge characters that depend on the neighbouring bytes.
func canaryPatterns(label, marker string) []canaryPattern {
	m := []byte(marker)
	marker = label + " marker " + marker
	ps := []canaryPattern{
		{marker + " as is", m, true},
		{marker + " as hex", []byte(hex.EncodeToString(m)), true},
		{marker + " fully percent-encoded", []byte(canaryPercentAll(m)), true},
	}
	var u16 []byte
	for _, c := range m {
		u16 = append(u16, c, 0)
	}
	ps = append(ps, canaryPattern{marker + " as UTF-16LE", u16, false})
	for k, skip := range []int{0, 2, 3} {
		in := append(bytes.Repeat([]byte("x"), k), m...)
		enc := base64.StdEncoding.EncodeToString(in)
		enc = enc[skip : (len(in)/3)*4]
		ps = append(ps,
			canaryPattern{fmt.Sprintf("%s as base64 (offset %d)", marker, k), []byte(enc), false},
			canaryPattern{fmt.Sprintf("%s as URL-safe base64 (offset %d)", marker, k),
				[]byte(strings.NewReplacer("+", "-", "/", "_").Replace(enc)), false})
	}
	return ps
}

// canaryFind returns the names of the patterns found in data and, for the
// first one, an excerpt around it.
func canaryFind(data []byte, patterns []canaryPattern) (found []string, excerpt string) {
	var lower []byte
	for _, p := range patterns {
		hay := data
		if p.caseFold {
			if lower == nil {
				lower = canaryLowerASCII(data)
			}
			hay = lower
		}
		needle := p.bytes
		if p.caseFold {
			needle = canaryLowerASCII(needle)
		}
		if i := bytes.Index(hay, needle); i >= 0 {
			found = append(found, p.name)
			if excerpt == "" {
				from, to := max(0, i-80), min(len(data), i+len(needle)+40)
				excerpt = fmt.Sprintf("%q", data[from:to])
			}
		}
	}
	return found, excerpt
}

// canaryLowerASCII lower-cases ASCII letters only, keeping offsets (unlike
// bytes.ToLower, which rewrites invalid UTF-8).
func canaryLowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// canarySelfTest checks that the scan recognises each encoding, embedded in
// other bytes at every alignment.
func canarySelfTest(t *testing.T, marker string, patterns []canaryPattern) {
	t.Helper()
	forms := map[string][]byte{
		"plain":     []byte("…" + marker + "…"),
		"lowercase": []byte(strings.ToLower(marker)),
		"hex":       []byte(strings.ToUpper(hex.EncodeToString([]byte(marker)))),
	}
	for k := 0; k < 3; k++ {
		in := append([]byte(strings.Repeat("q", k)+"{\"transcript\":\""), marker+"\"}"...)
		forms[fmt.Sprintf("base64 %d", k)] = []byte(base64.StdEncoding.EncodeToString(in))
		forms[fmt.Sprintf("base64url %d", k)] = []byte(base64.RawURLEncoding.EncodeToString(in))
		forms[fmt.Sprintf("percent %d", k)] = []byte(canaryPercentAll(in))
	}
	for name, b := range forms {
		if found, _ := canaryFind(b, patterns); len(found) == 0 {
			t.Fatalf("scanner self-test: the %s form of the marker is not recognised: %s", name, b)
		}
	}
	if f, _ := canaryFind([]byte(base64.StdEncoding.EncodeToString([]byte(canaryMarkerLike(marker)))), patterns); len(f) != 0 {
		t.Fatalf("scanner self-test: a different marker matched %v", f)
	}
}

// canaryMarkerLike is a marker differing from m in one hex digit in the
// middle.
func canaryMarkerLike(m string) string {
	i := len(m) - 8
	c := byte('0')
	if m[i] == '0' {
		c = '1'
	}
	return m[:i] + string(c) + m[i+1:]
}

// canaryNoMarker fails if an API answer contains the marker.
func canaryNoMarker(t *testing.T, what string, v any, patterns []canaryPattern) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if found, excerpt := canaryFind(b, patterns); len(found) > 0 {
		t.Errorf("%s contains %s: …%s…", what, strings.Join(found, ", "), excerpt)
	}
}

// canaryScan reads every file under root and fails on any form of the
// marker. It returns the files scanned, relative to root.
func canaryScan(t *testing.T, root string, patterns []canaryPattern) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			if os.IsNotExist(err) {
				return nil // a temporary file that went away
			}
			return err
		}
		files = append(files, rel)
		if found, excerpt := canaryFind(b, patterns); len(found) > 0 {
			t.Errorf("%s (%d bytes) contains %s: …%s…", rel, len(b), strings.Join(found, ", "), excerpt)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", root, err)
	}
	sort.Strings(files)
	return files
}

// audioCanaryPatterns are runs of the call's bytes and of its decoded PCM
// (64 bytes each, from the loudest stretch of speech), in every encoding
// canaryPatterns knows: the μ-law WAV's data, the MP3's frames, and the
// 16-bit samples of channel 1 as the server decodes them.
func audioCanaryPatterns(t *testing.T, call *testCall) []canaryPattern {
	t.Helper()
	pcm, err := wavData(call.WAV16) // 16 kHz stereo: frame i at 4i
	if err != nil {
		t.Fatal(err)
	}
	loudest, best := 0, 0.0
	for i := 0; i+64 < len(pcm)/4; i += 32 {
		var e float64
		for k := range 32 {
			v := float64(int16(encbin.LittleEndian.Uint16(pcm[4*(i+k):])))
			e += v * v
		}
		if e > best {
			loudest, best = i, e
		}
	}
	at := float64(loudest) / callRate // seconds
	mulaw, err := wavData(call.MuLaw) // 8 kHz stereo μ-law: frame i at 2i
	if err != nil {
		t.Fatal(err)
	}
	wavRun := mulaw[2*int(at*8000) : 2*int(at*8000)+64]
	// Channel 1 decoded from the μ-law (G.711 expansion, as any decoder does).
	decoded := make([]byte, 0, 64)
	for k := range 32 {
		v := mulawExpand(wavRun[2*k])
		decoded = append(decoded, byte(v), byte(uint16(v)>>8))
	}
	// The server's own decoder must agree, or the pattern proves nothing.
	if d, err := audio.Decode(call.MuLaw, "audio/wav", audio.Limits{}); err != nil || d.SampleRate != 8000 ||
		!bytes.Contains(encodePCM(d.Channels[0]), decoded) {
		t.Fatalf("the decoded-PCM pattern is not what internal/audio decodes (%v)", err)
	}
	// The same frames as a stored recording holds them (16-bit stereo
	// WAV, channels interleaved).
	stereo := make([]byte, 0, 128)
	for _, u := range wavRun {
		v := mulawExpand(u)
		stereo = append(stereo, byte(v), byte(uint16(v)>>8))
	}
	mp3Run := call.MP3[len(call.MP3)/2 : len(call.MP3)/2+64]
	var ps []canaryPattern
	for _, r := range []struct{ name, bytes string }{{"μ-law WAV bytes", string(wavRun)}, {"decoded PCM of channel 1", string(decoded)},
		{"decoded PCM as a stereo WAV", string(stereo)}, {"MP3 bytes", string(mp3Run)}} {
		for _, p := range canaryPatterns("audio", r.bytes) {
			p.name = strings.Replace(p.name, "audio marker "+r.bytes, "audio: 64 bytes of the "+r.name, 1)
			ps = append(ps, p)
		}
	}
	return ps
}

// mulawExpand is G.711 μ-law to 16-bit linear.
func mulawExpand(u byte) int16 {
	u = ^u
	t := (int(u&0x0F)<<3 + 0x84) << (int(u&0x70) >> 4)
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func encodePCM(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		encbin.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}
