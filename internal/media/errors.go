package media

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (or a context error when the caller's context is cancelled), so
// callers can test the reason with [errors.Is].
var (
	// ErrUnsupportedScheme means the URL's scheme is not data:, http: or
	// https:, including a redirect to another scheme.
	ErrUnsupportedScheme = errors.New("media: unsupported URL scheme")
	// ErrBadURL means the URL could not be parsed or lacks a host.
	ErrBadURL = errors.New("media: malformed URL")
	// ErrBadDataURL means a data: URL does not follow RFC 2397 or its
	// payload is not valid percent-encoding or base64.
	ErrBadDataURL = errors.New("media: malformed data: URL")
	// ErrForbiddenAddress means the host name or an address it resolves to
	// is not a public unicast address (loopback, private, link-local,
	// metadata service, ...) and the Fetcher does not allow private
	// addresses.
	ErrForbiddenAddress = errors.New("media: forbidden address")
	// ErrTooLarge means the media exceeds the Fetcher's MaxBytes.
	ErrTooLarge = errors.New("media: media too large")
	// ErrHTTPStatus means the server answered with a non-2xx status; the
	// error is an [*HTTPStatusError] carrying the code.
	ErrHTTPStatus = errors.New("media: unexpected HTTP status")
	// ErrTooManyRedirects means the server redirected more than the
	// Fetcher's MaxRedirects times.
	ErrTooManyRedirects = errors.New("media: too many redirects")
	// ErrTimeout means the fetch did not complete within the Fetcher's
	// Timeout (or the caller's context deadline).
	ErrTimeout = errors.New("media: timed out")
	// ErrFetch means the connection or the HTTP exchange failed for another
	// reason (DNS failure, connection refused, TLS failure, protocol error).
	ErrFetch = errors.New("media: fetch failed")
	// ErrUnsupportedMedia means the content is neither a JSON transcript nor
	// WebVTT (audio, for example, needs a recognizer that this build lacks).
	ErrUnsupportedMedia = errors.New("media: unsupported media")
	// ErrInvalidDocument means a transcript document is malformed or breaks
	// a validation rule; the message names the sentence (or cue) and field,
	// never the transcript text.
	ErrInvalidDocument = errors.New("media: invalid transcript document")
)

// kindError is a sentinel plus a detail that is safe to show.
type kindError struct {
	kind   error
	detail string
}

func (e *kindError) Error() string {
	if e.detail == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.detail
}

func (e *kindError) Unwrap() error { return e.kind }

// newErr returns an error wrapping kind with a formatted detail. The detail
// must never contain URL secrets, fetched content or transcript text.
func newErr(kind error, format string, args ...any) error {
	return &kindError{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// HTTPStatusError reports a non-2xx HTTP response. It matches
// [ErrHTTPStatus] with [errors.Is].
type HTTPStatusError struct {
	// StatusCode is the HTTP status code the server returned.
	StatusCode int
}

// Error describes the status using the standard status text (never the
// server's reason phrase, which is server-controlled content).
func (e *HTTPStatusError) Error() string {
	text := http.StatusText(e.StatusCode)
	if text == "" {
		return fmt.Sprintf("%v: %d", ErrHTTPStatus, e.StatusCode)
	}
	return fmt.Sprintf("%v: %d %s", ErrHTTPStatus, e.StatusCode, text)
}

// Is reports whether target is [ErrHTTPStatus].
func (e *HTTPStatusError) Is(target error) bool { return target == ErrHTTPStatus }

// FetchError is returned by [Fetcher.Fetch]. It names the URL in redacted
// form and wraps the reason.
type FetchError struct {
	// URL is the requested URL reduced to scheme://host/path (no userinfo,
	// query or fragment; long paths are truncated). For data: URLs it is
	// just "data:".
	URL string
	// Redirect is the redacted URL of the redirect hop that failed, or ""
	// when the failure happened on the requested URL itself.
	Redirect string
	// Err is the reason; it wraps one of the package's sentinel errors or a
	// context error.
	Err error
}

// Error returns "media: fetch URL: reason" with the redacted URL.
func (e *FetchError) Error() string {
	var b strings.Builder
	b.WriteString("media: fetch ")
	b.WriteString(e.URL)
	if e.Redirect != "" {
		b.WriteString(" (redirected to ")
		b.WriteString(e.Redirect)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "media: "))
	return b.String()
}

// Unwrap returns the reason.
func (e *FetchError) Unwrap() error { return e.Err }
