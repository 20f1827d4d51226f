package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newHandler(t *testing.T, origins ...string) *Handler {
	t.Helper()
	h, err := New(Config{ConnectOrigins: origins})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// TestSecurityHeadersOnEveryResponse checks the contract's headers on the
// index, an asset, a 304, a 404 and a 405.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHandler(t)
	etag := get(t, h, "GET", "/console/assets/app.js").Header.Get("ETag")
	for _, c := range []struct {
		method, path string
		status       int
		hdr          []string
	}{
		{"GET", "/console", 200, nil},
		{"GET", "/console/", 200, nil},
		{"HEAD", "/console", 200, nil},
		{"GET", "/console/assets/app.js", 200, nil},
		{"GET", "/console/assets/app.js", 304, []string{"If-None-Match", etag}},
		{"GET", "/console/assets/nope.js", 404, nil},
		{"GET", "/console/other", 404, nil},
		{"GET", "/console/assets/../index.html", 404, nil},
		{"POST", "/console", 405, nil},
	} {
		resp := get(t, h, c.method, c.path, c.hdr...)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
		for k, want := range map[string]string{
			"Content-Security-Policy":    wantCSP,
			"Referrer-Policy":            "no-referrer",
			"X-Content-Type-Options":     "nosniff",
			"X-Frame-Options":            "DENY",
			"Cross-Origin-Opener-Policy": "same-origin",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, k, got, want)
			}
		}
		pp := resp.Header.Get("Permissions-Policy")
		for _, f := range []string{"camera=()", "microphone=()", "geolocation=()"} {
			if !strings.Contains(pp, f) {
				t.Errorf("%s %s: Permissions-Policy %q lacks %s", c.method, c.path, pp, f)
			}
		}
	}
}

func TestContentTypesAndCaching(t *testing.T) {
	h := newHandler(t)
	idx := get(t, h, "GET", "/console")
	if ct := idx.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("index Content-Type %q", ct)
	}
	if cc := idx.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("index Cache-Control %q, want no-store", cc)
	}
	if idx.Header.Get("ETag") != "" {
		t.Errorf("index has an ETag; it must not be cached")
	}
	for name, want := range map[string]string{
		"app.js":      "text/javascript; charset=utf-8",
		"crypto.js":   "text/javascript; charset=utf-8",
		"console.css": "text/css; charset=utf-8",
		"icon.svg":    "image/svg+xml",
	} {
		resp := get(t, h, "GET", "/console/assets/"+name)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", name, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != want {
			t.Errorf("%s: Content-Type %q, want %q", name, ct, want)
		}
		etag := resp.Header.Get("ETag")
		if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
			t.Errorf("%s: ETag %q", name, etag)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache (revalidate)", name, cc)
		}
		body, _ := io.ReadAll(resp.Body)
		want, _ := embedded.ReadFile("assets/" + name)
		if len(body) == 0 || string(body) != string(want) {
			t.Errorf("%s: body is not the embedded file (%d bytes)", name, len(body))
		}
		if nm := get(t, h, "GET", "/console/assets/"+name, "If-None-Match", `W/"x", `+etag); nm.StatusCode != http.StatusNotModified {
			t.Errorf("%s: If-None-Match with its ETag: status %d, want 304", name, nm.StatusCode)
		}
		if other := get(t, h, "GET", "/console/assets/"+name, "If-None-Match", `"other"`); other.StatusCode != 200 {
			t.Errorf("%s: If-None-Match with another ETag: status %d, want 200", name, other.StatusCode)
		}
	}
}

// TestEveryModuleIsEmbedded checks that each module the index or another
// module imports is served.
func TestEveryModuleIsEmbedded(t *testing.T) {
	h := newHandler(t)
	for _, name := range []string{"app.js", "api.js", "crypto.js", "ui.js", "keys.js", "services.js", "transcripts.js", "transcript.js", "results.js"} {
		resp := get(t, h, "GET", "/console/assets/"+name)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", name, resp.StatusCode)
		}
		body, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(body), "\n") {
			if !strings.HasPrefix(line, "import ") {
				continue
			}
			i := strings.Index(line, "from './")
			if i < 0 {
				t.Errorf("%s: import not from a sibling module: %s", name, line)
				continue
			}
			dep := strings.TrimSuffix(strings.TrimSpace(line[i+len("from './"):]), "';")
			if r := get(t, h, "GET", "/console/assets/"+dep); r.StatusCode != 200 {
				t.Errorf("%s imports %s, which is not served (%d)", name, dep, r.StatusCode)
			}
		}
	}
}

// TestIndexHasNoInlineCode scans index.html's tags: no inline script or
// style, no event-handler attributes, no third-party URLs; scripts and
// styles are same-origin files.
func TestIndexHasNoInlineCode(t *testing.T) {
	index := string(newHandler(t).index)
	tags := regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*/?>`)
	attrRE := regexp.MustCompile(`([^\s=>]+)(?:="([^"]*)")?`)
	var scripts, styles int
	for _, m := range tags.FindAllStringSubmatchIndex(index, -1) {
		tag := strings.ToLower(index[m[2]:m[3]])
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(index[m[4]:m[5]], -1) {
			k := strings.ToLower(a[1])
			attrs[k] = a[2]
			if strings.HasPrefix(k, "on") {
				t.Errorf("<%s> has an inline event handler %s", tag, k)
			}
			if k == "style" {
				t.Errorf("<%s> has an inline style", tag)
			}
			if (k == "src" || k == "href") && !strings.HasPrefix(a[2], "/console/") && !strings.HasPrefix(a[2], "#") {
				t.Errorf("<%s %s=%q>: not a console URL", tag, k, a[2])
			}
		}
		switch tag {
		case "script":
			scripts++
			if attrs["src"] == "" || !strings.HasPrefix(index[m[1]:], "</script>") {
				t.Errorf("inline <script>")
			}
		case "style":
			t.Errorf("inline <style>")
		case "link":
			if attrs["rel"] == "stylesheet" {
				styles++
			}
		}
	}
	if strings.Count(strings.ToLower(index), "<script") != scripts {
		t.Errorf("a <script> tag the scan did not read")
	}
	if scripts == 0 || styles == 0 {
		t.Errorf("index has %d scripts and %d stylesheets; want the app module and the stylesheet", scripts, styles)
	}
}

// TestNoDynamicCode checks the modules use no eval-like constructs or HTML
// sinks, which the CSP or the no-innerHTML rule would refuse.
func TestNoDynamicCode(t *testing.T) {
	entries, err := embedded.ReadDir("assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".js") {
			continue
		}
		b, _ := embedded.ReadFile("assets/" + e.Name())
		for _, bad := range []string{"eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "localStorage", "sessionStorage", "indexedDB", "document.cookie"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %s", e.Name(), bad)
			}
		}
	}
}

func TestConnectOrigins(t *testing.T) {
	if got := ConnectOrigins("http://localhost:8080/blobs/x?sig=1", "http://localhost:8080"); got != nil {
		t.Errorf("same origin: %v, want none", got)
	}
	got := ConnectOrigins("http://127.0.0.1:7070/bucket/k?X-Amz-Signature=s", "http://localhost:8080")
	if len(got) != 1 || got[0] != "http://127.0.0.1:7070" {
		t.Fatalf("S3 origin: %v", got)
	}
	h := newHandler(t, got...)
	if csp := get(t, h, "GET", "/console").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' http://127.0.0.1:7070;") {
		t.Errorf("CSP %q lacks the blob store origin", csp)
	}
	for _, bad := range []string{"127.0.0.1:7070", "http://x/path", "http://x;script-src *", "javascript:x", "https://u@x"} {
		if _, err := New(Config{ConnectOrigins: []string{bad}}); err == nil {
			t.Errorf("New accepted origin %q", bad)
		}
	}
}
