package blob

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// served is a Local store behind an httptest server, with a settable clock.
type served struct {
	l   *Local
	dir string
	srv *httptest.Server
	now time.Time
}

func newServed(t *testing.T) *served {
	t.Helper()
	s := &served{now: time.Unix(1_800_000_000, 0)}
	mux := http.NewServeMux()
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	s.l, s.dir = newTestLocal(t, s.srv.URL+"/") // trailing slash is trimmed
	s.l.now = func() time.Time { return s.now }
	mux.Handle(PathPrefix, s.l.Handler())
	return s
}

func (s *served) do(t *testing.T, method, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), s.dir) || strings.Contains(string(body), "@") {
		t.Errorf("%s %s: response body %q shows a file system path", method, u, body)
	}
	return resp, string(body)
}

func (s *served) location(t *testing.T, key string, expiry time.Duration) string {
	t.Helper()
	u, err := s.l.Location(t.Context(), key, expiry)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var testMeta = map[string]string{
	"x-amz-key":      "V3JhcHBlZEtleQ==",
	"x-amz-iv":       "AAECAwQFBgcICQoL",
	"x-amz-cek-alg":  "AES/GCM/NoPadding",
	"x-amz-wrap-alg": "RSA-OAEP-SHA256",
	"x-amz-tag-len":  "128",
	"x-amz-matdesc":  `{"credential_sid":"CR0123456789abcdef0123456789abcdef","fingerprint":"sha256:00"}`,
}

func TestLocationFormat(t *testing.T) {
	s := newServed(t)
	u := s.location(t, testKey, 15*time.Minute)
	expires := strconv.FormatInt(s.now.Unix()+15*60, 10)
	m := hmac.New(sha256.New, testSigningKey)
	m.Write([]byte("GET\n" + testKey + "\n" + expires))
	want := s.srv.URL + "/blobs/" + testKey + "?X-Convoseal-Expires=" + expires +
		"&X-Convoseal-Signature=" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if u != want {
		t.Errorf("Location:\n got %s\nwant %s", u, want)
	}
	if _, err := s.l.Location(t.Context(), "../x", time.Minute); err == nil {
		t.Error("Location of an invalid key succeeded")
	}
	if _, err := s.l.Location(t.Context(), testKey, 0); err == nil {
		t.Error("Location with zero expiry succeeded")
	}
}

func TestDownload(t *testing.T) {
	s := newServed(t)
	body := []byte("\x00\x01ciphertext||tag\xff")
	if err := s.l.Put(t.Context(), testKey, body, testMeta); err != nil {
		t.Fatal(err)
	}
	u := s.location(t, testKey, time.Hour)

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp, got := s.do(t, method, u)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, body %q", method, resp.StatusCode, got)
		}
		wantBody := string(body)
		if method == http.MethodHead {
			wantBody = ""
		}
		if got != wantBody {
			t.Errorf("%s: body %q, want %q", method, got, wantBody)
		}
		want := http.Header{
			"Content-Type":           {"application/octet-stream"},
			"Content-Length":         {strconv.Itoa(len(body))},
			"Cache-Control":          {"no-store"},
			"X-Content-Type-Options": {"nosniff"},
		}
		for k, v := range testMeta {
			want[http.CanonicalHeaderKey("x-amz-meta-"+k)] = []string{v}
		}
		gotH := resp.Header.Clone()
		gotH.Del("Date")
		if !headersEqual(gotH, want) {
			t.Errorf("%s headers:\n got %v\nwant %v", method, gotH, want)
		}
	}
}

func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestMetadataHeadersLowercase checks that x-amz-meta-* names go on the wire
// in lowercase, as S3 sends them.
func TestMetadataHeadersLowercase(t *testing.T) {
	s := newServed(t)
	if err := s.l.Put(t.Context(), "a", []byte("x"), map[string]string{"x-amz-iv": "aXY="}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, s.location(t, "a", time.Minute), nil)
	rec := httptest.NewRecorder()
	s.l.Handler().ServeHTTP(rec, req)
	//lint:ignore SA1008 the point is that the name is not canonicalized
	if v, ok := rec.Result().Header["x-amz-meta-x-amz-iv"]; !ok || len(v) != 1 || v[0] != "aXY=" {
		t.Errorf("headers %v lack a lowercase x-amz-meta-x-amz-iv", rec.Result().Header)
	}
}

func TestDownloadRefused(t *testing.T) {
	s := newServed(t)
	if err := s.l.Put(t.Context(), testKey, []byte("ciphertext"), testMeta); err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(testKey, "unredacted", "redacted", 1)
	if err := s.l.Put(t.Context(), other, []byte("other ciphertext"), testMeta); err != nil {
		t.Fatal(err)
	}
	u := s.location(t, testKey, time.Hour)
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	sig, exp := q.Get(SignatureParam), q.Get(ExpiresParam)
	with := func(path, expires, signature string) string {
		v := url.Values{}
		if expires != "" {
			v.Set(ExpiresParam, expires)
		}
		if signature != "" {
			v.Set(SignatureParam, signature)
		}
		return s.srv.URL + path + "?" + v.Encode()
	}
	flip := func(s string) string {
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	expInt, _ := strconv.ParseInt(exp, 10, 64)

	const (
		signature = "The request signature we calculated does not match the signature you provided."
		expired   = "Request has expired"
	)
	tests := []struct {
		name   string
		url    string
		status int
		msg    string
	}{
		{"tampered signature", with(pu.Path, exp, flip(sig)), 403, signature},
		{"truncated signature", with(pu.Path, exp, sig[:len(sig)-1]), 403, signature},
		{"signature not base64", with(pu.Path, exp, "!!!"), 403, signature},
		{"tampered key", with("/blobs/"+other, exp, sig), 403, signature},
		{"key with dot-dot", with("/blobs/"+testKey+"/../redacted", exp, sig), 403, signature},
		{"tampered expiry", with(pu.Path, strconv.FormatInt(expInt+3600, 10), sig), 403, signature},
		{"expiry with leading zero", with(pu.Path, "0"+exp, sig), 403, signature},
		{"no signature", with(pu.Path, exp, ""), 403, "requires the X-Convoseal-Signature and X-Convoseal-Expires"},
		{"no expiry", with(pu.Path, "", sig), 403, "requires the X-Convoseal-Signature"},
		{"outside /blobs/", s.srv.URL + "/blobsx/" + testKey + "?" + pu.RawQuery, 404, ""},
	}
	for _, tt := range tests {
		resp, body := s.do(t, http.MethodGet, tt.url)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d (body %q)", tt.name, resp.StatusCode, tt.status, body)
			continue
		}
		if tt.status == 403 {
			checkError(t, tt.name, resp, body, tt.msg)
		}
	}

	// Expiry, with the clock hook: valid until the second before expiry.
	s.now = time.Unix(expInt-1, 0)
	if resp, _ := s.do(t, http.MethodGet, u); resp.StatusCode != 200 {
		t.Errorf("one second before expiry: status %d", resp.StatusCode)
	}
	for _, now := range []time.Time{time.Unix(expInt, 0), time.Unix(expInt+86400, 0)} {
		s.now = now
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp, body := s.do(t, method, u)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s at %v (expiry %d): status %d, want 403", method, now.Unix(), expInt, resp.StatusCode)
				continue
			}
			if method == http.MethodGet {
				checkError(t, "expired", resp, body, expired)
			}
		}
	}
	// An expired URL with a bad signature says the signature is wrong.
	resp, body := s.do(t, http.MethodGet, with(pu.Path, exp, flip(sig)))
	checkError(t, "expired and tampered", resp, body, signature)
}

func checkError(t *testing.T, name string, resp *http.Response, body, msg string) {
	t.Helper()
	if len(resp.Header.Values("x-amz-meta-x-amz-key")) != 0 || strings.Contains(body, "ciphertext") {
		t.Errorf("%s: the refusal leaked the object", name)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("%s: Content-Type %q", name, ct)
	}
	if !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>") ||
		!strings.Contains(body, msg) || !strings.HasSuffix(body, "</Message></Error>\n") {
		t.Errorf("%s: body %q, want an XML error with message %q", name, body, msg)
	}
}

func TestDownloadNotFound(t *testing.T) {
	s := newServed(t)
	u := s.location(t, testKey, time.Hour)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp, body := s.do(t, method, u)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s of a missing object: status %d", method, resp.StatusCode)
		}
		if method == http.MethodGet && !strings.Contains(body, "<Code>NoSuchKey</Code>") {
			t.Errorf("%s of a missing object: body %q", method, body)
		}
	}
	// A "directory" is not an object.
	if err := s.l.Put(t.Context(), testKey, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if resp, _ := s.do(t, http.MethodGet, s.location(t, "AC0123456789abcdef0123456789abcdef", time.Hour)); resp.StatusCode != 404 {
		t.Errorf("GET of a directory: status %d", resp.StatusCode)
	}
}

func TestDownloadMethodNotAllowed(t *testing.T) {
	s := newServed(t)
	if err := s.l.Put(t.Context(), testKey, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	u := s.location(t, testKey, time.Hour)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		resp, body := s.do(t, method, u)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", method, resp.StatusCode)
		}
		if resp.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(body, "<Code>MethodNotAllowed</Code>") {
			t.Errorf("%s: Allow %q, body %q", method, resp.Header.Get("Allow"), body)
		}
	}
	if _, _, err := s.l.Get(t.Context(), testKey); err != nil {
		t.Errorf("the object is gone after refused methods: %v", err)
	}
}

// TestDownloadCorrupt checks that a broken object file answers a generic 500
// that reveals nothing.
func TestDownloadCorrupt(t *testing.T) {
	s := newServed(t)
	if err := s.l.Put(t.Context(), "a/b", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "a", "b@"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, body := s.do(t, http.MethodGet, s.location(t, "a/b", time.Hour))
	if resp.StatusCode != http.StatusInternalServerError ||
		body != `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>InternalError</Code><Message>"+msgInternal+"</Message></Error>\n" {
		t.Errorf("corrupt object: status %d, body %q", resp.StatusCode, body)
	}
}

// TestDownloadOnlyCanonicalSpelling: a Location has exactly one spelling.
// Variants that decode to the same signature, key and expiry (a flipped
// unused low bit in the last base64 character, padding, percent-encoding,
// reordered, repeated or extra parameters) are refused with 403.
func TestDownloadOnlyCanonicalSpelling(t *testing.T) {
	s := newServed(t)
	if err := s.l.Put(t.Context(), testKey, []byte("ciphertext"), testMeta); err != nil {
		t.Fatal(err)
	}
	u := s.location(t, testKey, time.Hour)
	if resp, body := s.do(t, http.MethodGet, u); resp.StatusCode != http.StatusOK {
		t.Fatalf("canonical location: status %d (%q)", resp.StatusCode, body)
	}
	base, query, _ := strings.Cut(u, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	exp, sig := q.Get(ExpiresParam), q.Get(SignatureParam)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	lowBit := sig[:len(sig)-1] + string(alphabet[last^1]) // 32 bytes: the last character's two low bits are unused
	if got, err := base64.RawURLEncoding.DecodeString(lowBit); err != nil || string(got) != string(mustDecode(t, sig)) {
		t.Fatalf("the flipped-bit variant does not decode to the same signature: %v", err)
	}
	pct := func(c byte) string { return "%" + strings.ToUpper(strconv.FormatInt(int64(c), 16)) }
	slash := strings.LastIndexByte(base, '/')
	e, g := ExpiresParam+"=", "&"+SignatureParam+"="
	variants := map[string]string{
		"flipped low bit":            base + "?" + e + exp + g + lowBit,
		"trailing =":                 base + "?" + e + exp + g + sig + "=",
		"trailing %3D":               base + "?" + e + exp + g + sig + "%3D",
		"%2F for / in the key":       base[:slash] + "%2F" + base[slash+1:] + "?" + e + exp + g + sig,
		"percent-encoded key byte":   base[:slash+1] + pct(base[slash+1]) + base[slash+2:] + "?" + e + exp + g + sig,
		"percent-encoded sig byte":   base + "?" + e + exp + g + pct(sig[0]) + sig[1:],
		"percent-encoded param name": base + "?" + "X-Convoseal%2DExpires=" + exp + g + sig,
		"parameters swapped":         base + "?" + SignatureParam + "=" + sig + "&" + e + exp,
		"signature repeated":         base + "?" + e + exp + g + sig + g + sig,
		"extra parameter":            base + "?" + e + exp + g + sig + "&x=1",
		"extra parameter first":      base + "?x=1&" + e + exp + g + sig,
	}
	for name, v := range variants {
		resp, body := s.do(t, http.MethodGet, v)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s (%s): status %d, want 403", name, strings.TrimPrefix(v, s.srv.URL), resp.StatusCode)
			continue
		}
		checkError(t, name, resp, body, "signature")
	}
}

func mustDecode(t *testing.T, sig string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
