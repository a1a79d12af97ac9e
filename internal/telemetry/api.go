package telemetry

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// API is the metric set of the JSON API.
type API struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	streams  prometheus.Gauge
	ended    *prometheus.CounterVec
}

// NewAPI registers the API metrics on r.
func NewAPI(r prometheus.Registerer) *API {
	m := &API{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_api_requests_total", Help: "API requests, by route, method and status code."},
			[]string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pink_api_request_duration_seconds", Help: "API request duration, by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
			[]string{"route", "method"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pink_api_event_streams", Help: "Open event streams (GET /api/v1/events)."}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_api_event_streams_ended_total", Help: "Event streams ended, by reason: client (it went away), slow (it did not keep up and was dropped), shutdown, etcd, refused (too many open)."},
			[]string{"reason"}),
	}
	r.MustRegister(m.requests, m.duration, m.streams, m.ended)
	for _, reason := range []string{"client", "slow", "shutdown", "etcd", "refused"} {
		m.ended.WithLabelValues(reason)
	}
	return m
}

// StreamOpened counts an event stream in; StreamEnded counts it out with
// why it ended.
func (m *API) StreamOpened() { m.streams.Inc() }

// StreamEnded: see StreamOpened; reason "refused" counts a stream that was
// never opened.
func (m *API) StreamEnded(reason string) {
	if reason != "refused" {
		m.streams.Dec()
	}
	m.ended.WithLabelValues(reason).Inc()
}

// Observe records one request.
func (m *API) Observe(route, method string, code int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
}
