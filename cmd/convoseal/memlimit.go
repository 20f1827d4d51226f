package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"sync"

	"github.com/convoseal/convoseal/internal/httpapi"
)

// The soft memory limit of an API process is
// max(minMemoryLimit, 2 × body bytes in flight + memoryReserve).
const (
	memoryReserve  = 128 << 20 // the process's own needs beyond the bodies
	minMemoryLimit = 256 << 20 // keeps the pipeline (role all) from a busy collector when no bodies arrive
)

// memoryLimiter makes the garbage collector hold the heap near twice the
// request bodies in flight plus a reserve. A body upload allocates several
// short-lived copies of its size (decoded media, sealed source); with the
// default GOGC alone, concurrent uploads let the heap reach about twice their
// live memory before a collection (2.5 GiB for twenty 16 MiB uploads). The
// limit is soft: a heap that must be larger still grows, with the collector
// working harder.
type memoryLimiter struct {
	mu     sync.Mutex
	budget *httpapi.BodyBudget
}

// limitMemory ties the soft memory limit to budget's bytes in flight, unless
// GOMEMLIMIT sets one.
func limitMemory(budget *httpapi.BodyBudget, log *slog.Logger) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		log.Debug("soft memory limit from GOMEMLIMIT")
		return
	}
	l := &memoryLimiter{budget: budget}
	budget.OnChange = func(int64) { l.update() }
	l.update()
}

// update sets the limit from the bytes in flight now (read under the lock,
// so that interleaved calls leave the latest value).
func (l *memoryLimiter) update() {
	l.mu.Lock()
	defer l.mu.Unlock()
	debug.SetMemoryLimit(max(minMemoryLimit, 2*l.budget.InFlight()+memoryReserve))
}
