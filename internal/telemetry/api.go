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
	}
	r.MustRegister(m.requests, m.duration)
	return m
}

// Observe records one request.
func (m *API) Observe(route, method string, code int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
}
