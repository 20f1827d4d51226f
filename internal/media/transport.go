package media

import "net/http"

// Transport returns a new HTTP transport that applies the Fetcher's SSRF
// protection to every connection it opens, for callers that make their own
// requests (webhook delivery, for example) rather than use [Fetcher.Fetch].
//
// Each dial resolves the host itself, refuses internal host names and the
// host if any address it resolves to is not public unicast, dials only the
// checked addresses (so DNS rebinding cannot slip in another address), and
// re-checks the socket address in the dialer's Control hook. Proxies are
// disabled: an environment proxy would otherwise dial on the caller's behalf
// and bypass the checks. None of this applies when AllowPrivate is set,
// except that proxies stay disabled.
//
// The transport's dial, TLS-handshake and response-header timeouts derive
// from the Fetcher's Timeout. It captures a copy of the Fetcher, so later
// changes to f do not affect it. Redirects are the http.Client's business;
// every hop dials through the same checks. Errors from refused addresses
// wrap [ErrForbiddenAddress] (test with [errors.Is] on the client's error).
func (f *Fetcher) Transport() *http.Transport {
	c := *f
	tr := c.newTransport()
	// newTransport is tuned for one short fetch; a shared transport may keep
	// a few idle connections per host.
	tr.MaxIdleConnsPerHost = 4
	return tr
}

// NewSafeTransport returns (&Fetcher{AllowPrivate: allowPrivate}).Transport():
// an SSRF-safe transport with default timeouts.
func NewSafeTransport(allowPrivate bool) *http.Transport {
	return (&Fetcher{AllowPrivate: allowPrivate}).Transport()
}
