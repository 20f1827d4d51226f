package media

import (
	"fmt"
	"html"
	"strings"
	"unicode"
)

// parseVTT converts WebVTT cues into sentences. Each cue becomes a sentence;
// its lines are joined with a space and its tags removed (entities are
// decoded). The speaker comes from the cue's first <v Name> voice span or,
// failing that, a short "Name: " prefix (which is removed from the text).
// The first distinct speaker is media channel 1, the second 2, and so on;
// cues without a speaker are channel 1. NOTE, STYLE and REGION blocks are
// skipped; cue identifiers and cue settings are accepted and ignored.
func parseVTT(data []byte) (*Document, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")

	first := lines[0]
	if !strings.HasPrefix(first, "WEBVTT") || (len(first) > 6 && first[6] != ' ' && first[6] != '\t') {
		return nil, invalidf("missing WEBVTT signature on line 1")
	}
	i := 1
	// Header lines run up to the first blank line (a line with "-->" starts
	// a cue even without the blank line).
	for i < len(lines) && lines[i] != "" && !strings.Contains(lines[i], "-->") {
		i++
	}

	var (
		sentences []Sentence
		cueLines  []int // line number (1-based) of each cue's timing line
		speakers  = map[string]int{}
	)
	for i < len(lines) {
		if strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		start := i
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			i++
		}
		block := lines[start:i]
		if isVTTKeyword(block[0], "NOTE") || isVTTKeyword(block[0], "STYLE") || isVTTKeyword(block[0], "REGION") {
			continue
		}
		t := 0
		if !strings.Contains(block[0], "-->") {
			t = 1 // block[0] is the cue identifier
		}
		line := start + t + 1
		where := fmt.Sprintf("cue at line %d", line)
		if t >= len(block) || !strings.Contains(block[t], "-->") {
			return nil, invalidf("block at line %d: not a cue (no \"-->\" timing line) and not NOTE, STYLE or REGION", start+1)
		}
		if len(sentences) >= MaxSentences {
			return nil, invalidf("more than %d cues", MaxSentences)
		}
		startTime, endTime, err := parseCueTiming(block[t])
		if err != nil {
			return nil, invalidf("%s: %v", where, err)
		}
		payload := block[t+1:]
		for k, l := range payload {
			if strings.Contains(l, "-->") {
				return nil, invalidf("%s: payload line %d contains \"-->\" (missing blank line before the next cue?)", where, k+1)
			}
		}
		speaker, transcript := cueText(payload)
		channel := 1
		if speaker != "" {
			ch, ok := speakers[speaker]
			if !ok {
				if len(speakers) >= MaxMediaChannel {
					return nil, invalidf("%s: more than %d distinct speakers", where, MaxMediaChannel)
				}
				ch = len(speakers) + 1
				speakers[speaker] = ch
			}
			channel = ch
		}
		sentences = append(sentences, Sentence{
			MediaChannel: channel,
			StartTime:    startTime,
			EndTime:      endTime,
			Transcript:   transcript,
		})
		cueLines = append(cueLines, line)
	}
	if err := validate(sentences, func(i int, field string) string {
		return fmt.Sprintf("cue at line %d: %s", cueLines[i], field)
	}); err != nil {
		return nil, err
	}
	return &Document{Sentences: sentences}, nil
}

func isVTTKeyword(line, kw string) bool {
	rest, ok := strings.CutPrefix(line, kw)
	return ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t')
}

// parseCueTiming parses "start --> end [settings]".
func parseCueTiming(line string) (float64, float64, error) {
	left, right, _ := strings.Cut(line, "-->")
	start, ok := parseVTTTimestamp(strings.TrimSpace(left))
	if !ok {
		return 0, 0, fmt.Errorf("invalid start timestamp")
	}
	fields := strings.Fields(right)
	if len(fields) == 0 {
		return 0, 0, fmt.Errorf("missing end timestamp")
	}
	end, ok := parseVTTTimestamp(fields[0])
	if !ok {
		return 0, 0, fmt.Errorf("invalid end timestamp")
	}
	return start, end, nil
}

// parseVTTTimestamp parses [hh:]mm:ss.ttt (hours may have more digits).
func parseVTTTimestamp(s string) (float64, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, false
	}
	var hours int64
	if len(parts) == 3 {
		h, ok := digits(parts[0], 1, 9)
		if !ok {
			return 0, false
		}
		hours = h
		parts = parts[1:]
	}
	minutes, ok := digits(parts[0], 2, 2)
	if !ok || minutes > 59 {
		return 0, false
	}
	secStr, msStr, found := strings.Cut(parts[1], ".")
	if !found {
		return 0, false
	}
	seconds, ok := digits(secStr, 2, 2)
	if !ok || seconds > 59 {
		return 0, false
	}
	millis, ok := digits(msStr, 3, 3)
	if !ok {
		return 0, false
	}
	total := ((hours*60+minutes)*60+seconds)*1000 + millis
	return float64(total) / 1000, true
}

// digits parses an unsigned decimal of minLen..maxLen ASCII digits.
func digits(s string, minLen, maxLen int) (int64, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// cueText strips tags from a cue payload and returns the speaker (from the
// first voice span or a "Name: " prefix) and the plain text with whitespace
// collapsed.
func cueText(payload []string) (speaker, text string) {
	raw := strings.Join(payload, "\n")
	var b strings.Builder
	for raw != "" {
		lt := strings.IndexByte(raw, '<')
		if lt < 0 {
			b.WriteString(html.UnescapeString(raw))
			break
		}
		b.WriteString(html.UnescapeString(raw[:lt]))
		raw = raw[lt+1:]
		tag := raw
		if gt := strings.IndexByte(raw, '>'); gt >= 0 {
			tag, raw = raw[:gt], raw[gt+1:]
		} else {
			raw = ""
		}
		if speaker == "" {
			speaker = voiceAnnotation(tag)
		}
		// Tags are removed without inserting spaces, as a renderer would.
	}
	text = strings.Join(strings.Fields(b.String()), " ")
	if speaker == "" {
		if name, rest, ok := speakerPrefix(text); ok {
			speaker, text = name, rest
		}
	}
	return speaker, text
}

// voiceAnnotation returns the annotation of a "v" start tag
// ("v Name", "v.class Name"), normalized, or "".
func voiceAnnotation(tag string) string {
	if len(tag) < 2 || tag[0] != 'v' {
		return ""
	}
	name := tag[1:]
	if name[0] == '.' {
		// Skip classes: up to the first whitespace.
		i := strings.IndexAny(name, " \t\n\f")
		if i < 0 {
			return ""
		}
		name = name[i:]
	} else if name[0] != ' ' && name[0] != '\t' && name[0] != '\n' && name[0] != '\f' {
		return "" // another tag starting with v
	}
	return strings.Join(strings.Fields(html.UnescapeString(name)), " ")
}

// speakerPrefix recognizes "Name: text" where Name is at most three words
// and 32 bytes of letters, digits, spaces and . ' _ - (so sentences that
// merely contain a colon are left alone as far as practical).
func speakerPrefix(text string) (name, rest string, ok bool) {
	name, rest, found := strings.Cut(text, ": ")
	if !found || name == "" || len(name) > 32 || strings.TrimSpace(rest) == "" {
		return "", "", false
	}
	if len(strings.Fields(name)) > 3 {
		return "", "", false
	}
	for i, r := range name {
		switch {
		case unicode.IsLetter(r):
		case i == 0:
			return "", "", false
		case unicode.IsDigit(r), r == ' ', r == '.', r == '\'', r == '_', r == '-':
		default:
			return "", "", false
		}
	}
	return name, strings.TrimSpace(rest), true
}
