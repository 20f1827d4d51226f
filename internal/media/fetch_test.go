package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testTimeout = 200 * time.Millisecond

var loopback4 = netip.MustParseAddr("127.0.0.1")

// onlyLoopback4 plays the role of "this is a public address" for the test
// servers, which can only listen on loopback. Everything else, including
// ::1 and 127.0.0.2, stays forbidden.
func onlyLoopback4(a netip.Addr) bool { return a.Unmap() == loopback4 }

// countingServer is an httptest server on 127.0.0.1 that counts requests.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

// hostPort returns "127.0.0.1:port" of the server.
func (cs *countingServer) hostPort() string { return strings.TrimPrefix(cs.URL, "http://") }

func (cs *countingServer) port() string {
	_, p, _ := net.SplitHostPort(cs.hostPort())
	return p
}

func fetch(t *testing.T, f *Fetcher, rawURL string) (*Media, error) {
	t.Helper()
	if f.Timeout == 0 {
		f.Timeout = 2 * time.Second
	}
	return f.Fetch(context.Background(), rawURL)
}

func TestFetchDataURL(t *testing.T) {
	tests := []struct {
		name, url, wantType, wantData string
	}{
		{"base64", "data:application/json;base64,eyJhIjoxfQ==", "application/json", `{"a":1}`},
		{"base64 no padding", "data:application/json;base64,eyJhIjoxfQ", "application/json", `{"a":1}`},
		{"base64 whitespace and percent", "data:text/vtt;BASE64,V0VC%20VlRU", "text/vtt", "WEBVTT"},
		{"percent-encoded", "data:text/vtt,WEBVTT%0A%0A00:00.000%20--%3E%2000:01.000%0Ahi+there", "text/vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nhi+there"},
		{"default media type", "data:,hello", "text/plain;charset=US-ASCII", "hello"},
		{"parameters only", "data:;charset=utf-8,hello", "text/plain;charset=utf-8", "hello"},
		{"with params and base64", "data:application/json;charset=utf-8;base64,e30=", "application/json;charset=utf-8", "{}"},
		{"uppercase scheme", "DATA:text/plain,x", "text/plain", "x"},
		{"fragment ignored", "data:text/plain,abc#frag", "text/plain", "abc"},
		{"empty payload", "data:text/plain,", "text/plain", ""},
		{"surrounding space", "  data:text/plain,x \n", "text/plain", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := fetch(t, &Fetcher{}, tt.url)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if m.ContentType != tt.wantType || string(m.Data) != tt.wantData {
				t.Errorf("got (%q, %q), want (%q, %q)", m.ContentType, m.Data, tt.wantType, tt.wantData)
			}
		})
	}
}

func TestFetchDataURLErrors(t *testing.T) {
	tests := []struct {
		name, url string
		max       int64
		want      error
	}{
		{"no comma", "data:text/plain;base64", 0, ErrBadDataURL},
		{"bad percent", "data:text/plain,SECRET%zz", 0, ErrBadDataURL},
		{"truncated percent", "data:text/plain,SECRET%4", 0, ErrBadDataURL},
		{"bad base64", "data:text/plain;base64,SECRET!!", 0, ErrBadDataURL},
		{"bad base64 length", "data:text/plain;base64,QUJDR", 0, ErrBadDataURL},
		{"bad media type", "data:text/(plain),SECRET", 0, ErrBadDataURL},
		{"too large percent", "data:text/plain,SECRET-0123456789", 10, ErrTooLarge},
		{"too large percent escapes", "data:text/plain,%53%45%43%52%45%54%53%45%43%52%45%54", 10, ErrTooLarge},
		{"too large base64", "data:text/plain;base64,U0VDUkVULTAxMjM0NTY3ODk=", 10, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetch(t, &Fetcher{MaxBytes: tt.max}, tt.url)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var fe *FetchError
			if !errors.As(err, &fe) || fe.URL != "data:" {
				t.Errorf("want *FetchError with URL data:, got %#v", err)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "U0VD") {
				t.Errorf("error leaks the payload: %v", err)
			}
		})
	}
	// Exactly at the limit is fine.
	if _, err := fetch(t, &Fetcher{MaxBytes: 3}, "data:,abc"); err != nil {
		t.Errorf("payload of exactly MaxBytes: %v", err)
	}
}

func TestFetchSchemes(t *testing.T) {
	tests := []struct {
		url  string
		want error
	}{
		{"file:///etc/passwd", ErrUnsupportedScheme},
		{"ftp://example.com/x.json", ErrUnsupportedScheme},
		{"gopher://example.com/", ErrUnsupportedScheme},
		{"javascript:alert(1)", ErrUnsupportedScheme},
		{"example.com/x.json", ErrUnsupportedScheme},
		{"//example.com/x.json", ErrUnsupportedScheme},
		{"http:///x.json", ErrBadURL},
		{"http:opaque", ErrBadURL},
		{"http://[::1/x", ErrBadURL},
		{"http://exa mple.com/", ErrBadURL},
	}
	for _, tt := range tests {
		_, err := fetch(t, &Fetcher{AllowPrivate: true}, tt.url)
		if !errors.Is(err, tt.want) {
			t.Errorf("Fetch(%q) = %v, want %v", tt.url, err, tt.want)
		}
	}
}

func TestFetchHTTP(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, "%s|%s|%v|%s|%s", user, pass, ok, r.URL.RawQuery, r.Header.Get("User-Agent"))
	})
	m, err := fetch(t, &Fetcher{AllowPrivate: true}, "http://alice:pw@"+srv.hostPort()+"/t.json?sig=abc")
	if err != nil {
		t.Fatal(err)
	}
	if want := "alice|pw|true|sig=abc|" + userAgent; string(m.Data) != want {
		t.Errorf("body = %q, want %q", m.Data, want)
	}
	if m.ContentType != "application/json; charset=utf-8" {
		t.Errorf("ContentType = %q", m.ContentType)
	}
}

func TestFetchHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/vtt")
		fmt.Fprint(w, "WEBVTT\n")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-CA case logs a handshake error
	srv.StartTLS()
	defer srv.Close()
	tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig

	f := &Fetcher{isAllowed: onlyLoopback4, tlsConfig: tlsConf}
	m, err := fetch(t, f, srv.URL+"/x.vtt")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "WEBVTT\n" || m.ContentType != "text/vtt" {
		t.Errorf("got (%q, %q)", m.ContentType, m.Data)
	}

	// Without the test CA the certificate is rejected, as ErrFetch.
	_, err = fetch(t, &Fetcher{isAllowed: onlyLoopback4}, srv.URL+"/x.vtt")
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: err = %v", err)
	}
}

func TestFetchForbidden(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "internal") })
	port := srv.port()
	lookupTo := func(addrs ...string) func(context.Context, string) ([]netip.Addr, error) {
		return func(context.Context, string) ([]netip.Addr, error) {
			var out []netip.Addr
			for _, a := range addrs {
				out = append(out, netip.MustParseAddr(a))
			}
			return out, nil
		}
	}
	tests := []struct {
		name   string
		url    string
		lookup func(context.Context, string) ([]netip.Addr, error)
	}{
		{"loopback literal", "http://127.0.0.1:" + port + "/", nil},
		{"localhost", "http://localhost:" + port + "/", nil},
		{"localhost trailing dot", "http://localhost.:" + port + "/", nil},
		{"ipv6 loopback", "http://[::1]:" + port + "/", nil},
		{"ipv4-mapped loopback", "http://[::ffff:127.0.0.1]:" + port + "/", nil},
		{"unspecified", "http://0.0.0.0:" + port + "/", nil},
		{"metadata address", "http://169.254.169.254/latest/meta-data/", nil},
		{"metadata name", "http://metadata.google.internal/computeMetadata/v1/", nil},
		{"private", "http://10.0.0.1/", nil},
		{"decimal IPv4", "http://2130706433:" + port + "/", nil},
		{"short IPv4", "http://127.1:" + port + "/", nil},
		{"scoped link-local", "http://[fe80::1%25lo]:" + port + "/", nil},
		{"cgnat", "http://100.64.0.1/", nil},
		{"ula", "https://[fd00::1]/", nil},
		{"name resolving to loopback", "http://media.example.com:" + port + "/", lookupTo("127.0.0.1")},
		{"name resolving to mapped private", "http://media.example.com/", lookupTo("::ffff:192.168.0.1")},
		{"name with public and private addresses", "http://media.example.com:" + port + "/", lookupTo("8.8.8.8", "127.0.0.1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetch(t, &Fetcher{lookup: tt.lookup}, tt.url)
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("err = %v, want ErrForbiddenAddress", err)
			}
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("internal server received %d requests", n)
	}
	// The same server is reachable when private addresses are allowed.
	if _, err := fetch(t, &Fetcher{AllowPrivate: true}, "http://localhost:"+port+"/"); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
}

func TestControlChecksDialedAddress(t *testing.T) {
	f := &Fetcher{}
	for addr, forbidden := range map[string]bool{
		"127.0.0.1:80":         true,
		"[::ffff:10.0.0.1]:80": true,
		"[fe80::1%lo]:80":      true,
		"8.8.8.8:443":          false,
		"[2001:4860::1]:443":   false,
	} {
		err := f.control("tcp", addr, nil)
		if got := errors.Is(err, ErrForbiddenAddress); got != forbidden {
			t.Errorf("control(%s) = %v, want forbidden=%v", addr, err, forbidden)
		}
	}
	if err := (&Fetcher{AllowPrivate: true}).control("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("AllowPrivate control: %v", err)
	}
}

func TestFetchRedirects(t *testing.T) {
	internal := newServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "internal") })
	var target string
	var authSeen []string
	var mu sync.Mutex
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		authSeen = append(authSeen, r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/go":
			http.Redirect(w, r, target, http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
		case "/final":
			fmt.Fprint(w, "final")
		default:
			http.NotFound(w, r)
		}
	})
	forbiddenTargets := []string{
		"http://169.254.169.254/latest/meta-data/iam/",
		"http://metadata.google.internal/computeMetadata/v1/",
		"http://localhost:" + internal.port() + "/",
		"http://[::1]:" + internal.port() + "/",
		"http://127.0.0.2:" + internal.port() + "/",
		"http://10.1.2.3/",
		"http://[::ffff:192.168.1.1]/",
	}
	for _, tgt := range forbiddenTargets {
		target = tgt
		_, err := fetch(t, &Fetcher{isAllowed: onlyLoopback4}, srv.URL+"/go")
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("redirect to %s: err = %v, want ErrForbiddenAddress", tgt, err)
		}
		var fe *FetchError
		if errors.As(err, &fe) && fe.Redirect == "" {
			t.Errorf("redirect to %s: FetchError.Redirect not set", tgt)
		}
	}
	if n := internal.hits.Load(); n != 0 {
		t.Errorf("internal server received %d requests", n)
	}

	target = "file:///etc/passwd"
	_, err := fetch(t, &Fetcher{isAllowed: onlyLoopback4}, srv.URL+"/go")
	var fe *FetchError
	if !errors.Is(err, ErrUnsupportedScheme) || !errors.As(err, &fe) || fe.Redirect != "file:///etc/passwd" {
		t.Errorf("redirect to file: err = %v", err)
	}

	// Allowed redirect, same origin: credentials forwarded.
	target = "/final"
	mu.Lock()
	authSeen = nil
	mu.Unlock()
	m, err := fetch(t, &Fetcher{isAllowed: onlyLoopback4}, "http://u:p@"+srv.hostPort()+"/go")
	if err != nil || string(m.Data) != "final" {
		t.Fatalf("same-origin redirect: %v", err)
	}
	if len(authSeen) != 2 || authSeen[1] == "" {
		t.Errorf("same-origin redirect: Authorization per hop = %q", authSeen)
	}

	// Cross-origin redirect: credentials dropped.
	target = "http://other.example.com:" + srv.port() + "/final"
	mu.Lock()
	authSeen = nil
	mu.Unlock()
	f := &Fetcher{isAllowed: onlyLoopback4, lookup: func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{loopback4}, nil
	}}
	m, err = fetch(t, f, "http://u:p@"+srv.hostPort()+"/go")
	if err != nil || string(m.Data) != "final" {
		t.Fatalf("cross-origin redirect: %v", err)
	}
	if len(authSeen) != 2 || authSeen[0] == "" || authSeen[1] != "" {
		t.Errorf("cross-origin redirect: Authorization per hop = %q", authSeen)
	}

	// Redirect limits.
	_, err = fetch(t, &Fetcher{isAllowed: onlyLoopback4, MaxRedirects: 3}, srv.URL+"/loop")
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("redirect loop: err = %v", err)
	}
	_, err = fetch(t, &Fetcher{isAllowed: onlyLoopback4, MaxRedirects: -1}, srv.URL+"/go")
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("redirects disabled: err = %v", err)
	}
}

// TestFetchDNSRebinding: the name resolves to a "public" address the first
// time and to 127.0.0.1 afterwards. A fetcher that checks one resolution and
// dials another would reach the loopback server; this one dials exactly
// the address it checked, so it reaches the public server, and refuses
// later connections. 127.0.0.2 stands in for the public address (the tests
// cannot reach the internet) and is listened on with the same port.
func TestFetchDNSRebinding(t *testing.T) {
	secret := newServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") })
	ln, err := net.Listen("tcp", "127.0.0.2:"+secret.port())
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	public := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "public")
	}))
	public.Listener.Close()
	public.Listener = ln
	public.Start()
	defer public.Close()

	publicAddr := netip.MustParseAddr("127.0.0.2")
	var lookups atomic.Int64
	f := &Fetcher{
		isAllowed: func(a netip.Addr) bool { return a == publicAddr },
		lookup: func(context.Context, string) ([]netip.Addr, error) {
			if lookups.Add(1) == 1 {
				return []netip.Addr{publicAddr}, nil
			}
			return []netip.Addr{loopback4}, nil
		},
	}
	u := "http://rebind.example.com:" + secret.port() + "/"
	m, err := fetch(t, f, u)
	if err != nil {
		t.Fatalf("first fetch: %v", err)
	}
	if string(m.Data) != "public" {
		t.Errorf("first fetch got %q, want the checked (public) server", m.Data)
	}
	if n := lookups.Load(); n != 1 {
		t.Errorf("first fetch resolved %d times, want once (check and dial share one resolution)", n)
	}
	if _, err := fetch(t, f, u); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("after rebinding: err = %v, want ErrForbiddenAddress", err)
	}
	if n := secret.hits.Load(); n != 0 {
		t.Errorf("loopback server received %d requests", n)
	}
}

func TestFetchTooLarge(t *testing.T) {
	body := strings.Repeat("x", 2000)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			fmt.Fprint(w, body)
		case "/chunked":
			for i := 0; i < len(body); i += 100 {
				fmt.Fprint(w, body[i:i+100])
				w.(http.Flusher).Flush()
			}
		case "/exact":
			fmt.Fprint(w, body[:1000])
		}
	})
	f := &Fetcher{AllowPrivate: true, MaxBytes: 1000}
	for _, path := range []string{"/length", "/chunked"} {
		_, err := fetch(t, f, srv.URL+path)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", path, err)
		}
	}
	if m, err := fetch(t, f, srv.URL+"/exact"); err != nil || len(m.Data) != 1000 {
		t.Errorf("/exact: %v", err)
	}
}

func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "partial")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	for _, path := range []string{"/headers", "/body"} {
		start := time.Now()
		_, err := (&Fetcher{AllowPrivate: true, Timeout: testTimeout}).Fetch(context.Background(), srv.URL+path)
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("%s: err = %v, want ErrTimeout", path, err)
		}
		if d := time.Since(start); d > 10*testTimeout {
			t.Errorf("%s: took %v", path, d)
		}
	}

	// The caller's deadline is a timeout too.
	dctx, dcancel := context.WithTimeout(context.Background(), testTimeout)
	defer dcancel()
	_, err := (&Fetcher{AllowPrivate: true}).Fetch(dctx, srv.URL+"/headers")
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "caller's deadline") {
		t.Errorf("caller deadline: err = %v, want ErrTimeout", err)
	}

	// A cancelled caller context is reported as such.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = (&Fetcher{AllowPrivate: true}).Fetch(ctx, srv.URL+"/headers")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

func TestFetchHTTPStatus(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscanf(r.URL.Path, "/%d", &code)
		w.WriteHeader(code)
		fmt.Fprint(w, "body")
	})
	for _, code := range []int{204, 404, 403, 500, 503, 302, 304} {
		_, err := fetch(t, &Fetcher{AllowPrivate: true}, fmt.Sprintf("%s/%d", srv.URL, code))
		if code == 204 {
			if err != nil {
				t.Errorf("204: %v", err)
			}
			continue
		}
		var se *HTTPStatusError
		if !errors.Is(err, ErrHTTPStatus) || !errors.As(err, &se) || se.StatusCode != code {
			t.Errorf("%d: err = %v", code, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprint(code)) {
			t.Errorf("%d: error does not name the status: %v", code, err)
		}
	}
}

// TestFetchErrorsRedactSecrets: errors show scheme://host/path only, never
// userinfo, query, fragment or fetched content.
func TestFetchErrorsRedactSecrets(t *testing.T) {
	const canary = "CANARY-CONTENT-91c2"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/404":
			http.Error(w, canary, http.StatusNotFound)
		case "/big":
			fmt.Fprint(w, strings.Repeat(canary, 100))
		case "/slow":
			<-r.Context().Done()
		case "/redirect":
			http.Redirect(w, r, "http://10.0.0.1/x?token=REDIRSECRET", http.StatusFound)
		case "/garbage", "/reason":
			hj, _ := w.(http.Hijacker)
			conn, buf, _ := hj.Hijack()
			defer conn.Close()
			if r.URL.Path == "/garbage" {
				buf.WriteString("HTTP/1.1 abc " + canary + "\r\n\r\n")
			} else {
				buf.WriteString("HTTP/1.1 418 " + canary + "\r\nContent-Length: 0\r\n\r\n")
			}
			buf.Flush()
		}
	})
	secrets := []string{"alice", "s3cr3t", "T0K3N", "frag", "REDIRSECRET", canary}
	withSecrets := func(base, path string) string {
		return strings.Replace(base, "://", "://alice:s3cr3t@", 1) + path + "?token=T0K3N&x=1#frag"
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name string
		f    *Fetcher
		url  string
	}{
		{"forbidden", &Fetcher{}, withSecrets(srv.URL, "/x")},
		{"status", &Fetcher{AllowPrivate: true}, withSecrets(srv.URL, "/404")},
		{"status reason phrase", &Fetcher{AllowPrivate: true}, withSecrets(srv.URL, "/reason")},
		{"too large", &Fetcher{AllowPrivate: true, MaxBytes: 10}, withSecrets(srv.URL, "/big")},
		{"timeout", &Fetcher{AllowPrivate: true, Timeout: testTimeout}, withSecrets(srv.URL, "/slow")},
		{"redirect to forbidden", &Fetcher{isAllowed: onlyLoopback4}, withSecrets(srv.URL, "/redirect")},
		{"malformed response", &Fetcher{AllowPrivate: true}, withSecrets(srv.URL, "/garbage")},
		{"connection refused", &Fetcher{AllowPrivate: true}, withSecrets(closedURL, "/")},
		{"dns failure", &Fetcher{lookup: func(context.Context, string) ([]netip.Addr, error) {
			return nil, &net.DNSError{Err: "no such host", Name: "nx.example.com", IsNotFound: true}
		}}, "https://alice:s3cr3t@nx.example.com/p?token=T0K3N#frag"},
		{"scheme", &Fetcher{}, "ftp://alice:s3cr3t@example.com/p?token=T0K3N#frag"},
		{"unparsable", &Fetcher{}, "http://alice:s3cr3t@[::1/p?token=T0K3N#frag"},
		{"unparsable port", &Fetcher{}, "http://alice:s3cr3t@example.com:port/p?token=T0K3N"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetch(t, tt.f, tt.url)
			if err == nil {
				t.Fatal("want an error")
			}
			msg := err.Error()
			for _, s := range secrets {
				if strings.Contains(msg, s) {
					t.Errorf("error %q contains %q", msg, s)
				}
			}
			var fe *FetchError
			if !errors.As(err, &fe) {
				t.Errorf("want *FetchError, got %T", err)
			}
			t.Log(msg)
		})
	}
}

func TestTransportIgnoresProxyEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.example.com:3128")
	t.Setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
	if tr := (&Fetcher{}).newTransport(); tr.Proxy != nil {
		t.Error("Transport.Proxy must be nil")
	}
}
