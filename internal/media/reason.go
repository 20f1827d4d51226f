package media

import (
	"errors"
	"fmt"
)

// Tenant-facing failure reasons for network failures. They say what went
// wrong in general terms only: what a host name resolves to, and whether a
// port refuses connections, times out or fails TLS, is a map of the
// server's network, for the operator's log (the full error) and never for
// the customer.
const (
	// ReasonForbidden is the reason for a URL (or a redirect) that names a
	// loopback, private, link-local or otherwise internal host or address.
	ReasonForbidden = "the media URL points at a forbidden address"
	// ReasonUnreachable is the reason for a fetch that failed on the network:
	// no answer in time, connection refused or reset, DNS or TLS failure.
	ReasonUnreachable = "the media could not be downloaded"
)

// PublicReason returns the failure reason a customer may see for err, an
// error from [Fetcher.Fetch] or [Parse]. Network failures become one of the
// generic reasons above; HTTP statuses, size limits, malformed URLs and
// invalid documents keep their messages, which name nothing but the
// customer's own (redacted) URL and the rule broken.
func PublicReason(err error) string {
	var hs *HTTPStatusError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrForbiddenAddress):
		return ReasonForbidden
	case errors.As(err, &hs):
		return fmt.Sprintf("%s: the media server answered %s", ReasonUnreachable, statusText(hs.StatusCode))
	case errors.Is(err, ErrBadURL), errors.Is(err, ErrUnsupportedScheme), errors.Is(err, ErrBadDataURL),
		errors.Is(err, ErrTooLarge), errors.Is(err, ErrTooManyRedirects),
		errors.Is(err, ErrUnsupportedMedia), errors.Is(err, ErrInvalidDocument):
		return err.Error()
	}
	// ErrTimeout, ErrFetch, context errors and anything unforeseen.
	return ReasonUnreachable
}

// IsUnreachable reports whether err is a network failure that a retry may
// fix (a timeout or a connection, DNS or TLS failure), as opposed to an
// answer (HTTP status) or a refusal by policy.
func IsUnreachable(err error) bool {
	return errors.Is(err, ErrTimeout) || errors.Is(err, ErrFetch)
}

func statusText(code int) string {
	e := HTTPStatusError{StatusCode: code}
	return e.Error()[len(ErrHTTPStatus.Error())+2:]
}
