package telemetry

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Buckets for run durations: from a quick HTTP call to a nightly batch.
var runBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400}

// RunStatuses are the outcomes a worker reports.
var RunStatuses = []string{"succeeded", "failed", "timed_out", "canceled"}

// Worker is the metric set of a worker process.
type Worker struct {
	opts     Options
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	queue    prometheus.Histogram
	running  *prometheus.GaugeVec
	capacity *prometheus.GaugeVec
	refused  *prometheus.CounterVec
	tally    runTally

	mu sync.Mutex
	// gone are the jobs deleted (or moved to another group) since this
	// process started: a run of one that finishes late does not bring
	// back its series.
	gone map[[2]string]bool
}

// NewWorker registers the worker metrics on r, or shares those of another
// worker registered there already.
func NewWorker(r prometheus.Registerer, opts Options) *Worker {
	m := &Worker{
		opts: opts, gone: map[[2]string]bool{},
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_worker_runs_total", Help: "Runs finished by this worker, by status."},
			[]string{"job_name", "group", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pink_worker_run_duration_seconds", Help: "Run duration from start to result, by status; exemplars carry the run's trace_id.", Buckets: runBuckets},
			[]string{"job_name", "group", "status"}),
		queue: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pink_worker_queue_seconds", Help: "Time from assignment to start of a run on this worker.", Buckets: lagBuckets}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_worker_running", Help: "Runs executing on this worker."}, []string{"group"}),
		capacity: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_worker_capacity", Help: "Runs this worker executes at once at most."}, []string{"group"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_worker_results_refused_total", Help: "Results refused because the run was moved or canceled meanwhile (a fenced zombie)."},
			[]string{"group"}),
	}
	// Workers of several groups may share one process and registerer:
	// their series differ by group.
	m.runs, m.duration, m.queue = shared(r, m.runs), shared(r, m.duration), shared(r, m.queue)
	m.running, m.capacity, m.refused = shared(r, m.running), shared(r, m.capacity), shared(r, m.refused)
	return m
}

// Started records the queue wait of a run that starts.
func (m *Worker) Started(waited time.Duration) {
	m.tally.started.Add(1)
	m.queue.Observe(waited.Seconds())
}

// PerJob reports whether the worker exports series per job (the job label
// is on); only then does it need to follow its group's jobs.
func (m *Worker) PerJob() bool { return !m.opts.NoJobLabel }

// AddJob creates a job's run counters at 0, one per final status, so that
// increase() sees a job's first failure. Its duration histograms appear
// with the first run of each status: pre-created they would cost 23 series
// per status and job on every worker of the group, 23 times the counters,
// and no alert keys on their absence.
func (m *Worker) AddJob(job, group string) {
	if m.opts.NoJobLabel {
		return
	}
	m.mu.Lock()
	delete(m.gone, [2]string{job, group})
	m.mu.Unlock()
	for _, st := range RunStatuses {
		m.runs.WithLabelValues(job, group, st)
	}
}

// DeleteJob drops the series of a job that was deleted or left the group.
func (m *Worker) DeleteJob(job, group string) {
	if m.opts.NoJobLabel {
		return
	}
	// Under the lock, so that a run finishing now cannot bring the series
	// back between the mark and the delete.
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gone[[2]string{job, group}] = true
	m.runs.DeletePartialMatch(prometheus.Labels{"job_name": job, "group": group})
	m.duration.DeletePartialMatch(prometheus.Labels{"job_name": job, "group": group})
}

// Finished records a finished run, with its trace id as exemplar. A run of
// a job deleted meanwhile is not recorded per job: its series are gone.
func (m *Worker) Finished(job, group, status string, took time.Duration, traceID string) {
	m.tally.finished(status)
	if m.opts.NoJobLabel {
		job = ""
	} else {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.gone[[2]string{job, group}] {
			return
		}
	}
	m.runs.WithLabelValues(job, group, status).Inc()
	h := m.duration.WithLabelValues(job, group, status)
	if traceID == "" {
		h.Observe(took.Seconds())
		return
	}
	h.(prometheus.ExemplarObserver).ObserveWithExemplar(took.Seconds(), prometheus.Labels{"trace_id": traceID})
}

// Refused counts a result that was fenced off.
func (m *Worker) Refused(group string) { m.refused.WithLabelValues(group).Inc() }

// SetGroup creates the worker's per-group series.
func (m *Worker) SetGroup(group string, capacity int) {
	m.capacity.WithLabelValues(group).Set(float64(capacity))
	m.running.WithLabelValues(group).Set(0)
	m.refused.WithLabelValues(group)
	if m.opts.NoJobLabel {
		// One series per group and status, at 0 from the start.
		for _, st := range RunStatuses {
			m.runs.WithLabelValues("", group, st)
			m.duration.WithLabelValues("", group, st)
		}
	}
}

// SetRunning sets the number of executing runs.
func (m *Worker) SetRunning(group string, n int) { m.running.WithLabelValues(group).Set(float64(n)) }
