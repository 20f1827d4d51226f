// Package httpretry holds what the service's HTTP clients (webhook
// deliveries, the language-model and speech-recognition backends) share
// about retrying a request.
package httpretry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RetryAfter parses a Retry-After header value (seconds, or an HTTP date
// relative to now), capped at limit; 0 when absent, invalid or in the past.
func RetryAfter(h string, now time.Time, limit time.Duration) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(limit/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), limit)
}

// Backoff is the wait before retry number attempt (from 1): exponential from
// base, capped at limit, with "equal jitter": half the delay is fixed, half
// random.
func Backoff(attempt int, base, limit time.Duration) time.Duration {
	d := limit
	if attempt < 16 {
		d = min(base<<max(attempt-1, 0), limit)
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits d, or until ctx is done; it returns ctx.Err() then (and also
// when d is not positive).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SameOrigin wraps a CheckRedirect function (nil: the default's limit of 10
// redirects) so that redirects to another scheme or host are not followed:
// the redirect response itself is returned, and the caller fails with its
// status.
func SameOrigin(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// Transport classifies an error from sending a request or reading its
// response within an attempt whose context is actx: whether it timed out,
// and the error without *url.Error's wrapping, whose text names the
// endpoint's URL (e.g. "dial tcp 127.0.0.1:8000: connect: connection
// refused" remains).
func Transport(actx context.Context, err error) (timedOut bool, inner error) {
	var ne net.Error
	if errors.Is(actx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return true, err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return false, err
}
