// Package console serves convoseal's web console: a single-page app, embedded
// in the binary, that signs in with an Account SID and Auth Token held only
// in the page's memory, calls the authenticated API, and decrypts
// customer-key artifacts in the browser with WebCrypto. The handler serves
// only static files; it never sees credentials, keys or plaintext.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed assets
var embedded embed.FS

// Path is where the console is served: the index at Path and Path+"/", its
// files under Path+"/assets/".
const Path = "/console"

// contentTypes maps the asset extensions the console uses to their types.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".ico":  "image/x-icon",
}

// Config configures the console handler.
type Config struct {
	// ConnectOrigins are origins, besides the console's own, that the page
	// may fetch from: the blob store's, when its signed locations are not on
	// the API's origin (S3). Each must be scheme://host[:port].
	ConnectOrigins []string
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the console. Create it with [New].
type Handler struct {
	csp    string
	assets map[string]asset // by name under assets/
	index  []byte
}

// New returns the console handler, checking every configured origin.
func New(cfg Config) (*Handler, error) {
	connect := []string{"'self'"}
	for _, o := range cfg.ConnectOrigins {
		if err := validOrigin(o); err != nil {
			return nil, err
		}
		connect = append(connect, o)
	}
	h := &Handler{
		csp: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
			"connect-src " + strings.Join(connect, " ") + "; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		assets: map[string]asset{},
	}
	err := fs.WalkDir(embedded, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		if name == "index.html" {
			h.index = body
			return nil
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("console: asset %s has no known content type", name)
		}
		sum := sha256.Sum256(body)
		h.assets[name] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: reading embedded assets: %w", err)
	}
	if h.index == nil {
		return nil, fmt.Errorf("console: index.html is not embedded")
	}
	return h, nil
}

// validOrigin accepts scheme://host[:port] with scheme http or https.
func validOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, " ;,'\"") {
		return fmt.Errorf("console: %q is not an origin (scheme://host[:port])", o)
	}
	return nil
}

// Origin returns the scheme://host[:port] of an absolute URL, or "".
func Origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// ConnectOrigins returns the origin of a blob store location when it differs
// from the API's public URL (nil when they are the same: the page fetches
// locations from its own origin).
func ConnectOrigins(location, publicURL string) []string {
	lo := Origin(location)
	if lo == "" || lo == Origin(publicURL) {
		return nil
	}
	return []string{lo}
}

// CSP returns the Content-Security-Policy the handler sends.
func (h *Handler) CSP() string { return h.csp }

func (h *Handler) securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.securityHeaders(w)
	p := r.URL.Path
	if p != Path && !strings.HasPrefix(p, Path+"/") {
		notFound(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if p == Path || p == Path+"/" {
		w.Header().Set("Content-Type", contentTypes[".html"])
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(h.index)
		}
		return
	}
	name, ok := strings.CutPrefix(p, Path+"/assets/")
	a, found := h.assets[name]
	if !ok || !found {
		notFound(w)
		return
	}
	w.Header().Set("ETag", a.etag)
	w.Header().Set("Cache-Control", "no-cache") // revalidate: names are not versioned
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// etagMatch reports whether an If-None-Match list names etag.
func etagMatch(header, etag string) bool {
	for c := range strings.SplitSeq(header, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || strings.TrimPrefix(c, "W/") == etag {
			return true
		}
	}
	return false
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "404 page not found", http.StatusNotFound)
}
