package media

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults applied by [Fetcher.Fetch] when the corresponding field is zero.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBytes     = 64 << 20
	DefaultMaxRedirects = 5
)

const (
	maxDialTimeout      = 10 * time.Second
	maxHeaderBytes      = 64 << 10
	maxRedirectDrain    = 64 << 10
	maxRedactedPathSize = 128
	userAgent           = "convoseal-media/1"
	acceptHeader        = "application/json, text/vtt;q=0.9, audio/*;q=0.5, */*;q=0.1"
)

// Media is fetched content.
type Media struct {
	// ContentType is the Content-Type the server sent (or the data: URL's
	// media type, "text/plain;charset=US-ASCII" when omitted); it may be
	// empty.
	ContentType string
	// Data is the content, at most the Fetcher's MaxBytes long.
	Data []byte
}

// Fetcher retrieves media named by a URL. The zero value is ready to use and
// refuses private addresses. A Fetcher holds no connections between calls and
// is safe for concurrent use as long as its fields are not modified.
type Fetcher struct {
	// AllowPrivate disables the SSRF protection: loopback, private,
	// link-local and other non-public addresses and internal host names may
	// then be fetched. Only for operators whose media lives on an internal
	// network.
	AllowPrivate bool
	// Timeout bounds the whole fetch, redirects and body included, and the
	// wait for each response's headers. Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes caps the size of the content (after transfer decoding). Zero
	// or negative means DefaultMaxBytes.
	MaxBytes int64
	// MaxRedirects caps the number of redirects followed. Zero means
	// DefaultMaxRedirects; negative means redirects are not followed (a
	// redirect is then an error).
	MaxRedirects int
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver *net.Resolver

	// Test hooks. isAllowed replaces the public-address classification
	// (host-name rules still apply); lookup replaces the resolver;
	// tlsConfig replaces the default TLS client configuration.
	isAllowed func(netip.Addr) bool
	lookup    func(ctx context.Context, host string) ([]netip.Addr, error)
	tlsConfig *tls.Config
}

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultTimeout
}

func (f *Fetcher) maxBytes() int64 {
	if f.MaxBytes > 0 {
		return f.MaxBytes
	}
	return DefaultMaxBytes
}

func (f *Fetcher) maxRedirects() int {
	switch {
	case f.MaxRedirects < 0:
		return 0
	case f.MaxRedirects == 0:
		return DefaultMaxRedirects
	}
	return f.MaxRedirects
}

// Fetch retrieves the media named by rawURL: a data: URL (decoded in memory)
// or an http:/https: URL. Userinfo in an http(s) URL is sent as basic
// authentication, and only to the URL's own scheme://host (never after a
// redirect elsewhere). Errors are [*FetchError] values wrapping one of the
// package's sentinel errors, or the context's error when ctx is cancelled.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (*Media, error) {
	rawURL = strings.TrimSpace(rawURL)
	if len(rawURL) >= 5 && strings.EqualFold(rawURL[:5], "data:") {
		m, err := decodeDataURL(rawURL, f.maxBytes())
		if err != nil {
			return nil, &FetchError{URL: "data:", Err: err}
		}
		return m, nil
	}

	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error would quote the whole URL, secrets included.
		return nil, &FetchError{URL: "(unparsable URL)", Err: newErr(ErrBadURL, "cannot be parsed")}
	}
	target := redact(u)
	if err := checkHTTPURL(u); err != nil {
		return nil, &FetchError{URL: target, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, &FetchError{URL: target, Err: err}
	}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	tr := f.newTransport()
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// Redirects are followed by hand below so that every hop's URL is
		// checked and credentials are scoped to the original origin.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	user := u.User
	cur := *u
	cur.User = nil
	cur.Fragment, cur.RawFragment = "", ""
	redirected := false
	fail := func(err error) (*Media, error) {
		fe := &FetchError{URL: target, Err: err}
		if redirected {
			fe.Redirect = redact(&cur)
		}
		return nil, fe
	}
	for redirects := 0; ; redirects++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cur.String(), nil)
		if err != nil {
			return fail(newErr(ErrBadURL, "cannot build request"))
		}
		req.Header.Set("User-Agent", userAgent)
		req.Header.Set("Accept", acceptHeader)
		if user != nil {
			pw, _ := user.Password()
			req.SetBasicAuth(user.Username(), pw)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fail(f.requestError(parent, ctx, err))
		}

		if loc := resp.Header.Get("Location"); isRedirect(resp.StatusCode) && loc != "" {
			_, _ = io.CopyN(io.Discard, resp.Body, maxRedirectDrain)
			resp.Body.Close()
			if redirects >= f.maxRedirects() {
				return fail(newErr(ErrTooManyRedirects, "more than %d", f.maxRedirects()))
			}
			next, err := cur.Parse(loc)
			if err != nil {
				return fail(newErr(ErrFetch, "redirect with an invalid Location header"))
			}
			next.User = nil // never take credentials from the server
			next.Fragment, next.RawFragment = "", ""
			if !sameOrigin(next, u) {
				user = nil
			}
			cur, redirected = *next, true
			if err := checkHTTPURL(&cur); err != nil {
				return fail(err)
			}
			continue
		}

		m, err := f.readBody(parent, ctx, resp)
		if err != nil {
			return fail(err)
		}
		return m, nil
	}
}

func (f *Fetcher) readBody(parent, ctx context.Context, resp *http.Response) (*Media, error) {
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &HTTPStatusError{StatusCode: resp.StatusCode}
	}
	limit := f.maxBytes()
	if resp.ContentLength > limit {
		return nil, newErr(ErrTooLarge, "Content-Length %d exceeds %d bytes", resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, f.requestError(parent, ctx, err)
	}
	if int64(len(data)) > limit {
		return nil, newErr(ErrTooLarge, "body exceeds %d bytes", limit)
	}
	return &Media{ContentType: resp.Header.Get("Content-Type"), Data: data}, nil
}

// checkHTTPURL accepts absolute http: and https: URLs with a host.
func checkHTTPURL(u *url.URL) error {
	switch u.Scheme {
	case "http", "https":
	case "":
		return newErr(ErrUnsupportedScheme, "missing scheme (want https:, http: or data:)")
	default:
		return newErr(ErrUnsupportedScheme, "%q (want https:, http: or data:)", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return newErr(ErrBadURL, "missing host")
	}
	return nil
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host)
}

// redact reduces u to scheme://host/path, dropping userinfo, query and
// fragment and truncating long paths.
func redact(u *url.URL) string {
	p := u.EscapedPath()
	if len(p) > maxRedactedPathSize {
		p = p[:maxRedactedPathSize] + "..."
	}
	if u.Scheme == "" && u.Host == "" {
		return "(relative URL)"
	}
	return u.Scheme + "://" + u.Host + p
}

func (f *Fetcher) newTransport() *http.Transport {
	dialTimeout := min(f.timeout(), maxDialTimeout)
	tr := &http.Transport{
		Proxy:                  nil, // never let an environment proxy bypass the address checks
		DialContext:            f.dialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    dialTimeout,
		ResponseHeaderTimeout:  f.timeout(),
		MaxResponseHeaderBytes: maxHeaderBytes,
		IdleConnTimeout:        f.timeout(),
		MaxIdleConnsPerHost:    1,
	}
	if f.tlsConfig != nil {
		tr.TLSClientConfig = f.tlsConfig.Clone()
	}
	return tr
}

// allowed reports whether ip may be dialed, and if not, why.
func (f *Fetcher) allowed(ip netip.Addr) (bool, string) {
	if f.AllowPrivate {
		return true, ""
	}
	if f.isAllowed != nil {
		if f.isAllowed(ip) {
			return true, ""
		}
		if r := forbiddenReason(ip); r != "" {
			return false, r
		}
		return false, "refused by policy"
	}
	r := forbiddenReason(ip)
	return r == "", r
}

func forbidden(ip netip.Addr, reason string) error {
	return newErr(ErrForbiddenAddress, "%s is %s", ip, reason)
}

// dialContext resolves the host itself, checks every address, and dials only
// checked addresses, so the address checked is the address dialed (no DNS
// rebinding window). The dialer's Control hook re-checks the socket address
// as a second line of defence. Redirect hops dial through here too.
func (f *Fetcher) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, newErr(ErrBadURL, "invalid host:port")
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, newErr(ErrBadURL, "invalid port")
	}

	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		if !f.AllowPrivate {
			if r := forbiddenHostname(host); r != "" {
				return nil, newErr(ErrForbiddenAddress, "%q is an %s", host, r)
			}
		}
		ips, err = f.resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	// Refuse the host if any of its addresses is forbidden: a name that
	// mixes public and internal addresses is not trustworthy.
	for _, ip := range ips {
		if ok, r := f.allowed(ip); !ok {
			if ip.String() == host {
				return nil, forbidden(ip, r)
			}
			return nil, newErr(ErrForbiddenAddress, "%q resolves to %s, which is %s", host, ip, r)
		}
	}

	d := &net.Dialer{
		Timeout: min(f.timeout(), maxDialTimeout),
		Control: f.control,
	}
	var firstErr error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

func (f *Fetcher) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if f.lookup != nil {
		return f.lookup(ctx, host)
	}
	r := f.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	return r.LookupNetIP(ctx, "ip", host)
}

// control runs on the socket about to connect; address is the numeric
// address actually dialed.
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return newErr(ErrForbiddenAddress, "unparsable socket address")
	}
	if ok, r := f.allowed(ap.Addr()); !ok {
		return forbidden(ap.Addr(), r)
	}
	return nil
}

// requestError converts an error from the HTTP client into one that is safe
// to show: net/http errors quote the full URL and, for malformed responses,
// fetched bytes, so only known-safe error texts are kept.
func (f *Fetcher) requestError(parent, ctx context.Context, err error) error {
	var ke *kindError
	if errors.As(err, &ke) {
		return ke
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout()) {
		if errors.Is(parent.Err(), context.DeadlineExceeded) {
			return newErr(ErrTimeout, "the caller's deadline passed")
		}
		return newErr(ErrTimeout, "no complete response within %v", f.timeout())
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	var (
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		hostErr  x509.HostnameError
		authErr  x509.UnknownAuthorityError
		invErr   x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		opErr    *net.OpError
		errno    syscall.Errno
	)
	switch {
	case errors.As(err, &dnsErr):
		return newErr(ErrFetch, "cannot resolve %q: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &hostErr):
		return newErr(ErrFetch, "TLS certificate rejected: %v", hostErr)
	case errors.As(err, &authErr):
		return newErr(ErrFetch, "TLS certificate rejected: %v", authErr)
	case errors.As(err, &invErr):
		return newErr(ErrFetch, "TLS certificate rejected: %v", invErr)
	case errors.As(err, &certErr):
		return newErr(ErrFetch, "TLS certificate rejected")
	case errors.As(err, &recErr):
		return newErr(ErrFetch, "TLS handshake failed: server did not answer with TLS")
	case errors.As(err, &alertErr):
		return newErr(ErrFetch, "TLS handshake failed: %v", alertErr)
	case errors.As(err, &errno):
		op := "connection"
		if errors.As(err, &opErr) {
			op = opErr.Op
		}
		return newErr(ErrFetch, "%s: %v", op, errno)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newErr(ErrFetch, "connection closed before the response was complete")
	}
	if strings.Contains(err.Error(), "malformed HTTP") {
		return newErr(ErrFetch, "malformed HTTP response")
	}
	return newErr(ErrFetch, "connection or protocol error")
}
