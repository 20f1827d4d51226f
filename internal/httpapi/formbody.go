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

	"github.com/convoseal/convoseal/internal/percent"
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
		key, ok1 := percent.DecodeInPlace(key, true)
		value, ok2 := percent.DecodeInPlace(value, true)
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
