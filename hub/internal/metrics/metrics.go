// Package metrics is the hub's Prometheus instrumentation: one registry per
// hub (so several hubs in one process, as in tests, do not collide), served
// by the management API at /metrics. Every method is safe on a nil *Metrics.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds the hub's collectors.
type Metrics struct {
	Registry   *prometheus.Registry
	events     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
	plugin     *prometheus.HistogramVec
	routing    prometheus.Histogram
}

// New makes the collectors; gauges reads values (jobs waiting, retries
// pending, dead letters) when Prometheus scrapes.
func New(gauges map[string]func() float64) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookhub_events_total",
			Help: "Events taken from the bus, by type and outcome (routed: matched a webhook; unmatched: matched none; rejected; duplicate: a publisher's resend, not delivered again)."}, []string{"type", "outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookhub_deliveries_total",
			Help: "Delivery attempts by outcome (delivered, retrying, dead, skipped) and status class (2xx, 4xx, 5xx, none)."}, []string{"outcome", "status_class"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hookhub_delivery_duration_seconds",
			Help: "Time from sending a request to its response.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		plugin: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hookhub_plugin_duration_seconds",
			Help: "Time a plugin took per call.", Buckets: prometheus.ExponentialBuckets(0.00001, 3, 12)}, []string{"plugin"}),
		routing: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hookhub_routing_duration_seconds",
			Help: "Time from taking an event to having written its jobs.", Buckets: prometheus.ExponentialBuckets(0.0001, 3, 12)}),
	}
	m.Registry.MustRegister(m.events, m.deliveries, m.latency, m.plugin, m.routing,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, f := range gauges {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: gaugeHelp[name]}, f))
	}
	return m
}

var gaugeHelp = map[string]string{
	"hookhub_jobs_waiting":      "Delivery jobs in the deliveries stream: due now, or waiting for a retry.",
	"hookhub_pending_retries":   "Jobs waiting for their next attempt.",
	"hookhub_dead_letters":      "Jobs in the dead-letter stream.",
	"hookhub_log_index_records": "Records (attempts, dead letters, rejected events) the API's index of the delivery log holds.",
	"hookhub_log_index_bytes":   "About how many bytes of memory the API's index of the delivery log takes.",
}

// Event counts an event taken from the bus.
func (m *Metrics) Event(eventType, outcome string) {
	if m != nil {
		m.events.WithLabelValues(eventType, outcome).Inc()
	}
}

// Routed records how long routing one event took.
func (m *Metrics) Routed(d time.Duration) {
	if m != nil {
		m.routing.Observe(d.Seconds())
	}
}

// Delivery counts an attempt's outcome; latency is zero when nothing was sent.
func (m *Metrics) Delivery(outcome string, status int, latency time.Duration) {
	if m == nil {
		return
	}
	class := "none"
	if status > 0 {
		class = strconv.Itoa(status/100) + "xx"
	}
	m.deliveries.WithLabelValues(outcome, class).Inc()
	if latency > 0 {
		m.latency.Observe(latency.Seconds())
	}
}

// Plugin records a plugin call.
func (m *Metrics) Plugin(name string, d time.Duration) {
	if m != nil {
		m.plugin.WithLabelValues(name).Observe(d.Seconds())
	}
}
