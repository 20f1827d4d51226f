package media

import (
	"encoding/base64"
	"mime"
	"strings"

	"github.com/convoseal/convoseal/internal/percent"
)

const defaultDataMediaType = "text/plain;charset=US-ASCII"

// decodeDataURL decodes an RFC 2397 data: URL
// (data:[<mediatype>][;base64],<data>). raw must start with "data:" (any
// case). The fragment, if any, is ignored. Errors never include the payload.
func decodeDataURL(raw string, maxBytes int64) (*Media, error) {
	rest := raw[len("data:"):]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	comma := strings.IndexByte(rest, ',')
	if comma < 0 {
		return nil, newErr(ErrBadDataURL, "missing ',' before the data")
	}
	header, payload := strings.TrimSpace(rest[:comma]), rest[comma+1:]

	isBase64 := false
	if i := strings.LastIndexByte(header, ';'); i >= 0 && strings.EqualFold(strings.TrimSpace(header[i+1:]), "base64") {
		isBase64 = true
		header = strings.TrimSpace(header[:i])
	}
	mediaType := header
	switch {
	case mediaType == "":
		mediaType = defaultDataMediaType
	case strings.HasPrefix(mediaType, ";"):
		mediaType = "text/plain" + mediaType
	}
	if _, _, err := mime.ParseMediaType(mediaType); err != nil {
		return nil, newErr(ErrBadDataURL, "invalid media type")
	}

	// Each decoded byte takes at least one encoded character; percent-encoded
	// bytes take three. Refuse early what cannot fit.
	if !isBase64 && int64(len(payload)-2*strings.Count(payload, "%")) > maxBytes {
		return nil, newErr(ErrTooLarge, "data: URL payload exceeds %d bytes", maxBytes)
	}
	// The payload is decoded in one copy when it has no percent-encoding
	// (the usual base64 case): a data: URL may be 16 MiB.
	var data []byte
	ok := true
	switch {
	case strings.IndexByte(payload, '%') >= 0:
		if data, ok = percent.DecodeInPlace([]byte(payload), false); !ok {
			return nil, newErr(ErrBadDataURL, "invalid percent-encoding")
		}
		if isBase64 {
			data, ok = decodeBase64(data)
		}
	case isBase64:
		data, ok = decodeBase64String(payload)
	default:
		data = []byte(payload)
	}
	if !ok {
		return nil, newErr(ErrBadDataURL, "invalid base64")
	}
	if int64(len(data)) > maxBytes {
		return nil, newErr(ErrTooLarge, "data: URL payload exceeds %d bytes", maxBytes)
	}
	return &Media{ContentType: mediaType, Data: data}, nil
}

// decodeBase64String is decodeBase64 of a string, allocating only the
// decoded bytes when s has no whitespace.
func decodeBase64String(s string) ([]byte, bool) {
	if strings.ContainsAny(s, " \t\n\r\f") {
		return decodeBase64([]byte(s))
	}
	if len(s)%4 == 0 {
		for i := 0; i < 2 && len(s) > 0 && s[len(s)-1] == '='; i++ {
			s = s[:len(s)-1]
		}
	}
	out, err := base64.RawStdEncoding.DecodeString(s)
	return out, err == nil
}

// decodeBase64 decodes the standard alphabet, ignoring ASCII whitespace and
// accepting missing padding (as browsers do).
func decodeBase64(in []byte) ([]byte, bool) {
	clean := make([]byte, 0, len(in))
	for _, c := range in {
		switch c {
		case ' ', '\t', '\n', '\r', '\f':
			continue
		}
		clean = append(clean, c)
	}
	if len(clean)%4 == 0 {
		// Padding, if any, must then be complete.
		for i := 0; i < 2 && len(clean) > 0 && clean[len(clean)-1] == '='; i++ {
			clean = clean[:len(clean)-1]
		}
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.RawStdEncoding.Decode(out, clean)
	if err != nil {
		return nil, false
	}
	return out[:n], true
}
