package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/convoseal/convoseal/seal"
)

// DefaultMaxSize bounds a download unless [Downloader.MaxSize] says otherwise.
const DefaultMaxSize = 256 << 20

// ErrTooLarge is returned when an artifact exceeds the download limit.
var ErrTooLarge = errors.New("artifact is larger than the download limit")

// Artifact is a downloaded, still sealed, artifact.
type Artifact struct {
	Body     []byte        // ciphertext || tag
	Envelope seal.Envelope // from the x-amz-meta-* headers
}

// Open decrypts the artifact with id.
func (a *Artifact) Open(id seal.Identity) ([]byte, error) {
	return seal.Open(id, a.Body, a.Envelope)
}

// HTTPError is a download answered with a status other than 200.
type HTTPError struct {
	URL        string // the location without its query (which holds the signature)
	StatusCode int
	RetryAfter time.Duration // from a Retry-After header (429, 503), else 0
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s: %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode), StatusMeaning(e.StatusCode))
}

// StatusMeaning explains a download status in terms of what to do next.
func StatusMeaning(code int) string {
	switch {
	case code == http.StatusForbidden:
		return "the link has expired or its signature does not match; fetch a fresh location from the /Encrypted endpoint"
	case code == http.StatusNotFound:
		return "no such artifact: it was deleted, or the link is wrong"
	case code == http.StatusUnauthorized:
		return "the server wants credentials: use the location exactly as returned by the /Encrypted endpoint"
	case code == http.StatusTooManyRequests:
		return "rate limited; try again later"
	case code >= 500:
		return "the server failed; try again later"
	default:
		return "unexpected answer"
	}
}

// Downloader fetches artifacts from their locations.
type Downloader struct {
	HTTP    *http.Client // nil: a client with a 60-second timeout
	MaxSize int64        // 0: DefaultMaxSize
}

// Fetch downloads one location and reads its envelope from the response headers.
func (d *Downloader) Fetch(ctx context.Context, location string) (*Artifact, error) {
	u, err := url.Parse(location)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("not an http(s) URL: %q", RedactURL(location))
	}
	hc := d.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	max := d.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", RedactURL(location), err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		// url.Error repeats the full URL, signature included: report without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &transportError{fmt.Errorf("GET %s: %w", RedactURL(location), err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &HTTPError{URL: RedactURL(location), StatusCode: resp.StatusCode,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	if resp.ContentLength > max {
		return nil, fmt.Errorf("GET %s: %w (%d bytes, limit %d)", RedactURL(location), ErrTooLarge, resp.ContentLength, max)
	}
	env, err := seal.ParseHeaders(resp.Header)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", RedactURL(location), err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, &transportError{fmt.Errorf("GET %s: reading body: %w", RedactURL(location), err)}
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("GET %s: %w (limit %d bytes)", RedactURL(location), ErrTooLarge, max)
	}
	return &Artifact{Body: body, Envelope: env}, nil
}

// RedactURL drops the query and credentials of a location, which carry its
// signature, so it can be shown in errors and logs.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}

// transportError marks a download that failed below HTTP (connection refused
// or reset, timeout, truncated body): worth retrying.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }
