package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Buckets for run durations: from a quick HTTP call to a nightly batch.
var runBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400}

// Worker is the metric set of a worker process.
type Worker struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	queue    prometheus.Histogram
	running  *prometheus.GaugeVec
	capacity *prometheus.GaugeVec
	refused  *prometheus.CounterVec
}

// NewWorker registers the worker metrics on r.
func NewWorker(r *Registry) *Worker {
	m := &Worker{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_worker_runs_total", Help: "Runs finished by this worker, by status."},
			[]string{"job", "group", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pink_worker_run_duration_seconds", Help: "Run duration from start to result, by status.", Buckets: runBuckets},
			[]string{"job", "group", "status"}),
		queue: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pink_worker_queue_seconds", Help: "Time from assignment to start of a run on this worker.", Buckets: lagBuckets}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_worker_running", Help: "Runs executing on this worker."}, []string{"group"}),
		capacity: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_worker_capacity", Help: "Runs this worker executes at once at most."}, []string{"group"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_worker_results_refused_total", Help: "Results refused because the run was moved or canceled meanwhile."},
			[]string{"group"}),
	}
	r.reg.MustRegister(m.runs, m.duration, m.queue, m.running, m.capacity, m.refused)
	return m
}

// Finished records a finished run.
func (m *Worker) Finished(job, group, status string, took time.Duration) {
	m.runs.WithLabelValues(job, group, status).Inc()
	m.duration.WithLabelValues(job, group, status).Observe(took.Seconds())
}

// Refused counts a result that was fenced off.
func (m *Worker) Refused(group string) { m.refused.WithLabelValues(group).Inc() }

// Started records the queue wait of a run that starts.
func (m *Worker) Started(waited time.Duration) { m.queue.Observe(waited.Seconds()) }

// SetRunning sets the number of executing runs.
func (m *Worker) SetRunning(group string, n int) { m.running.WithLabelValues(group).Set(float64(n)) }

// SetCapacity sets the worker's capacity.
func (m *Worker) SetCapacity(group string, n int) { m.capacity.WithLabelValues(group).Set(float64(n)) }
