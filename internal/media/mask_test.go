package media

import "testing"

func TestMaskURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://host/x.json", "https://host/x.json"},
		{"https://host/a%2Fb/x.json", "https://host/a%2Fb/x.json"},
		{"https://user:pass@host/x?token=SECRET&a=b", "https://host/x?token=***&a=***"},
		{"https://user@host:8443/x", "https://host:8443/x"},
		{"http://host/x?SECRET", "http://host/x?***"},
		{"http://host/x?a=&&b=c=d", "http://host/x?a=***&&b=***"},
		{"http://host/x#frag-SECRET", "http://host/x"},
		{"https://us%zzer:pass@host/x", "https://***"},
		{"https:user:pass@host", "https://***"},
		{"HTTPS:///nohost?token=SECRET", "https://***"},
	} {
		if got := MaskURL(c.in); got != c.want {
			t.Errorf("MaskURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
