package media

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestPublicReasonHidesNetworkDetail: what a name resolves to, and whether a
// port refuses or times out, stays out of the customer's failure reason
// (the error itself, for the operator's log, keeps it).
func TestPublicReasonHidesNetworkDetail(t *testing.T) {
	// A port that refuses: listen, note the port, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := l.Addr().String()
	l.Close()
	// A port that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	internal := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("::ffff:10.1.2.3")}, nil
	}
	tests := []struct {
		name, url, want, detail string
		f                       *Fetcher
	}{
		{"name resolving to a private address", "http://db.corp.example:5432/x", ReasonForbidden, "10.1.2.3", &Fetcher{lookup: internal}},
		{"internal host name", "http://metadata.google.internal/x", ReasonForbidden, "internal", &Fetcher{}},
		{"refusing port", "http://" + refusing + "/x", ReasonUnreachable, "refused", &Fetcher{AllowPrivate: true}},
		{"silent port", "http://" + silent.Addr().String() + "/x", ReasonUnreachable, "no complete response", &Fetcher{AllowPrivate: true, Timeout: 300 * time.Millisecond}},
		{"unresolvable name", "http://no-such-host.invalid/x", ReasonUnreachable, "no-such-host", &Fetcher{AllowPrivate: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Fetch(context.Background(), tt.url)
			if err == nil {
				t.Fatal("fetch succeeded")
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q lacks the operator's detail %q", err, tt.detail)
			}
			got := PublicReason(err)
			if got != tt.want {
				t.Errorf("PublicReason = %q, want %q", got, tt.want)
			}
		})
	}
	// An HTTP answer is the customer's business: its status is kept.
	if got := PublicReason(&FetchError{URL: "https://x/", Err: &HTTPStatusError{StatusCode: http.StatusNotFound}}); !strings.Contains(got, "404 Not Found") {
		t.Errorf("PublicReason(404) = %q", got)
	}
}
