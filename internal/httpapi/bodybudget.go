package httpapi

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/convoseal/convoseal"
	"golang.org/x/sync/semaphore"
)

// Defaults of a BodyBudget.
const (
	DefaultBodyBytesInFlight = 256 << 20
	DefaultBodyWait          = 2 * time.Second
	// bodyStep is how much more a body of undeclared length (chunked) takes
	// from the budget each time what it has read outgrows what it holds.
	bodyStep = 256 << 10
)

// retryAfterSeconds is the Retry-After of a 429.
const retryAfterSeconds = 2

// errBodyBudget answers a request whose body found no room in the budget.
var errBodyBudget = &convoseal.Error{Code: convoseal.CodeRateLimited, Status: http.StatusTooManyRequests,
	Message: "Too many request bodies are being received at once; retry after " + strconv.Itoa(retryAfterSeconds) + " seconds"}

// BodyBudget bounds the bytes of request bodies the server handles at once,
// so that concurrent large uploads cannot take all memory. A request takes
// its Content-Length from the budget before its handler runs (a body of
// undeclared length takes it in steps as it is read) and gives it back when
// the handler returns. A request that finds no room waits, first come first
// served, for at most Wait, then gets 429 with Retry-After. A body larger
// than the whole budget takes all of it, so it runs alone.
type BodyBudget struct {
	max  int64
	wait time.Duration
	sem  *semaphore.Weighted
	// OnChange, if set, is called with the bytes in flight after each
	// change (from the goroutine that made it; calls may interleave).
	OnChange func(inFlight int64)
	inFlight atomic.Int64
}

// NewBodyBudget makes a budget of size bytes (at least 1) whose requests
// wait at most wait for room.
func NewBodyBudget(size int64, wait time.Duration) *BodyBudget {
	size = max(size, 1)
	return &BodyBudget{max: size, wait: wait, sem: semaphore.NewWeighted(size)}
}

// acquire takes n bytes (at most the whole budget), waiting at most b.wait.
func (b *BodyBudget) acquire(ctx context.Context, n int64) bool {
	if !b.sem.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(ctx, b.wait)
		defer cancel()
		if b.sem.Acquire(ctx, n) != nil {
			return false
		}
	}
	b.changed(n)
	return true
}

// release gives n bytes back.
func (b *BodyBudget) release(n int64) {
	if n > 0 {
		b.sem.Release(n)
		b.changed(-n)
	}
}

func (b *BodyBudget) changed(delta int64) {
	v := b.inFlight.Add(delta)
	if b.OnChange != nil {
		b.OnChange(v)
	}
}

// InFlight is the number of body bytes being handled.
func (b *BodyBudget) InFlight() int64 { return b.inFlight.Load() }

// Limit applies the budget to next's requests.
func (b *BodyBudget) Limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > MaxBodyBytes {
			writeError(w, &convoseal.Error{Code: convoseal.CodeTooLarge, Status: http.StatusRequestEntityTooLarge,
				Message: "request body is larger than " + itoa(MaxBodyBytes) + " bytes"})
			return
		}
		if r.ContentLength < 0 {
			body := &budgetedBody{ReadCloser: r.Body, budget: b, ctx: r.Context()}
			defer func() { b.release(body.held) }()
			r.Body = body
			next.ServeHTTP(w, r)
			return
		}
		n := min(r.ContentLength, b.max)
		if !b.acquire(r.Context(), n) {
			writeError(w, errBodyBudget)
			return
		}
		defer b.release(n)
		next.ServeHTTP(w, r)
	})
}

// budgetedBody takes room in the budget as a body of undeclared length is
// read; what it holds is given back when the request ends.
type budgetedBody struct {
	io.ReadCloser
	budget *BodyBudget
	ctx    context.Context
	held   int64 // bytes taken from the budget
	read   int64
	err    error
}

func (r *budgetedBody) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.ReadCloser.Read(p)
	r.read += int64(n)
	for r.read > r.held && r.held < r.budget.max {
		step := min(int64(bodyStep), r.budget.max-r.held)
		if !r.budget.acquire(r.ctx, step) {
			r.err = errBodyBudget
			return n, r.err
		}
		r.held += step
	}
	return n, err
}
