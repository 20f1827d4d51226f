// Package metrics defines convoseal's Prometheus metrics. Labels are fixed
// vocabularies (outcomes, statuses, operator types): never SIDs, URLs or
// content.
package metrics

import (
	"net/http"

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
	r.MustRegister(m.WebhookDeliveries, m.Transcripts, m.OperatorResults,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
