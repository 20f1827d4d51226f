// Package metrics defines convoseal's Prometheus metrics. Labels are fixed
// vocabularies (outcomes, statuses, operator types): never SIDs, URLs or
// content.
package metrics

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one process's set of collectors.
type Metrics struct {
	registry *prometheus.Registry

	// WebhookDeliveries counts delivery attempts by outcome: delivered, retry, failed.
	WebhookDeliveries *prometheus.CounterVec
	// Transcripts counts transcripts finished by status: completed, failed.
	Transcripts *prometheus.CounterVec
	// OperatorResults counts operator results by operator type and status.
	OperatorResults *prometheus.CounterVec
	// Requests observes API request latency by method, route and status class.
	Requests *prometheus.HistogramVec
	// Seals and Opens observe sealing and opening by recipient kind
	// (customer or server).
	Seals *prometheus.HistogramVec
	Opens *prometheus.HistogramVec
}

// New registers the collectors, with Go runtime and process metrics.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		registry: r,
		WebhookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convoseal_webhook_deliveries_total", Help: "Webhook delivery attempts by outcome (delivered, retry, failed).",
		}, []string{"outcome"}),
		Transcripts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convoseal_transcripts_finished_total", Help: "Transcripts finished by the pipeline, by status.",
		}, []string{"status"}),
		OperatorResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convoseal_operator_results_total", Help: "Operator results produced, by operator type and status.",
		}, []string{"operator_type", "status"}),
	}
	m.Requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "convoseal_http_request_duration_seconds", Help: "API request latency by method, route pattern and status class.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route", "code"})
	m.Seals = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "convoseal_seal_duration_seconds", Help: "Time to seal one artifact, by recipient kind (customer, server).",
		Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10),
	}, []string{"recipient"})
	m.Opens = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "convoseal_open_duration_seconds", Help: "Time to open one server-sealed artifact.",
		Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10),
	}, []string{"recipient"})
	r.MustRegister(m.Requests, m.Seals, m.Opens, m.WebhookDeliveries, m.Transcripts, m.OperatorResults,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// JobCounter reports how many jobs are in each state (available, running,
// retryable, discarded, …) at scrape time.
type JobCounter func(ctx context.Context) (map[string]float64, error)

type jobCollector struct {
	count JobCounter
	desc  *prometheus.Desc
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, n, state)
	}
}

// RegisterJobs exports the job queue's state counts as convoseal_jobs{state}.
func (m *Metrics) RegisterJobs(count JobCounter) {
	m.registry.MustRegister(&jobCollector{count: count,
		desc: prometheus.NewDesc("convoseal_jobs", "Jobs in the durable queue by state (queued = available).", []string{"state"}, nil)})
}

// Unmatched is the route label of a request no route pattern matched.
const Unmatched = "unmatched"

// Route is the label of a request's matched ServeMux pattern
// (Request.Pattern): its path, without the method ("GET /v2/Services/{sid}"
// gives "/v2/Services/{sid}"). Patterns are fixed at start, so the label set
// is bounded; no pattern, or the catch-all "/", gives Unmatched.
func Route(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i:], " ")
	}
	if pattern == "" || pattern == "/" {
		return Unmatched
	}
	return pattern
}

// Method is the label of an HTTP method: the standard ones as they are,
// anything else "other".
func Method(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE":
		return m
	}
	return "other"
}
