package main

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// memoryReserve is what the soft memory limit allows beyond twice the body
// budget: the process's own needs (pipeline, caches, runtime).
const memoryReserve = 128 << 20

// minMemoryLimit keeps a small body budget from starving the pipeline.
const minMemoryLimit = 512 << 20

// setMemoryLimit makes the garbage collector hold the heap near
// 2 × bodyBudget + memoryReserve (at least minMemoryLimit) unless GOMEMLIMIT
// says otherwise. Processes that take no API bodies (role worker) keep the
// runtime's default. A body
// upload allocates several short-lived copies of its size (decoded media,
// sealed source); with the default GOGC alone, the heap of concurrent uploads
// reaches about twice their live memory before a collection. The limit is
// soft: a heap that must be larger still grows, with the collector working
// harder.
func setMemoryLimit(bodyBudget int64, log *slog.Logger) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	limit := max(2*bodyBudget+memoryReserve, minMemoryLimit)
	debug.SetMemoryLimit(limit)
	log.Debug("soft memory limit", "bytes", limit)
}
