package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/convoseal/convoseal/internal/httpretry"
	"github.com/convoseal/convoseal/internal/media"
)

// Event types and statuses of transcript events, as Twilio sends them.
const (
	EventTranscriptAvailable = "voice_intelligence_transcript_available"
	EventTranscriptFailed    = "voice_intelligence_transcript_failed"
	StatusCompleted          = "completed"
	StatusFailed             = "failed"
)

// Outcomes passed to [Deliverer.OnAttempt].
const (
	// OutcomeDelivered: the receiver answered 2xx.
	OutcomeDelivered = "delivered"
	// OutcomeRetry: the attempt failed in a way worth retrying and
	// (as far as the Deliverer knows) another attempt will be made.
	OutcomeRetry = "retry"
	// OutcomeFailed: the attempt failed permanently, or it was the last one.
	OutcomeFailed = "failed"
)

// Defaults applied when the corresponding [Deliverer] field is zero.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 5
	// MaxBackoff caps the default backoff and a server's Retry-After.
	MaxBackoff = 60 * time.Second
)

const (
	userAgent           = "convoseal-webhook/1"
	idempotencyHeader   = "I-Twilio-Idempotency-Token"
	maxDrain            = 64 << 10
	maxRedactedPathSize = 128
)

// Sentinel errors; a [*DeliveryError] wraps one of them (or a context error
// when the caller's context ended).
var (
	// ErrInvalidEvent: the URL is not an absolute http: or https: URL, the
	// method is neither GET nor POST, or the auth token is empty. Not
	// retryable.
	ErrInvalidEvent = errors.New("webhook: invalid event")
	// ErrForbiddenAddress: the URL's host is, or resolves to, a non-public
	// address and private addresses are not allowed. Not retryable. It is
	// [media.ErrForbiddenAddress].
	ErrForbiddenAddress = media.ErrForbiddenAddress
	// ErrTimeout: no response within the per-attempt timeout. Retryable.
	ErrTimeout = errors.New("webhook: timed out")
	// ErrConnection: DNS, connection, TLS or protocol failure. Retryable.
	ErrConnection = errors.New("webhook: connection failed")
	// ErrHTTPStatus: the receiver answered with a non-2xx status.
	// Retryable for 408, 429 and 5xx.
	ErrHTTPStatus = errors.New("webhook: unexpected HTTP status")
)

// Event is one webhook to deliver.
type Event struct {
	// URL is the Service's WebhookUrl. Userinfo, if any, is sent as HTTP
	// basic authentication and is not part of the signed URL; a fragment is
	// dropped.
	URL string
	// Method is the Service's WebhookHttpMethod: "POST" or "GET"
	// (case-insensitive). "NULL" or "" means no delivery.
	Method string
	// AccountSID is the account the event belongs to (logged only).
	AccountSID string
	// Params are the event's parameters: TranscriptSid, ServiceSid,
	// AccountSid, Status, EventType, Timestamp. Never transcript content.
	// The idempotency token is derived from them, so every attempt of one
	// event must carry the same Params (the same Timestamp included).
	Params map[string]string
}

// Enabled reports whether the event is to be delivered at all: it has a URL
// and its Method is not "NULL" or empty.
func (ev Event) Enabled() bool {
	m := strings.ToUpper(strings.TrimSpace(ev.Method))
	return strings.TrimSpace(ev.URL) != "" && m != "" && m != "NULL"
}

// DeliveryError reports a failed delivery attempt. Its text names the URL
// only as scheme://host/path and never includes the response body.
type DeliveryError struct {
	// URL is the webhook URL reduced to scheme://host/path.
	URL string
	// StatusCode is the receiver's HTTP status, or 0 when there was no
	// response.
	StatusCode int
	// Retryable reports whether a later attempt may succeed: network
	// errors, timeouts, 408, 429 and 5xx.
	Retryable bool
	// RetryAfter is the delay the receiver asked for in a Retry-After
	// header (429 and 503 only), capped at MaxBackoff; 0 if none.
	RetryAfter time.Duration
	// Err is the reason; it wraps one of the package's sentinel errors or a
	// context error.
	Err error
}

// Error returns "webhook: deliver to URL: reason".
func (e *DeliveryError) Error() string {
	return "webhook: deliver to " + e.URL + ": " + strings.TrimPrefix(e.Err.Error(), "webhook: ")
}

// Unwrap returns the reason.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Deliverer sends signed webhook events. The zero value is ready to use and
// refuses non-public addresses. It is safe for concurrent use; its fields
// must not be changed after the first delivery.
type Deliverer struct {
	// Client sends the requests. Nil means a client built on the SSRF-safe
	// transport of [media.Fetcher.Transport] (address checks off when
	// AllowPrivate is set; proxies always off) that does not follow
	// redirects. A non-nil Client is used as is: its transport is then
	// responsible for SSRF protection.
	Client *http.Client
	// AllowPrivate lets webhooks reach loopback, private and other
	// non-public addresses (for receivers on an internal network).
	AllowPrivate bool
	// Timeout bounds each attempt, response headers and body drain
	// included. Zero means DefaultTimeout (10s).
	Timeout time.Duration
	// MaxAttempts is the number of attempts DeliverWithRetry makes. Zero or
	// negative means DefaultMaxAttempts (5).
	MaxAttempts int
	// Backoff returns how long DeliverWithRetry waits after failed attempt
	// number attempt (1-based). Nil means DefaultBackoff. A receiver's
	// Retry-After, if longer, takes precedence (capped at MaxBackoff).
	Backoff func(attempt int) time.Duration
	// Log receives one line per attempt. Nil means slog.Default().
	Log *slog.Logger
	// OnAttempt, if set, is called after each attempt with its outcome:
	// OutcomeDelivered, OutcomeRetry or OutcomeFailed (for metrics).
	OnAttempt func(outcome string)

	once   sync.Once
	client *http.Client
}

// DefaultBackoff is the default Backoff: 1s, 2s, 4s, ... doubling per
// attempt up to MaxBackoff, each reduced by a random jitter of up to 25%.
func DefaultBackoff(attempt int) time.Duration {
	d := MaxBackoff
	if attempt >= 1 && attempt <= 7 {
		d = min(time.Second<<(attempt-1), MaxBackoff)
	}
	return d - rand.N(d/4+1)
}

func (d *Deliverer) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

func (d *Deliverer) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

func (d *Deliverer) httpClient() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	d.once.Do(func() {
		f := &media.Fetcher{AllowPrivate: d.AllowPrivate, Timeout: d.timeout()}
		d.client = &http.Client{
			Transport: f.Transport(),
			Timeout:   d.timeout(),
			// A redirected POST would turn into an unsigned GET elsewhere;
			// Twilio does not follow webhook redirects either.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
	return d.client
}

// Deliver makes one delivery attempt of ev, signed with authToken. It
// returns nil on a 2xx response, or when the event is not [Event.Enabled];
// otherwise a [*DeliveryError] saying whether the failure is retryable.
// Retries are the caller's (typically a durable job); the attempt is logged
// as attempt 1 with outcome OutcomeRetry or OutcomeFailed. Use
// [Deliverer.Attempt] to report the real attempt number.
func (d *Deliverer) Deliver(ctx context.Context, ev Event, authToken string) error {
	return d.Attempt(ctx, ev, authToken, 1, false)
}

// Attempt is Deliver for a caller that tracks attempts itself: attempt is
// the 1-based attempt number logged, and last marks the final attempt, whose
// retryable failure is then reported as OutcomeFailed instead of
// OutcomeRetry.
func (d *Deliverer) Attempt(ctx context.Context, ev Event, authToken string, attempt int, last bool) error {
	if !ev.Enabled() {
		return nil
	}
	start := time.Now()
	status, err := d.send(ctx, ev, authToken)
	outcome := OutcomeDelivered
	var de *DeliveryError
	if errors.As(err, &de) {
		outcome = OutcomeFailed
		if de.Retryable && !last {
			outcome = OutcomeRetry
		}
	}
	d.logAttempt(ctx, ev, attempt, status, outcome, time.Since(start), err)
	if d.OnAttempt != nil {
		d.OnAttempt(outcome)
	}
	return err
}

// DeliverWithRetry delivers ev, making up to MaxAttempts attempts separated
// by Backoff while failures are retryable. It returns nil once an attempt
// succeeds, the last attempt's [*DeliveryError] otherwise, joined with the
// context's error if ctx ended while waiting.
func (d *Deliverer) DeliverWithRetry(ctx context.Context, ev Event, authToken string) error {
	maxAttempts := d.maxAttempts()
	backoff := d.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	for attempt := 1; ; attempt++ {
		err := d.Attempt(ctx, ev, authToken, attempt, attempt >= maxAttempts)
		var de *DeliveryError
		if err == nil || attempt >= maxAttempts || !errors.As(err, &de) || !de.Retryable {
			return err
		}
		if ctx.Err() != nil {
			return errors.Join(ctx.Err(), err)
		}
		wait := max(backoff(attempt), de.RetryAfter)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-t.C:
		}
	}
}

// send makes one request and returns the response status (0 if none).
func (d *Deliverer) send(ctx context.Context, ev Event, authToken string) (int, error) {
	req, target, err := newRequest(ev, authToken)
	if err != nil {
		return 0, &DeliveryError{URL: target, Err: err}
	}
	fail := func(retryable bool, err error) (int, error) {
		return 0, &DeliveryError{URL: target, Retryable: retryable, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(true, err)
	}
	actx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	resp, err := d.httpClient().Do(req.WithContext(actx))
	if err != nil {
		return fail(classify(ctx, err, d.timeout()))
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	resp.Body.Close()
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return code, nil
	}
	de := &DeliveryError{URL: target, StatusCode: code, Retryable: retryableStatus(code)}
	if text := http.StatusText(code); text != "" {
		de.Err = fmt.Errorf("%w: %d %s", ErrHTTPStatus, code, text)
	} else {
		de.Err = fmt.Errorf("%w: %d", ErrHTTPStatus, code)
	}
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		de.RetryAfter = httpretry.RetryAfter(resp.Header.Get("Retry-After"), time.Now(), MaxBackoff)
	}
	return code, de
}

// newRequest builds the signed request and the redacted target URL.
func newRequest(ev Event, authToken string) (*http.Request, string, error) {
	raw := strings.TrimSpace(ev.URL)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "(unparsable URL)", fmt.Errorf("%w: URL cannot be parsed", ErrInvalidEvent)
	}
	target := redact(u)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, target, fmt.Errorf("%w: URL scheme must be http or https", ErrInvalidEvent)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, target, fmt.Errorf("%w: URL has no host", ErrInvalidEvent)
	case authToken == "":
		return nil, target, fmt.Errorf("%w: no auth token to sign with", ErrInvalidEvent)
	}
	user := u.User
	u.User = nil
	u.Fragment, u.RawFragment = "", ""

	form := encode(ev.Params)
	var (
		req  *http.Request
		sig  string
		meth = strings.ToUpper(strings.TrimSpace(ev.Method))
	)
	switch meth {
	case http.MethodPost:
		sig = Sign(authToken, u.String(), ev.Params)
		req, err = http.NewRequest(http.MethodPost, u.String(), strings.NewReader(form))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case http.MethodGet:
		if form != "" {
			if u.RawQuery != "" {
				u.RawQuery += "&" + form
			} else {
				u.RawQuery = form
			}
		}
		sig = Sign(authToken, u.String(), nil)
		req, err = http.NewRequest(http.MethodGet, u.String(), nil)
	default:
		return nil, target, fmt.Errorf("%w: method must be GET or POST", ErrInvalidEvent)
	}
	if err != nil {
		return nil, target, fmt.Errorf("%w: cannot build request", ErrInvalidEvent)
	}
	req.Header.Set(SignatureHeader, sig)
	req.Header.Set(idempotencyHeader, idempotencyToken(ev))
	req.Header.Set("User-Agent", userAgent)
	if user != nil {
		pw, _ := user.Password()
		req.SetBasicAuth(user.Username(), pw)
	}
	return req, target, nil
}

// encode form-encodes params sorted by key.
func encode(params map[string]string) string {
	v := make(url.Values, len(params))
	for k, val := range params {
		v.Set(k, val)
	}
	return v.Encode()
}

// idempotencyToken is stable across the attempts of one event, so receivers
// can discard duplicates.
func idempotencyToken(ev Event) string {
	h := sha256.New()
	h.Write([]byte(ev.AccountSID))
	keys := make([]string, 0, len(ev.Params))
	for k := range ev.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%d:%s%d:%s", len(k), k, len(ev.Params[k]), ev.Params[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// classify turns a client error into a safe error and whether it is
// retryable. net/http errors quote the full URL (query and all) and
// sometimes response bytes, so only known-safe texts are kept.
func classify(parent context.Context, err error, timeout time.Duration) (bool, error) {
	if errors.Is(err, media.ErrForbiddenAddress) {
		var ue *url.Error
		if errors.As(err, &ue) {
			return false, ue.Err // the dialer's error: host and address only
		}
		return false, ErrForbiddenAddress
	}
	if perr := parent.Err(); perr != nil {
		return true, perr
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return true, fmt.Errorf("%w: no response within %v", ErrTimeout, timeout)
	}
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		opErr   *net.OpError
		errno   syscall.Errno
	)
	switch {
	case errors.As(err, &dnsErr):
		return true, fmt.Errorf("%w: cannot resolve %q: %s", ErrConnection, dnsErr.Name, dnsErr.Err)
	case errors.As(err, &certErr):
		return true, fmt.Errorf("%w: TLS certificate rejected", ErrConnection)
	case errors.As(err, &recErr):
		return true, fmt.Errorf("%w: TLS handshake failed", ErrConnection)
	case errors.As(err, &errno):
		op := "connection"
		if errors.As(err, &opErr) {
			op = opErr.Op
		}
		return true, fmt.Errorf("%w: %s: %v", ErrConnection, op, errno)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true, fmt.Errorf("%w: connection closed before the response", ErrConnection)
	}
	return true, fmt.Errorf("%w: connection or protocol error", ErrConnection)
}

// redact reduces u to scheme://host/path (no userinfo, query or fragment),
// truncating long paths.
func redact(u *url.URL) string {
	if u.Scheme == "" && u.Host == "" {
		return "(relative URL)"
	}
	p := u.EscapedPath()
	if len(p) > maxRedactedPathSize {
		p = p[:maxRedactedPathSize] + "..."
	}
	return u.Scheme + "://" + u.Host + p
}

// loggedParams are the event parameters that may appear in logs.
var loggedParams = []struct{ param, attr string }{
	{"TranscriptSid", "transcript_sid"},
	{"ServiceSid", "service_sid"},
	{"EventType", "event_type"},
	{"Status", "transcript_status"},
}

func (d *Deliverer) logAttempt(ctx context.Context, ev Event, attempt, status int, outcome string, dur time.Duration, err error) {
	level := slog.LevelInfo
	switch outcome {
	case OutcomeRetry:
		level = slog.LevelWarn
	case OutcomeFailed:
		level = slog.LevelError
	}
	log := d.logger()
	if !log.Enabled(ctx, level) {
		return
	}
	target := "(unparsable URL)"
	if u, perr := url.Parse(strings.TrimSpace(ev.URL)); perr == nil {
		target = redact(u)
	}
	attrs := make([]slog.Attr, 0, 12)
	for _, p := range loggedParams {
		if v, ok := ev.Params[p.param]; ok {
			attrs = append(attrs, slog.String(p.attr, v))
		}
	}
	attrs = append(attrs,
		slog.String("account_sid", ev.AccountSID),
		slog.String("method", strings.ToUpper(strings.TrimSpace(ev.Method))),
		slog.String("target", target),
		slog.Int("attempt", attempt),
		slog.Int("http_status", status),
		slog.String("outcome", outcome),
		slog.Duration("duration", dur),
	)
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	log.LogAttrs(ctx, level, "webhook delivery", attrs...)
}
