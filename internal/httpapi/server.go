// Package httpapi serves convoseal's Twilio-compatible REST API: Accounts v1
// Credentials/PublicKeys and Intelligence v2 (Services, Transcripts, Sentences,
// OperatorResults, their /Encrypted variants and Operators), with Twilio's
// form-encoded requests, JSON resources, list envelopes and error shape.
package httpapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/auth"
	"github.com/convoseal/convoseal/internal/blob"
	"github.com/convoseal/convoseal/internal/keyring"
	"github.com/convoseal/convoseal/internal/media"
	"github.com/convoseal/convoseal/internal/metrics"
	"github.com/convoseal/convoseal/internal/store"
)

// MaxBodyBytes bounds a request body (a Channel with an inline data: URL is
// the largest legitimate one).
const MaxBodyBytes = 16 << 20

// Enqueuer inserts a transcript's job in the transaction that creates it.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, transcriptSID string) error
}

// Server is the API.
type Server struct {
	DB        *store.DB
	Blobs     blob.Store
	Keys      *keyring.Keyring
	Queue     Enqueuer
	Fetcher   *media.Fetcher // validates inline (data:) media at creation
	PublicURL string         // scheme://host[:port] for absolute URLs, no trailing slash
	URLExpiry time.Duration  // lifetime of signed locations
	Log       *slog.Logger
	// BlobHandler serves signed locations under /blobs/ (local store only).
	BlobHandler http.Handler
	// OpsOnly serves only /healthz and /readyz (a worker process).
	OpsOnly bool
	// Metrics, if set, observes request latency and artifact opening. The
	// API does not serve it: /metrics has a listener of its own.
	Metrics *metrics.Metrics
	// BodyBudget, if set, bounds the bytes of authenticated request bodies
	// handled at once.
	BodyBudget *BodyBudget
	// Console, if set, serves the web console's static files at /console
	// and /console/… (unauthenticated; the page calls the API with the
	// credentials it is given). Not served by a worker (OpsOnly).
	Console http.Handler

	ready readiness
}

type ctxKey int

const accountKey ctxKey = 0

func accountSID(r *http.Request) string {
	s, _ := r.Context().Value(accountKey).(string)
	return s
}

// Handler returns the routed API with authentication, body limits, panic
// recovery and request logging.
func (s *Server) Handler() http.Handler {
	api := http.NewServeMux()
	s.routes(api)

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	root.HandleFunc("GET /readyz", s.readyz)
	if s.BlobHandler != nil {
		root.Handle("/blobs/", s.BlobHandler)
	}
	if !s.OpsOnly {
		limited := recordPattern(api)
		if s.BodyBudget != nil {
			limited = s.BodyBudget.Limit(limited)
		}
		root.Handle("/v1/", s.authenticate(limited))
		root.Handle("/v2/", s.authenticate(limited))
		if s.Console != nil {
			root.Handle("/console", s.Console)
			root.Handle("/console/", s.Console)
		}
	}
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, convoseal.NotFoundf("The requested resource %s was not found", r.URL.Path))
	})
	return s.recoverAndLog(root)
}

// routeKey holds, in a request's context, where the innermost ServeMux's
// matched pattern is recorded for the metrics' route label.
const routeKey ctxKey = 1

// recordPattern notes, after next (a ServeMux) has served r, the pattern it
// matched.
func recordPattern(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if p, ok := r.Context().Value(routeKey).(*string); ok {
			*p = r.Pattern
		}
	})
}

// authenticate checks HTTP Basic credentials: Account SID and Auth Token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok && convoseal.ValidSID(convoseal.PrefixAccount, user) {
			user = convoseal.NormalizeSID(user)
			if acct, err := s.DB.GetAccount(r.Context(), user); err == nil && auth.Verify(acct.AuthTokenHash, pass) {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accountKey, acct.SID)))
				return
			} else if err != nil && !errors.Is(err, convoseal.ErrNotFound) {
				s.internalError(w, r, err)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="convoseal"`)
		writeError(w, &convoseal.Error{Code: convoseal.CodeAuthentication, Status: http.StatusUnauthorized,
			Message: "Authenticate: HTTP Basic authentication with your Account SID and Auth Token is required"})
	})
}

// statusRecorder captures the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// recoverAndLog turns panics into a Twilio 500 (no stack trace to the client)
// and logs method, route, status and duration — never bodies or queries.
func (s *Server) recoverAndLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		pattern := new(string)
		r = r.WithContext(context.WithValue(r.Context(), routeKey, pattern))
		defer func() {
			if v := recover(); v != nil {
				s.Log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(rec, &convoseal.Error{Code: convoseal.CodeInternal, Status: 500, Message: "internal error"})
			}
			elapsed := time.Since(start)
			if s.Metrics != nil {
				if *pattern == "" {
					*pattern = r.Pattern // the root's: /healthz, /blobs/, or /v2/ unauthenticated
				}
				s.Metrics.Requests.WithLabelValues(metrics.Method(r.Method), metrics.Route(*pattern), statusClass(rec.status)).Observe(elapsed.Seconds())
			}
			s.Log.Debug("request", "method", r.Method, "path", logPath(r.URL.Path), "status", rec.status, "ms", elapsed.Milliseconds())
		}()
		r.Body = http.MaxBytesReader(rec, r.Body, MaxBodyBytes)
		next.ServeHTTP(rec, r)
	})
}

// statusClass is the status label: 1xx to 5xx.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// logPath keeps blob paths out of the log beyond their prefix.
func logPath(p string) string {
	if strings.HasPrefix(p, "/blobs/") {
		return "/blobs/…"
	}
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// twilioError is Twilio's error body.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeError(w http.ResponseWriter, e *convoseal.Error) {
	if e.Status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	writeJSON(w, e.Status, twilioError{Code: e.Code, Message: e.Message, MoreInfo: "https://www.twilio.com/docs/errors/" + itoa(e.Code), Status: e.Status})
}

// fail maps an error to a response: client errors as they are, not-found as a
// 404, anything else as a logged 500 with no detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, what string) {
	var ce *convoseal.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ce):
		writeError(w, ce)
	case errors.Is(err, convoseal.ErrNotFound):
		writeError(w, convoseal.NotFoundf("The requested resource %s was not found", what))
	case errors.Is(err, convoseal.ErrConflict):
		writeError(w, convoseal.Conflictf("%s", strings.TrimPrefix(err.Error(), convoseal.ErrConflict.Error()+": ")))
	case errors.As(err, &mbe):
		writeError(w, &convoseal.Error{Code: convoseal.CodeTooLarge, Status: http.StatusRequestEntityTooLarge, Message: "request body is larger than " + itoa(MaxBodyBytes) + " bytes"})
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.Log.Error("request failed", "method", r.Method, "path", logPath(r.URL.Path), "err", err)
	writeError(w, &convoseal.Error{Code: convoseal.CodeInternal, Status: 500, Message: "internal error; the operator's log has the details"})
}
