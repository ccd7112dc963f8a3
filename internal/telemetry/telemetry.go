// Package telemetry defines packshot's Prometheus metrics (all named packshot_*) in one
// registry, and adapts the hooks of the queue, notifier, realtime and AI packages to
// them, so those packages stay free of any metrics library.
package telemetry

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the registry and every metric packshot exports.
type Metrics struct {
	Registry *prometheus.Registry

	// HTTPRequests counts requests by route pattern, method and status code.
	HTTPRequests *prometheus.CounterVec
	// HTTPDuration observes request durations by route pattern and method.
	HTTPDuration *prometheus.HistogramVec
}

// New registers every metric (plus the Go runtime and process collectors) in a fresh
// registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "packshot_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "packshot_http_request_duration_seconds",
			Help:    "HTTP request durations by route pattern and method (streams excluded: they last as long as the client stays).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.HTTPRequests, m.HTTPDuration,
	)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveHTTP records one finished request.
func (m *Metrics) ObserveHTTP(route, method, code string, d time.Duration, stream bool) {
	m.HTTPRequests.WithLabelValues(route, method, code).Inc()
	if !stream {
		m.HTTPDuration.WithLabelValues(route, method).Observe(d.Seconds())
	}
}
