package media

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// canary is placed in every transcript; no error may contain it.
const canary = "CANARY-TEXT-5d1e"

func ptr[T any](v T) *T { return &v }

func mustParse(t *testing.T, contentType, data string) *Document {
	t.Helper()
	doc, err := Parse(&Media{ContentType: contentType, Data: []byte(data)})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return doc
}

func TestParseJSON(t *testing.T) {
	const doc = `{"sentences":[
		{"media_channel":1,"start_time":0.0,"end_time":1.9,"transcript":"Hello there","confidence":0.93,
		 "words":[{"word":"Hello","start_time":0.0,"end_time":0.3},{"word":"there","start_time":0.4,"end_time":0.9}]},
		{"media_channel":2,"start_time":1.5,"end_time":1.5,"transcript":"Hi, ünïcode ✓"}
	]}`
	want := &Document{Sentences: []Sentence{
		{MediaChannel: 1, StartTime: 0, EndTime: 1.9, Transcript: "Hello there", Confidence: ptr(0.93),
			Words: []Word{{"Hello", 0, 0.3}, {"there", 0.4, 0.9}}},
		{MediaChannel: 2, StartTime: 1.5, EndTime: 1.5, Transcript: "Hi, ünïcode ✓"},
	}}
	for _, ct := range []string{
		"application/json",
		"application/json; charset=utf-8",
		"Application/JSON",
		"application/vnd.convoseal.transcript+json",
		"text/json",
		"",                          // sniffed
		"text/plain;charset=UTF-8",  // sniffed
		"application/octet-stream",  // sniffed
		"application/json; charset", // broken parameter ignored
	} {
		for _, prefix := range []string{"", "\ufeff", " \n"} {
			got := mustParse(t, ct, prefix+doc)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("content type %q, prefix %q: got %+v", ct, prefix, got)
			}
		}
	}
}

func TestParseJSONInvalid(t *testing.T) {
	s := func(fields string) string { // one sentence with extra/overridden fields
		return `{"sentences":[{"media_channel":1,"start_time":0,"end_time":1,"transcript":"ok ` + canary + `"},{` + fields + `}]}`
	}
	base := `"media_channel":1,"start_time":0,"end_time":1,"transcript":"` + canary + `"`
	tests := []struct {
		name, doc, want string
	}{
		{"not an object", `[{"transcript":"` + canary + `"}]`, "document: must be a JSON object"},
		{"empty", ``, "document: unexpected end"},
		{"malformed", `{"sentences":[{"transcript":"` + canary + `\x"}]}`, "sentences[0]: malformed JSON"},
		{"truncated", `{"sentences":[{"transcript":"` + canary, "sentences[0]: unexpected end"},
		{"trailing data", `{"sentences":[{` + base + `}]} {"` + canary + `":1}`, "unexpected data after"},
		{"unknown top-level field", `{"sentences":[{` + base + `}],"speakers":["` + canary + `"]}`, `document: unknown field (only`},
		{"top-level field case", `{"Sentences":[{` + base + `}]}`, `document: unknown field (only`},
		{"duplicate sentences", `{"sentences":[{` + base + `}],"sentences":[]}`, "duplicate"},
		{"unknown sentence field", s(base + `,"speaker":"` + canary + `"`), `sentences[1]: unknown field (a sentence has`},
		{"unknown word field", s(base + `,"words":[{"word":"` + canary + `","start_time":0,"end_time":1,"conf":1}]`), `sentences[1]: unknown field (a sentence has`},
		{"missing sentences", `{}`, `missing field "sentences"`},
		{"null sentences", `{"sentences":null}`, "sentences: must be an array"},
		{"no sentences", `{"sentences":[]}`, "no sentences"},
		{"null sentence", `{"sentences":[null]}`, "sentences[0].media_channel: missing"},
		{"missing channel", s(`"start_time":0,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].media_channel: missing"},
		{"missing start", s(`"media_channel":1,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].start_time: missing"},
		{"missing end", s(`"media_channel":1,"start_time":1,"transcript":"` + canary + `"`), "sentences[1].end_time: missing"},
		{"missing transcript", s(`"media_channel":1,"start_time":0,"end_time":1`), "sentences[1].transcript: missing"},
		{"channel 0", s(`"media_channel":0,"start_time":0,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].media_channel: must be between 1 and 16"},
		{"channel 17", s(`"media_channel":17,"start_time":0,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].media_channel"},
		{"channel negative", s(`"media_channel":-1,"start_time":0,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].media_channel"},
		{"channel fractional", s(`"media_channel":1.5,"start_time":0,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].media_channel: expected an integer, got number"},
		{"channel string", s(`"media_channel":"1","start_time":0,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].media_channel: expected an integer, got string"},
		{"transcript number", s(`"media_channel":1,"start_time":0,"end_time":1,"transcript":5,"x":"` + canary + `"`), "sentences[1].transcript: expected a string"},
		{"huge number", s(`"media_channel":1,"start_time":1e999,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].start_time: expected a number"},
		{"negative start", s(`"media_channel":1,"start_time":-0.5,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].start_time: negative"},
		{"end before start", s(`"media_channel":1,"start_time":2,"end_time":1,"transcript":"` + canary + `"`), "sentences[1].end_time: before start_time"},
		{"empty transcript", s(`"media_channel":1,"start_time":0,"end_time":1,"transcript":""`), "sentences[1].transcript: empty"},
		{"blank transcript", s(`"media_channel":1,"start_time":0,"end_time":1,"transcript":" \n\t"`), "sentences[1].transcript: empty"},
		{"long transcript", s(`"media_channel":1,"start_time":0,"end_time":1,"transcript":"` + strings.Repeat(canary, MaxTranscriptBytes/len(canary)+1) + `"`), "sentences[1].transcript: longer than 65536 bytes"},
		{"confidence high", s(base + `,"confidence":1.5`), "sentences[1].confidence: must be between 0 and 1"},
		{"confidence negative", s(base + `,"confidence":-0.1`), "sentences[1].confidence"},
		{"words out of order", s(base + `,"words":[{"word":"b","start_time":0.5,"end_time":0.6},{"word":"` + canary + `","start_time":0.1,"end_time":0.2}]`), "sentences[1].words[1].start_time: before the previous word"},
		{"word end before start", s(base + `,"words":[{"word":"` + canary + `","start_time":0.5,"end_time":0.4}]`), "sentences[1].words[0].end_time: before start_time"},
		{"word negative", s(base + `,"words":[{"word":"` + canary + `","start_time":-1,"end_time":0.4}]`), "sentences[1].words[0].start_time: negative"},
		{"word empty", s(base + `,"words":[{"word":" ","start_time":0,"end_time":0.4}]`), "sentences[1].words[0].word: empty"},
		{"word missing", s(base + `,"words":[{"start_time":0,"end_time":0.4}]`), "sentences[1].words[0].word: missing"},
		{"invalid UTF-8", `{"sentences":[{` + base + `,"x":"` + canary + "\xff\xfe" + `"}]}`, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(&Media{ContentType: "application/json", Data: []byte(tt.doc)})
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("err = %v, want ErrInvalidDocument", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "CANARY") {
				t.Errorf("error leaks transcript text: %q", err)
			}
		})
	}
}

func TestParseJSONSentenceLimit(t *testing.T) {
	one := `{"media_channel":1,"start_time":0,"end_time":1,"transcript":"a"}`
	build := func(n int) []byte {
		var b strings.Builder
		b.WriteString(`{"sentences":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(one)
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	}
	doc, err := Parse(&Media{ContentType: "application/json", Data: build(MaxSentences)})
	if err != nil || len(doc.Sentences) != MaxSentences {
		t.Fatalf("%d sentences: %v", MaxSentences, err)
	}
	_, err = Parse(&Media{ContentType: "application/json", Data: build(MaxSentences + 1)})
	if !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), "more than 100000 sentences") {
		t.Errorf("%d sentences: err = %v", MaxSentences+1, err)
	}
}

func TestParseWebVTT(t *testing.T) {
	tests := []struct {
		name, ct, doc string
		want          []Sentence
	}{
		{
			name: "voices, identifiers, notes, multi-line",
			ct:   "text/vtt",
			doc: "WEBVTT - call 42\nKind: captions\n\n" +
				"STYLE\n::cue { color: red }\n\n" +
				"REGION\nid:left width:40%\n\n" +
				"NOTE this is a comment\nspanning lines\n\n" +
				"1\n00:00.000 --> 00:01.900 align:start position:10%\n<v Alice>Hello <i>there</i>,\nhow are you?</v>\n\n" +
				"intro-2\n00:00:02.000 --> 00:00:03.500\n<v.loud Bob Smith>Fine &amp; you?\n\n" +
				"NOTE\nanother note\n\n" +
				"00:03.500 --> 00:05.000\n<v Alice><c.yellow>Great</c> <00:03.900>thanks\n\n" +
				"01:00:00.001 --> 01:00:02.000\n<v   Bob   Smith>Bye\n",
			want: []Sentence{
				{MediaChannel: 1, StartTime: 0, EndTime: 1.9, Transcript: "Hello there, how are you?"},
				{MediaChannel: 2, StartTime: 2, EndTime: 3.5, Transcript: "Fine & you?"},
				{MediaChannel: 1, StartTime: 3.5, EndTime: 5, Transcript: "Great thanks"},
				{MediaChannel: 2, StartTime: 3600.001, EndTime: 3602, Transcript: "Bye"},
			},
		},
		{
			name: "speaker prefixes, CRLF, BOM, sniffed",
			ct:   "",
			doc: "\ufeffWEBVTT\r\n\r\n00:00.000 --> 00:01.000\r\nAgent: Thanks for calling.\r\n\r\n" +
				"00:01.000 --> 00:02.000\r\nCustomer: Hi: I have a question\r\n\r\n" +
				"00:02.000 --> 00:03.000\r\nAgent: Sure.\r\n\r\n" +
				"00:03.000 --> 00:04.000\r\nThe time was 10:30 and it said: wait for it\r\n",
			want: []Sentence{
				{MediaChannel: 1, StartTime: 0, EndTime: 1, Transcript: "Thanks for calling."},
				{MediaChannel: 2, StartTime: 1, EndTime: 2, Transcript: "Hi: I have a question"},
				{MediaChannel: 1, StartTime: 2, EndTime: 3, Transcript: "Sure."},
				{MediaChannel: 1, StartTime: 3, EndTime: 4, Transcript: "The time was 10:30 and it said: wait for it"},
			},
		},
		{
			name: "no speakers, cue right after header, escaped tags",
			ct:   "text/vtt; charset=utf-8",
			doc:  "WEBVTT\n00:00.500 --> 00:01.000\n&lt;not a tag&gt; <b>bold</b>\n\n\n\n00:01.000 --> 00:01.000\nsame start and end\n",
			want: []Sentence{
				{MediaChannel: 1, StartTime: 0.5, EndTime: 1, Transcript: "<not a tag> bold"},
				{MediaChannel: 1, StartTime: 1, EndTime: 1, Transcript: "same start and end"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.ct, tt.doc)
			if !reflect.DeepEqual(got.Sentences, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got.Sentences, tt.want)
			}
		})
	}
}

func TestParseWebVTTInvalid(t *testing.T) {
	cue := func(timing, text string) string { return timing + "\n" + text + "\n\n" }
	var many strings.Builder
	many.WriteString("WEBVTT\n\n")
	for i := range MaxMediaChannel + 1 {
		many.WriteString(cue("00:00.000 --> 00:01.000", fmt.Sprintf("<v S%d>%s", i, canary)))
	}
	tests := []struct {
		name, doc, want string
	}{
		{"no signature", "WEBVTTX\n\n" + cue("00:00.000 --> 00:01.000", canary), "missing WEBVTT signature"},
		{"srt", "1\n00:00:00,000 --> 00:00:01,000\n" + canary + "\n", "missing WEBVTT signature"},
		{"no cues", "WEBVTT\n\nNOTE " + canary + "\n", "no sentences"},
		{"comma decimal", "WEBVTT\n\n" + cue("00:00,000 --> 00:01.000", canary), "cue at line 3: invalid start timestamp"},
		{"bad minutes", "WEBVTT\n\n" + cue("00:60.000 --> 01:01.000", canary), "cue at line 3: invalid start timestamp"},
		{"short millis", "WEBVTT\n\n" + cue("00:00.000 --> 00:01.00", canary), "cue at line 3: invalid end timestamp"},
		{"missing end", "WEBVTT\n\nid\n00:00.000 -->\n" + canary + "\n", "cue at line 4: missing end timestamp"},
		{"end before start", "WEBVTT\n\n" + cue("00:02.000 --> 00:01.000", canary), "cue at line 3: end_time: before start_time"},
		{"empty text", "WEBVTT\n\n" + cue("00:00.000 --> 00:01.000", "<b></b>"), "cue at line 3: transcript: empty"},
		{"no text", "WEBVTT\n\n00:00.000 --> 00:01.000\n", "cue at line 3: transcript: empty"},
		{"not a cue", "WEBVTT\n\n" + canary + "\n" + canary + "\n", "block at line 3: not a cue"},
		{"arrow in payload", "WEBVTT\n\n00:00.000 --> 00:01.000\n" + canary + "\n00:01.000 --> 00:02.000\nx\n", "payload line 2 contains"},
		{"too many speakers", many.String(), "more than 16 distinct speakers"},
		{"long cue", "WEBVTT\n\n" + cue("00:00.000 --> 00:01.000", strings.Repeat(canary+" ", MaxTranscriptBytes/len(canary))), "transcript: longer than"},
		{"invalid UTF-8", "WEBVTT\n\n" + cue("00:00.000 --> 00:01.000", canary+"\xc3\x28"), "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(&Media{ContentType: "text/vtt", Data: []byte(tt.doc)})
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("err = %v, want ErrInvalidDocument", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Errorf("error leaks transcript text: %q", err)
			}
		})
	}
}

func TestParseUnsupported(t *testing.T) {
	wav := "RIFF\x24\x00\x00\x00WAVEfmt " + canary
	tests := []struct {
		name, ct, data, want string
	}{
		{"wav by type", "audio/wav", wav, "audio transcription is not available"},
		{"mpeg by type", "audio/mpeg", canary, "audio transcription is not available"},
		{"video", "video/mp4", canary, "audio transcription is not available"},
		{"wav sniffed", "application/octet-stream", wav, "audio transcription is not available"},
		{"ogg sniffed", "", "OggS" + canary, "audio transcription is not available"},
		{"html", "text/html", "<html>" + canary, `content type "text/html" is not supported`},
		{"image", "image/png", "\x89PNG" + canary, `content type "image/png"`},
		{"unrecognized text", "text/plain", canary, "unrecognized content"},
		{"utf-16", "application/json; charset=utf-16", "{}", `charset "utf-16" is not supported`},
		{"malformed content type", "text/(vtt", "WEBVTT\n", "malformed content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(&Media{ContentType: tt.ct, Data: []byte(tt.data)})
			if !errors.Is(err, ErrUnsupportedMedia) {
				t.Fatalf("err = %v, want ErrUnsupportedMedia", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Errorf("error leaks content: %q", err)
			}
		})
	}
	if _, err := Parse(nil); !errors.Is(err, ErrInvalidDocument) {
		t.Errorf("Parse(nil) = %v", err)
	}
}

// TestFetchThenParse goes from a data: URL to sentences.
func TestFetchThenParse(t *testing.T) {
	m, err := fetch(t, &Fetcher{}, "data:text/vtt,WEBVTT%0A%0A00:00.000%20--%3E%2000:01.000%0A%3Cv%20Ann%3EHi")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Sentences) != 1 || doc.Sentences[0].Transcript != "Hi" {
		t.Errorf("got %+v", doc.Sentences)
	}
}
