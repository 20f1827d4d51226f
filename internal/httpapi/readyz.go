package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// How long /readyz reuses a probe's result: the local blob store's probe
// creates and removes a file, which an unauthenticated caller must not be
// able to make the server do at will.
const (
	readyOKFor     = 5 * time.Second
	readyFailedFor = time.Second
)

// readiness caches the outcome of probing the database and the blob store.
type readiness struct {
	mu      sync.Mutex // held while probing: concurrent callers share one probe
	checked time.Time
	what    string           // what is unavailable, for the caller; "" when ready
	err     error            // why, for the log
	now     func() time.Time // time.Now; tests replace it
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if what, err := s.probeReady(r.Context()); err != nil {
		s.Log.Warn("readyz: "+what, "err", err)
		http.Error(w, what, http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// probeReady probes the database and the blob store, at most once per
// readyOKFor (readyFailedFor after a failure).
func (s *Server) probeReady(ctx context.Context) (what string, err error) {
	c := &s.ready
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	ttl := readyOKFor
	if c.err != nil {
		ttl = readyFailedFor
	}
	if !c.checked.IsZero() && now().Sub(c.checked) < ttl {
		return c.what, c.err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	c.what, c.err = "", nil
	if err := s.DB.Ping(ctx); err != nil {
		c.what, c.err = "database unavailable", err
	} else if err := s.Blobs.Ping(ctx); err != nil {
		c.what, c.err = "blob store unavailable", err
	}
	c.checked = now()
	return c.what, c.err
}
