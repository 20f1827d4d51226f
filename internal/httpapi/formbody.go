package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unsafe"
)

// bigValue is the size from which a form value is a view of the body buffer
// instead of a copy.
const bigValue = 4 << 10

// readForm returns a request's parameters as Request.ParseForm would: those
// of an application/x-www-form-urlencoded body (POST, PUT, PATCH) before
// those of the query. Unlike ParseForm, it reads the body into one buffer of
// the declared length (no doubling while reading, no string copy of the whole
// body) and decodes it in place; values of bigValue bytes or more are views
// of that buffer, which is never written again, so a 16 MiB Channel costs
// about 16 MiB and not three or four times that.
func readForm(r *http.Request) (url.Values, error) {
	v := url.Values{}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		ct := strings.ToLower(r.Header.Get("Content-Type"))
		if r.Body != nil && strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			body, err := readBody(r)
			if err != nil {
				return nil, err
			}
			if err := parseFormBody(body, v); err != nil {
				return nil, err
			}
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	for k, vs := range q {
		v[k] = append(v[k], vs...)
	}
	return v, nil
}

// readBody reads the whole body: into a buffer of exactly Content-Length
// bytes when it is declared, else growing as it arrives.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= MaxBodyBytes {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, fmt.Errorf("reading the request body: %w", err)
		}
		return buf, nil
	}
	buf, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	return buf, nil
}

var errBadForm = errors.New("malformed form body")

// parseFormBody adds the pairs of an urlencoded body to v, decoding body in
// place.
func parseFormBody(body []byte, v url.Values) error {
	for len(body) > 0 {
		var pair []byte
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			pair, body = body, nil
		}
		if bytes.IndexByte(pair, ';') >= 0 {
			return fmt.Errorf("%w: semicolon separator", errBadForm)
		}
		if len(pair) == 0 {
			continue
		}
		key, value, _ := bytes.Cut(pair, []byte("="))
		key, ok1 := unescapeInPlace(key)
		value, ok2 := unescapeInPlace(value)
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: invalid escape", errBadForm)
		}
		k := string(key)
		v[k] = append(v[k], viewOrCopy(value))
	}
	return nil
}

// viewOrCopy returns a small value as a copy (so that it does not pin the
// body buffer) and a big one as a view of b, which must never be written
// again.
func viewOrCopy(b []byte) string {
	if len(b) < bigValue {
		return string(b)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// unescapeInPlace decodes '+' and %XX as url.QueryUnescape does, writing
// into b itself (the result is never longer), and returns the decoded prefix.
func unescapeInPlace(b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return b, true
	}
	w := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '+':
			b[w] = ' '
		case '%':
			if i+2 >= len(b) {
				return nil, false
			}
			hi, ok1 := unhexByte(b[i+1])
			lo, ok2 := unhexByte(b[i+2])
			if !ok1 || !ok2 {
				return nil, false
			}
			b[w] = hi<<4 | lo
			i += 2
		default:
			b[w] = c
		}
		w++
	}
	return b[:w], true
}

func unhexByte(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
