package media

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

type jsonSentence struct {
	MediaChannel *int       `json:"media_channel"`
	StartTime    *float64   `json:"start_time"`
	EndTime      *float64   `json:"end_time"`
	Transcript   *string    `json:"transcript"`
	Confidence   *float64   `json:"confidence"`
	Words        []jsonWord `json:"words"`
}

type jsonWord struct {
	Word      *string  `json:"word"`
	StartTime *float64 `json:"start_time"`
	EndTime   *float64 `json:"end_time"`
}

// parseJSON streams {"sentences":[...]} one sentence at a time, so the
// sentence limit is enforced before everything is decoded and decode errors
// can name the sentence index.
func parseJSON(data []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()

	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError("document", err, dec)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalidf("document: must be a JSON object")
	}
	var (
		sentences []Sentence
		seen      bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError("document", err, dec)
		}
		key, _ := tok.(string)
		if key != "sentences" {
			// Field names come from the customer's document: never repeat them.
			return nil, invalidf("document: unknown field (only \"sentences\" is allowed at the top level)")
		}
		if seen {
			return nil, invalidf("document: duplicate field \"sentences\"")
		}
		seen = true
		tok, err = dec.Token()
		if err != nil {
			return nil, jsonError("sentences", err, dec)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, invalidf("sentences: must be an array")
		}
		for i := 0; dec.More(); i++ {
			where := fmt.Sprintf("sentences[%d]", i)
			if i >= MaxSentences {
				return nil, invalidf("sentences: more than %d sentences", MaxSentences)
			}
			var js jsonSentence
			if err := dec.Decode(&js); err != nil {
				return nil, jsonError(where, err, dec)
			}
			s, err := js.sentence(where)
			if err != nil {
				return nil, err
			}
			sentences = append(sentences, s)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, jsonError("sentences", err, dec)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, jsonError("document", err, dec)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidf("document: unexpected data after the JSON object (byte offset %d)", dec.InputOffset())
	}
	if !seen {
		return nil, invalidf("document: missing field \"sentences\"")
	}
	if err := validate(sentences, func(i int, field string) string { return fmt.Sprintf("sentences[%d].%s", i, field) }); err != nil {
		return nil, err
	}
	return &Document{Sentences: sentences}, nil
}

func (js *jsonSentence) sentence(where string) (Sentence, error) {
	switch {
	case js.MediaChannel == nil:
		return Sentence{}, invalidf("%s.media_channel: missing", where)
	case js.StartTime == nil:
		return Sentence{}, invalidf("%s.start_time: missing", where)
	case js.EndTime == nil:
		return Sentence{}, invalidf("%s.end_time: missing", where)
	case js.Transcript == nil:
		return Sentence{}, invalidf("%s.transcript: missing", where)
	}
	s := Sentence{
		MediaChannel: *js.MediaChannel,
		StartTime:    *js.StartTime,
		EndTime:      *js.EndTime,
		Transcript:   *js.Transcript,
		Confidence:   js.Confidence,
	}
	if len(js.Words) > 0 {
		s.Words = make([]Word, len(js.Words))
	}
	for j, w := range js.Words {
		wwhere := fmt.Sprintf("%s.words[%d]", where, j)
		switch {
		case w.Word == nil:
			return Sentence{}, invalidf("%s.word: missing", wwhere)
		case w.StartTime == nil:
			return Sentence{}, invalidf("%s.start_time: missing", wwhere)
		case w.EndTime == nil:
			return Sentence{}, invalidf("%s.end_time: missing", wwhere)
		}
		s.Words[j] = Word{Word: *w.Word, StartTime: *w.StartTime, EndTime: *w.EndTime}
	}
	return s, nil
}

// jsonError rewrites encoding/json errors, whose messages can quote document
// bytes or Go type names, into safe messages.
func jsonError(where string, err error, dec *json.Decoder) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return invalidf("%s: malformed JSON (byte offset %d)", where, syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "value"
		}
		got, _, _ := strings.Cut(typ.Value, " ") // "number 1e999" -> "number"
		return invalidf("%s.%s: expected %s, got %s", where, truncate(field, 64), jsonKind(typ.Type), got)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalidf("%s: unexpected end of JSON (byte offset %d)", where, dec.InputOffset())
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		// The name comes from the customer's document: never repeat it.
		return invalidf("%s: unknown field (a sentence has media_channel, start_time, end_time, transcript, confidence and words; a word has word, start_time and end_time)", where)
	}
	return invalidf("%s: malformed JSON (byte offset %d)", where, dec.InputOffset())
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "a boolean"
	}
	return "a different type"
}
