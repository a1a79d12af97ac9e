// Package telemetry holds every metric and span name pink emits, and the
// setup of its registry, tracer and logger. Other packages record through
// the types here and never name a metric themselves.
package telemetry

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is one process's metrics registry, with the Go runtime and
// process collectors. Each part of the process (scheduler, worker, API)
// registers its own metric set on it; the metric sets take any
// prometheus.Registerer, so the Go SDK's worker can register on its
// user's.
type Registry struct {
	*prometheus.Registry
}

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Registry{Registry: reg}
}

// Prometheus exposes the underlying registry (for tests and extra collectors).
func (r *Registry) Prometheus() *prometheus.Registry { return r.Registry }

// Scrape limits of /metrics: a page of many jobs is megabytes, so only a
// few scrapes are served at once (the rest get a 503 at once) and none
// takes longer than scrapeTimeout.
const (
	MaxScrapesInFlight = 3
	scrapeTimeout      = 20 * time.Second
)

// Handler serves /metrics, in OpenMetrics format when the scraper asks for
// it (exemplars need OpenMetrics).
func (r *Registry) Handler() http.Handler { return r.handler(scrapeTimeout) }

func (r *Registry) handler(timeout time.Duration) http.Handler {
	return promhttp.HandlerFor(r.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: r.Registry,
		MaxRequestsInFlight: MaxScrapesInFlight, Timeout: timeout})
}

// shared registers c on r, or returns the equal collector registered
// already: metric sets that several parts of one process make (the etcd
// request metrics of a scheduler and a worker in one process) are made
// once.
func shared[C prometheus.Collector](r prometheus.Registerer, c C) C {
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("telemetry: register %T: %v", c, err))
	}
	return c
}

// Etcd records the latency and errors of the etcd requests a process makes.
type Etcd struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewEtcd registers the etcd client metrics on r, or shares those
// registered there already.
func NewEtcd(r prometheus.Registerer) *Etcd {
	e := &Etcd{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pink_etcd_request_duration_seconds",
			Help:    "Duration of etcd requests made by pink, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_etcd_request_errors_total",
			Help: "etcd requests made by pink that failed, by operation.",
		}, []string{"op"}),
	}
	e.duration, e.errors = shared(r, e.duration), shared(r, e.errors)
	return e
}

// Observe is a store.Observer.
func (e *Etcd) Observe(op string, took time.Duration, err error) {
	e.duration.WithLabelValues(op).Observe(took.Seconds())
	// The error counter of every operation that ran exists, at 0 until it
	// fails, so that rate() and the error ratio read 0 on a healthy
	// cluster, not "no data".
	errs := e.errors.WithLabelValues(op)
	if err != nil {
		errs.Inc()
	}
}
