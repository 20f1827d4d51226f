// Package percent decodes percent-encoded (%XX) bytes in place.
package percent

import "bytes"

// DecodeInPlace decodes the %XX escapes of b strictly (a '%' not followed by
// two hexadecimal digits fails), writing into b itself (the result is never
// longer), and returns the decoded prefix of b. With plusIsSpace, '+' decodes
// to a space, as url.QueryUnescape does; otherwise it is a literal plus sign.
func DecodeInPlace(b []byte, plusIsSpace bool) ([]byte, bool) {
	if bytes.IndexByte(b, '%') < 0 && (!plusIsSpace || bytes.IndexByte(b, '+') < 0) {
		return b, true
	}
	w := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '+' && plusIsSpace:
			b[w] = ' '
		case c == '%':
			if i+2 >= len(b) {
				return nil, false
			}
			hi, ok1 := unhex(b[i+1])
			lo, ok2 := unhex(b[i+2])
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

func unhex(c byte) (byte, bool) {
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
