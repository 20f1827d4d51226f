package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/convoseal/convoseal/internal/metrics"
)

// defaultMetricsAddr is where /metrics is served unless --metrics-addr says
// otherwise: loopback, apart from the public API.
const defaultMetricsAddr = "127.0.0.1:9464"

// serveMetrics serves m at /metrics on its own listener at addr (nothing
// when addr is empty) and returns how to shut it down.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (shutdown func(context.Context) error, err error) {
	if addr == "" {
		return func(context.Context) error { return nil }, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on --metrics-addr %s (give each process on a host its own, or --metrics-addr '' for none): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "addr", addr, "err", err)
		}
	}()
	log.Info("metrics served", "addr", ln.Addr().String())
	return srv.Shutdown, nil
}
