package httpapi

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/convoseal/convoseal"
)

// maxChannelRest bounds a Channel without its media_url string: everything
// but an inline data: URL must fit in it.
const maxChannelRest = 64 << 10

// errChannelSyntax is the error for a Channel that is not a JSON object.
func errChannelSyntax() *convoseal.Error {
	return convoseal.Invalidf("Channel must be a JSON object such as {\"media_properties\":{\"media_url\":\"https://…\"}}")
}

// splitChannel cuts the media_properties.media_url string out of a Channel
// before anything is decoded generically, so that a large Channel costs one
// allocation-free scan and not a decoded tree. It returns the Channel with
// that string replaced by "" (at most maxChannelRest bytes, else an error)
// and the media URL (found is false when the Channel has no media_url
// string; rest is then the whole Channel). A large media URL without JSON
// escapes is returned without a copy.
func splitChannel(raw string) (rest, mediaURL string, found bool, cerr *convoseal.Error) {
	start, end, err := mediaURLSpan(raw)
	if err != nil {
		return "", "", false, err
	}
	if start < 0 {
		if len(raw) > maxChannelRest {
			return "", "", false, channelTooLarge()
		}
		return raw, "", false, nil
	}
	if len(raw)-(end-start) > maxChannelRest {
		return "", "", false, channelTooLarge()
	}
	lit := raw[start:end]
	switch {
	case len(lit) <= maxChannelRest:
		if json.Unmarshal([]byte(lit), &mediaURL) != nil {
			return "", "", false, errChannelSyntax()
		}
	case !isDataURLLiteral(lit):
		return "", "", false, convoseal.Invalidf("Channel.media_properties.media_url is longer than %d characters", maxMediaURL)
	case strings.IndexByte(lit, '\\') >= 0:
		// Rare: a large data: URL with JSON escapes (e.g. "\/").
		if json.Unmarshal([]byte(lit), &mediaURL) != nil {
			return "", "", false, errChannelSyntax()
		}
	default:
		mediaURL = lit[1 : len(lit)-1]
		if !utf8.ValidString(mediaURL) || strings.IndexFunc(mediaURL, func(r rune) bool { return r < 0x20 }) >= 0 {
			return "", "", false, errChannelSyntax()
		}
	}
	return raw[:start] + `""` + raw[end:], mediaURL, true, nil
}

func channelTooLarge() *convoseal.Error {
	return convoseal.Invalidf("Channel is too large (at most 64 KiB besides an inline data: URL)")
}

// isDataURLLiteral reports whether a JSON string literal begins with
// "data:" (any case, after blanks), unescaped.
func isDataURLLiteral(lit string) bool {
	s := strings.TrimLeft(lit[1:], " \t\r\n")
	return len(s) >= 5 && strings.EqualFold(s[:5], "data:")
}

// mediaURLSpan scans a JSON text without decoding it and returns the byte
// offsets of the string literal (quotes included) that is the value of
// media_properties.media_url in the top-level object, or start = -1 when
// there is none. It lexes every token, so the span is exact for any valid
// JSON text; an invalid text may yield a span or none, and is refused later
// when the rest is decoded (replacing one string literal by another keeps a
// text valid or invalid). A repeated media_properties or media_url is refused:
// the generic decoder would keep the last one.
func mediaURLSpan(raw string) (start, end int, cerr *convoseal.Error) {
	const (
		other = iota // a level the scan does not look into
		top          // the top-level object
		props        // media_properties
	)
	type frame struct {
		kind    int
		object  bool
		inValue bool   // after ':' (objects)
		key     string // the current key, at the top and media_properties levels
	}
	var (
		stack      [3]frame // levels deeper than 2 are only counted
		depth      int
		nProps     int
		nURL       int
		start0     = -1
		end0       = -1
		keyMatches = func(lit, want string) bool {
			if len(lit) > 6*len(want)+2 {
				return false
			}
			if strings.IndexByte(lit, '\\') < 0 {
				return lit[1:len(lit)-1] == want
			}
			var k string
			return json.Unmarshal([]byte(lit), &k) == nil && k == want
		}
	)
	cur := func() *frame {
		if depth >= 1 && depth <= 2 {
			return &stack[depth]
		}
		return nil
	}
	for i := 0; i < len(raw); {
		c := raw[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			i++
		case '{', '[':
			kind := other
			if f := cur(); depth == 0 && c == '{' {
				kind = top
			} else if f != nil && f.kind == top && f.object && f.inValue && c == '{' && f.key == "media_properties" {
				kind = props
			}
			depth++
			if depth <= 2 {
				stack[depth] = frame{kind: kind, object: c == '{'}
			}
			i++
		case '}', ']':
			depth--
			if depth < 0 {
				return -1, -1, errChannelSyntax()
			}
			i++
		case ':':
			if f := cur(); f != nil {
				f.inValue = true
			}
			i++
		case ',':
			if f := cur(); f != nil {
				f.inValue, f.key = false, ""
			}
			i++
		case '"':
			j := i + 1
			for {
				k := strings.IndexAny(raw[j:], `"\`)
				if k < 0 {
					return -1, -1, errChannelSyntax()
				}
				j += k
				if raw[j] == '\\' {
					if j += 2; j > len(raw) {
						return -1, -1, errChannelSyntax()
					}
					continue
				}
				break
			}
			lit := raw[i : j+1]
			if f := cur(); f != nil && f.object {
				switch {
				case !f.inValue && f.kind == top:
					f.key = ""
					if keyMatches(lit, "media_properties") {
						f.key = "media_properties"
						if nProps++; nProps > 1 {
							return -1, -1, convoseal.Invalidf("Channel.media_properties is given more than once")
						}
					}
				case !f.inValue && f.kind == props:
					f.key = ""
					if keyMatches(lit, "media_url") {
						f.key = "media_url"
						if nURL++; nURL > 1 {
							return -1, -1, convoseal.Invalidf("Channel.media_properties.media_url is given more than once")
						}
					}
				case f.inValue && f.kind == props && f.key == "media_url":
					start0, end0 = i, j+1
				}
			}
			i = j + 1
		default:
			i++
		}
	}
	return start0, end0, nil
}
