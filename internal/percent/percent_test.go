package percent

import (
	"net/url"
	"testing"
)

func TestDecodeInPlace(t *testing.T) {
	for _, tc := range []struct {
		in          string
		plusIsSpace bool
		want        string
		ok          bool
	}{
		{"plain", true, "plain", true},
		{"a+b%20c%2Bd", true, "a b c+d", true},
		{"a+b%20c%2Bd", false, "a+b c+d", true},
		{"%e2%82%AC", false, "€", true},
		{"%", false, "", false},
		{"ab%4", true, "", false},
		{"%zz", false, "", false},
		{"%41", true, "A", true},
	} {
		got, ok := DecodeInPlace([]byte(tc.in), tc.plusIsSpace)
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("DecodeInPlace(%q, %v) = %q, %v; want %q, %v", tc.in, tc.plusIsSpace, got, ok, tc.want, tc.ok)
		}
		if tc.plusIsSpace {
			if want, err := url.QueryUnescape(tc.in); (err == nil) != ok || (ok && want != string(got)) {
				t.Errorf("DecodeInPlace(%q) = %q, %v; url.QueryUnescape %q, %v", tc.in, got, ok, want, err)
			}
		}
	}
}
