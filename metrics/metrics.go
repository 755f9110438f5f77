// Package metrics exposes Parley's Prometheus metrics. It adapts
// prometheus/client_golang and knows nothing of the other packages:
// cmd/parley hands it functions to read (the hub's counters) and hands the
// other packages the hooks it returns (observations of frames and commits).
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every Parley metric.
const namespace = "parley"

// Metrics is one registry of Parley's metrics, with the standard Go and
// process collectors. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	framesIn      prometheus.Counter
	eventsOut     prometheus.Counter
	messagesOut   prometheus.Counter
	rejected      *prometheus.CounterVec
	limited       *prometheus.CounterVec
	ackLatency    prometheus.Histogram
	commitBatch   prometheus.Histogram
	commitLatency prometheus.Histogram
}

// New returns a registry with every Parley metric.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := factory{reg}
	return &Metrics{
		reg: reg,
		framesIn: f.counter(prometheus.CounterOpts{Name: "frames_in_total",
			Help: "WebSocket frames received from clients."}),
		eventsOut: f.counter(prometheus.CounterOpts{Name: "events_out_total",
			Help: "Events written to clients, several per WebSocket message when they queue up."}),
		messagesOut: f.counter(prometheus.CounterOpts{Name: "messages_out_total",
			Help: "WebSocket messages written to clients."}),
		rejected: f.counterVec(prometheus.CounterOpts{Name: "frames_rejected_total",
			Help: "Client frames refused with an error event, by error code."}, "code"),
		limited: f.counterVec(prometheus.CounterOpts{Name: "limited_total",
			Help: "Requests and frames refused by a limit per address or per person (HTTP 429, rate_limited), by limit."}, "limit"),
		ackLatency: f.histogram(prometheus.HistogramOpts{Name: "send_ack_seconds",
			Help:    "Time from reading a send frame to its ack being ready for the connection's writer.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		commitBatch: f.histogram(prometheus.HistogramOpts{Name: "store_commit_batch_size",
			Help:    "Writes committed together in one store transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11)}),
		commitLatency: f.histogram(prometheus.HistogramOpts{Name: "store_commit_seconds",
			Help:    "Time to commit one store transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
	}
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Gauge registers a gauge whose value read returns at each scrape.
func (m *Metrics) Gauge(name, help string, read func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, read))
}

// Counter registers a counter whose value read returns at each scrape; read
// must never decrease.
func (m *Metrics) Counter(name, help string, read func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, read))
}

// FrameIn counts a frame received from a client.
func (m *Metrics) FrameIn() { m.framesIn.Inc() }

// MessageOut counts one WebSocket message carrying events events.
func (m *Metrics) MessageOut(events int) {
	m.messagesOut.Inc()
	m.eventsOut.Add(float64(events))
}

// Rejected counts a frame refused with the error code.
func (m *Metrics) Rejected(code string) { m.rejected.WithLabelValues(code).Inc() }

// Limited counts a request or frame refused by the limit named limit.
func (m *Metrics) Limited(limit string) { m.limited.WithLabelValues(limit).Inc() }

// Acked observes the time a send took, from the hub taking it to its ack.
func (m *Metrics) Acked(d time.Duration) { m.ackLatency.Observe(d.Seconds()) }

// Committed observes one store transaction of size writes that took d.
func (m *Metrics) Committed(size int, d time.Duration) {
	m.commitBatch.Observe(float64(size))
	m.commitLatency.Observe(d.Seconds())
}

// factory registers collectors in the Parley namespace.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(o prometheus.CounterOpts) prometheus.Counter {
	o.Namespace = namespace
	c := prometheus.NewCounter(o)
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(o prometheus.CounterOpts, labels ...string) *prometheus.CounterVec {
	o.Namespace = namespace
	c := prometheus.NewCounterVec(o, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogram(o prometheus.HistogramOpts) prometheus.Histogram {
	o.Namespace = namespace
	h := prometheus.NewHistogram(o)
	f.reg.MustRegister(h)
	return h
}
