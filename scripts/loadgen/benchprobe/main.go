// Command benchprobe watches a benchmark run from outside the processes under
// test (loopback only), for scripts/bench-cluster.sh:
//
//   - a timing reverse proxy in front of the S3 server: the API and workers
//     talk to it instead of S3, and it records every request's wall time by
//     operation (PUT/GET/DELETE…) and object kind (source, sentences, …);
//   - a sampler of PostgreSQL's pg_stat_activity for one database: what each
//     client backend is doing (on CPU, waiting for a WAL flush, a lock, the
//     client…) every --interval.
//
// It runs until SIGTERM or SIGINT, then writes a JSON summary to --out.
//
//	benchprobe --s3-target http://127.0.0.1:7070 --addr-file proxy.addr \
//	  --database postgres://… --sample-db bench --out probe.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

func loopback(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Hostname() == "localhost" || strings.HasPrefix(u.Hostname(), "127."))
}

type timings struct {
	mu sync.Mutex
	d  map[string][]time.Duration
}

func (t *timings) add(op string, d time.Duration) {
	t.mu.Lock()
	t.d[op] = append(t.d[op], d)
	t.mu.Unlock()
}

// objectKind names what a path-style S3 request touches: the last element
// of a convoseal key ("source", "unredacted"…) with its parent for artifacts.
func objectKind(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) <= 1:
		if r.URL.Query().Has("list-type") {
			return "list"
		}
		return "bucket"
	case strings.HasPrefix(parts[len(parts)-2], "sentences") || (len(parts) >= 2 && parts[len(parts)-2] == "sentences"):
		return "sentences"
	case strings.Contains(r.URL.Path, "/operator-results/"):
		return "operator-result"
	default:
		return parts[len(parts)-1]
	}
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

type sample struct {
	mu      sync.Mutex
	n       int
	counts  map[string]int
	maxConn int
}

func main() {
	var (
		target   = flag.String("s3-target", "", "S3 endpoint to proxy (loopback)")
		addrFile = flag.String("addr-file", "", "write the proxy's http://addr here")
		dbURL    = flag.String("database", "", "PostgreSQL URL to sample pg_stat_activity on (loopback)")
		sampleDB = flag.String("sample-db", "", "database whose backends to sample")
		interval = flag.Duration("interval", 50*time.Millisecond, "sampling interval")
		out      = flag.String("out", "", "write the JSON summary here (default stdout)")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	tm := &timings{d: map[string][]time.Duration{}}
	if *target != "" {
		u, err := url.Parse(*target)
		if err != nil || !loopback(*target) {
			fmt.Fprintln(os.Stderr, "benchprobe: --s3-target must be a loopback URL")
			os.Exit(2)
		}
		rp := httputil.NewSingleHostReverseProxy(u) // keeps the client's Host header: SigV4 signatures stay valid
		rp.Transport = &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchprobe:", err)
			os.Exit(1)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &recorder{ResponseWriter: w, status: 200}
			rp.ServeHTTP(rec, r)
			tm.add(r.Method+" "+objectKind(r), time.Since(start))
		})}
		go srv.Serve(ln)
		defer srv.Close()
		if *addrFile != "" {
			os.WriteFile(*addrFile, []byte("http://"+ln.Addr().String()), 0o600)
		}
	}

	smp := &sample{counts: map[string]int{}}
	var wg sync.WaitGroup
	if *dbURL != "" {
		if !loopback(*dbURL) {
			fmt.Fprintln(os.Stderr, "benchprobe: --database must be on loopback")
			os.Exit(2)
		}
		conn, err := pgx.Connect(ctx, *dbURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchprobe:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close(context.Background())
			tick := time.NewTicker(*interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				rows, err := conn.Query(ctx, `SELECT coalesce(state, ''), coalesce(wait_event_type, ''), coalesce(wait_event, '')
					FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`, *sampleDB)
				if err != nil {
					continue
				}
				smp.mu.Lock()
				smp.n++
				conns := 0
				for rows.Next() {
					var state, typ, ev string
					if rows.Scan(&state, &typ, &ev) != nil {
						continue
					}
					conns++
					key := state
					switch state {
					case "active":
						if typ == "" {
							key = "active: on CPU (no wait event)"
						} else {
							key = "active: " + typ + ":" + ev
						}
					case "idle in transaction":
						key = "idle in transaction (waiting for the client)"
					}
					smp.counts[key]++
				}
				smp.maxConn = max(smp.maxConn, conns)
				smp.mu.Unlock()
				rows.Close()
			}
		}()
	}

	<-ctx.Done()
	wg.Wait()

	type opStat struct {
		Op      string  `json:"op"`
		Count   int     `json:"count"`
		TotalMs float64 `json:"total_ms"`
		MeanMs  float64 `json:"mean_ms"`
		P50Ms   float64 `json:"p50_ms"`
		P99Ms   float64 `json:"p99_ms"`
	}
	var ops []opStat
	tm.mu.Lock()
	for op, ds := range tm.d {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		ops = append(ops, opStat{op, len(ds), ms(sum), ms(sum) / float64(len(ds)), ms(ds[len(ds)/2]), ms(ds[int(0.99*float64(len(ds)-1))])})
	}
	tm.mu.Unlock()
	sort.Slice(ops, func(i, j int) bool { return ops[i].TotalMs > ops[j].TotalMs })
	type waitStat struct {
		What        string  `json:"what"`
		MeanBackend float64 `json:"mean_backends"` // average number of backends in this state per sample
	}
	var waits []waitStat
	smp.mu.Lock()
	for k, c := range smp.counts {
		waits = append(waits, waitStat{k, float64(c) / float64(max(smp.n, 1))})
	}
	samples, maxConn := smp.n, smp.maxConn
	smp.mu.Unlock()
	sort.Slice(waits, func(i, j int) bool { return waits[i].MeanBackend > waits[j].MeanBackend })
	res := map[string]any{"s3": ops, "pg_samples": samples, "pg_max_connections": maxConn, "pg_activity": waits}
	b, _ := json.MarshalIndent(res, "", "  ")
	if *out != "" {
		os.WriteFile(*out, b, 0o600)
	} else {
		os.Stdout.Write(b)
	}
}
