package llm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors. Test them with errors.Is; HTTP status failures are
// *ErrHTTPStatus values (use errors.As). The messages of every error this
// package returns say what failed and after how many attempts; they never
// contain the prompt, the model's answer or the API key, so they may be shown
// to customers and logged.
var (
	// ErrTimeout means an attempt got no complete answer within
	// Config.Timeout (or the HTTP client's own timeout).
	ErrTimeout = errors.New("llm: request timed out")

	// ErrInvalidAnswer means the endpoint answered 2xx but the answer was
	// unusable: an unparseable body, no choices, empty content, a refusal,
	// content that is not JSON or does not match the schema, or a response
	// larger than Config.MaxResponseBytes.
	ErrInvalidAnswer = errors.New("llm: invalid answer")

	// ErrUnavailable means the endpoint could not be reached (connection
	// refused, reset, DNS failure…). An *ErrHTTPStatus for 429 or 5xx also
	// matches it, so errors.Is(err, ErrUnavailable) means "the backend is
	// having a transient problem".
	ErrUnavailable = errors.New("llm: backend unavailable")

	// ErrInvalidSchema means the schema passed to Complete is not a valid
	// JSON Schema. No request is sent.
	ErrInvalidSchema = errors.New("llm: invalid JSON schema")
)

// ErrHTTPStatus is returned when the endpoint answered with a non-2xx status:
// at once for 3xx and 4xx other than 429, after Config.MaxAttempts for 429
// and 5xx.
type ErrHTTPStatus struct {
	Code     int    // HTTP status code
	Attempts int    // attempts made, including the last one
	Reason   string // provider's machine-readable error code (e.g. "invalid_api_key"), if any

	redirect bool // a redirect to another host or scheme was refused
}

// Error implements error, e.g. "llm: HTTP 500 Internal Server Error after 3 attempts".
func (e *ErrHTTPStatus) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "llm: HTTP %d", e.Code)
	if t := http.StatusText(e.Code); t != "" {
		b.WriteString(" " + t)
	}
	if e.Reason != "" {
		b.WriteString(" (" + e.Reason + ")")
	}
	if e.redirect {
		b.WriteString(" (redirect to another host refused)")
	}
	b.WriteString(" after " + attempts(e.Attempts))
	return b.String()
}

// Is reports whether target is ErrUnavailable and the status is transient
// (429 or 5xx).
func (e *ErrHTTPStatus) Is(target error) bool {
	return target == ErrUnavailable && retryableStatus(e.Code)
}

// failure is one failed attempt, or the final error built from the last one.
type failure struct {
	kind     error  // ErrTimeout, ErrInvalidAnswer, ErrUnavailable, ErrInvalidSchema, or a context error
	desc     string // e.g. "llm: model answered invalid JSON"; no prompt, answer or key
	cause    error  // optional; only errors whose text is known to be safe
	attempts int    // set on the final error

	// Per-attempt retry decisions.
	retry      bool
	retryAfter time.Duration // asked for by Retry-After (capped), 0 if none

	status *ErrHTTPStatus // non-nil for an HTTP status failure
}

// Error implements error.
func (f *failure) Error() string {
	msg := f.desc
	if f.attempts > 0 {
		msg += " after " + attempts(f.attempts)
	}
	if f.cause != nil {
		msg += ": " + f.cause.Error()
	}
	return msg
}

// Unwrap returns the sentinel kind and the cause.
func (f *failure) Unwrap() []error {
	if f.cause == nil {
		return []error{f.kind}
	}
	return []error{f.kind, f.cause}
}

// final turns the failure of the last attempt into the error Complete
// returns, with the API key scrubbed from any text as a last defence.
func (f *failure) final(n int, apiKey string) error {
	if f.status != nil {
		s := *f.status
		s.Attempts = n
		return &s
	}
	out := *f
	out.attempts = n
	if out.cause != nil {
		out.cause = scrub(out.cause, apiKey)
	}
	return &out
}

// scrubbed is an error whose text had the API key removed; it still unwraps
// to the original for errors.Is.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// scrub hides apiKey in err's text. Short keys are not searched for, to avoid
// mangling messages; the package never puts the key in an error anyway.
func scrub(err error, apiKey string) error {
	if len(apiKey) < 8 || !strings.Contains(err.Error(), apiKey) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), apiKey, "[REDACTED]"), err: err}
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}
