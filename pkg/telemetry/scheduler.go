package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Buckets for lag histograms: a healthy leader writes a fire within
// milliseconds of its nominal time; a failover makes it seconds late.
var lagBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Label values every job's series are created with, so that each exists
// (at 0) as soon as the job does.
var (
	Triggers    = []string{"cron", "manual", "catchup", "retry", "failover", "backfill"}
	SkipReasons = []string{"misfire_run_once", "misfire_skip", "misfire_window", "concurrency_forbid"}
)

// Options shape the metric sets of a process.
type Options struct {
	// NoJobLabel drops the job label (all jobs of a group share one series)
	// and the per-job gauges, for fleets with very many jobs.
	NoJobLabel bool
}

// Scheduler is the metric set of a scheduler node. Leader-only series are
// set by the leader from its view of etcd, and dropped by Reset when a node
// stops leading, so a follower exports none of them.
type Scheduler struct {
	opts          Options
	leader        prometheus.Gauge
	leaderChanges prometheus.Counter
	jobs          *prometheus.GaugeVec
	fires         *prometheus.CounterVec
	skipped       *prometheus.CounterVec
	scheduleLag   prometheus.Histogram
	dispatchLag   prometheus.Histogram
	pending       *prometheus.GaugeVec
	inflight      *prometheus.GaugeVec
	failovers     *prometheus.CounterVec
	clients       *prometheus.GaugeVec
	nextFire      *prometheus.GaugeVec
	lastSuccess   *prometheus.GaugeVec
	lastFailure   *prometheus.GaugeVec
	interval      *prometheus.GaugeVec
	updated       *prometheus.GaugeVec
	lost          *prometheus.CounterVec
}

// NewScheduler registers the scheduler metrics on r.
func NewScheduler(r *Registry, opts Options) *Scheduler {
	jg := []string{"job_name", "group"}
	m := &Scheduler{
		opts: opts,
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pink_scheduler_leader", Help: "1 if this scheduler node is the leader, else 0."}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pink_scheduler_leader_changes_total", Help: "Times this node became or stopped being the leader."}),
		jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_jobs", Help: "Jobs, by state (active, paused). Leader only."}, []string{"state"}),
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_fires_total", Help: "Snapshots that entered execution, by trigger (cron, catchup: written; manual, retry: dispatched; failover: next attempt created). Leader only."},
			[]string{"job_name", "group", "trigger"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_fires_skipped_total", Help: "Nominal fires that were not run, by reason. Leader only."},
			[]string{"job_name", "group", "reason"}),
		scheduleLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pink_schedule_lag_seconds", Help: "Nominal fire time to snapshot written (cron and catch-up fires).", Buckets: lagBuckets}),
		dispatchLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pink_dispatch_lag_seconds", Help: "Nominal fire time to snapshot assigned to a client.", Buckets: lagBuckets}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_snapshots_pending", Help: "Snapshots waiting for a client, by group. Leader only."}, []string{"group"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_snapshots_inflight", Help: "Snapshots assigned to a client (dispatched or running), by group. Leader only."}, []string{"group"}),
		failovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_failovers_total", Help: "Snapshots moved off a client that died (client_lost) or is shutting down (client_draining). Leader only."},
			[]string{"group", "reason"}),
		clients: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_clients", Help: "Live clients (workers), by group. Leader only."}, []string{"group"}),
		nextFire: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_next_fire_timestamp_seconds", Help: "Next nominal fire time of an active job (unix seconds). Leader only."}, jg),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_last_success_timestamp_seconds", Help: "Finish time of the job's last succeeded run (unix seconds; 0: never). Leader only."}, jg),
		lastFailure: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_last_failure_timestamp_seconds", Help: "Finish time of the job's last failed, timed out or lost run (unix seconds; 0: never). Leader only."}, jg),
		interval: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_interval_seconds", Help: "Nominal interval between the job's fires (the longest gap among the next few). Leader only."}, jg),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_runs_lost_total", Help: "Runs recorded lost because their worker died while running them. Leader only."}, jg),
		updated: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_updated_timestamp_seconds", Help: "When the job was created or last changed, paused or resumed (unix seconds). Leader only."}, jg),
	}
	r.reg.MustRegister(m.leader, m.leaderChanges, m.jobs, m.fires, m.skipped, m.scheduleLag, m.dispatchLag,
		m.pending, m.inflight, m.failovers, m.clients, m.nextFire, m.lastSuccess, m.lastFailure, m.interval, m.updated, m.lost)
	return m
}

// job maps a job name to its label value.
func (m *Scheduler) job(name string) string {
	if m.opts.NoJobLabel {
		return ""
	}
	return name
}

// SetLeader records a change of leadership of this node.
func (m *Scheduler) SetLeader(leading bool) {
	v := 0.0
	if leading {
		v = 1
	}
	m.leader.Set(v)
	m.leaderChanges.Inc()
}

// Reset drops every leader-only series: a follower exports none of them.
func (m *Scheduler) Reset() {
	for _, v := range []interface{ Reset() }{m.jobs, m.fires, m.skipped, m.pending, m.inflight, m.failovers,
		m.clients, m.nextFire, m.lastSuccess, m.lastFailure, m.interval, m.updated, m.lost} {
		v.Reset()
	}
}

// AddJob creates a job's series at 0.
func (m *Scheduler) AddJob(job, group string) {
	j := m.job(job)
	for _, t := range Triggers {
		m.fires.WithLabelValues(j, group, t)
	}
	for _, r := range SkipReasons {
		m.skipped.WithLabelValues(j, group, r)
	}
	m.lost.WithLabelValues(j, group)
	if !m.opts.NoJobLabel {
		m.lastSuccess.WithLabelValues(j, group)
		m.lastFailure.WithLabelValues(j, group)
	}
}

// DeleteJob drops a job's series.
func (m *Scheduler) DeleteJob(job, group string) {
	if m.opts.NoJobLabel {
		return
	}
	for _, v := range []*prometheus.GaugeVec{m.nextFire, m.lastSuccess, m.lastFailure, m.interval, m.updated} {
		v.DeleteLabelValues(job, group)
	}
	m.fires.DeletePartialMatch(prometheus.Labels{"job_name": job, "group": group})
	m.lost.DeleteLabelValues(job, group)
	m.skipped.DeletePartialMatch(prometheus.Labels{"job_name": job, "group": group})
}

func observe(h prometheus.Histogram, v float64, traceID string) {
	if traceID == "" {
		h.Observe(v)
		return
	}
	h.(prometheus.ExemplarObserver).ObserveWithExemplar(v, prometheus.Labels{"trace_id": traceID})
}

// Fired counts a snapshot written by a fire (cron, catchup) or created as
// the next attempt after a failover, with its lags; assigned says whether it
// went straight to a client.
func (m *Scheduler) Fired(job, group, trigger string, nominal, written time.Time, assigned bool, traceID string) {
	m.fires.WithLabelValues(m.job(job), group, trigger).Inc()
	if trigger == "cron" || trigger == "catchup" {
		lag := written.Sub(nominal).Seconds()
		observe(m.scheduleLag, lag, traceID)
		if assigned {
			observe(m.dispatchLag, lag, traceID)
		}
	}
}

// Dispatched records a pending snapshot that was assigned to a client. A
// manual trigger or a retry counts as a fire when it is first dispatched.
func (m *Scheduler) Dispatched(job, group, trigger string, firstDispatch bool, nominal, at time.Time, traceID string) {
	if firstDispatch && (trigger == "manual" || trigger == "retry") {
		m.fires.WithLabelValues(m.job(job), group, trigger).Inc()
	}
	if trigger == "cron" || trigger == "catchup" {
		observe(m.dispatchLag, at.Sub(nominal).Seconds(), traceID)
	}
}

// Skipped counts n nominal fires that were not run.
func (m *Scheduler) Skipped(job, group, reason string, n int) {
	if n > 0 {
		m.skipped.WithLabelValues(m.job(job), group, reason).Add(float64(n))
	}
}

// Lost counts a run whose worker died while running it.
func (m *Scheduler) Lost(job, group string) { m.lost.WithLabelValues(m.job(job), group).Inc() }

// Failover counts a snapshot moved off a client.
func (m *Scheduler) Failover(group, reason string) {
	m.failovers.WithLabelValues(group, reason).Inc()
}

// AddGroup creates a group's series at 0.
func (m *Scheduler) AddGroup(group string) {
	for _, r := range []string{"client_lost", "client_draining"} {
		m.failovers.WithLabelValues(group, r)
	}
	m.SetGroup(group, 0, 0, 0)
}

// SetGroup sets a group's gauges.
func (m *Scheduler) SetGroup(group string, clients, pending, inflight int) {
	m.clients.WithLabelValues(group).Set(float64(clients))
	m.pending.WithLabelValues(group).Set(float64(pending))
	m.inflight.WithLabelValues(group).Set(float64(inflight))
}

// DeleteGroup drops a group's series.
func (m *Scheduler) DeleteGroup(group string) {
	m.clients.DeleteLabelValues(group)
	m.pending.DeleteLabelValues(group)
	m.inflight.DeleteLabelValues(group)
	m.failovers.DeletePartialMatch(prometheus.Labels{"group": group})
}

// SetJobs sets the number of active and paused jobs.
func (m *Scheduler) SetJobs(active, paused int) {
	m.jobs.WithLabelValues("active").Set(float64(active))
	m.jobs.WithLabelValues("paused").Set(float64(paused))
}

// SetJob sets a job's next fire and nominal interval; a zero next removes
// the next-fire series (paused, or never fires again).
func (m *Scheduler) SetJob(job, group string, next time.Time, interval time.Duration) {
	if m.opts.NoJobLabel {
		return
	}
	if next.IsZero() {
		m.nextFire.DeleteLabelValues(job, group)
	} else {
		m.nextFire.WithLabelValues(job, group).Set(unix(next))
	}
	m.interval.WithLabelValues(job, group).Set(interval.Seconds())
}

// SetJobUpdated sets when a job was created or last changed.
func (m *Scheduler) SetJobUpdated(job, group string, at time.Time) {
	if m.opts.NoJobLabel {
		return
	}
	m.updated.WithLabelValues(job, group).Set(unix(at))
}

// SetJobLast sets a job's last success and failure times (zero: never).
func (m *Scheduler) SetJobLast(job, group string, success, failure time.Time) {
	if m.opts.NoJobLabel {
		return
	}
	m.lastSuccess.WithLabelValues(job, group).Set(unix(success))
	m.lastFailure.WithLabelValues(job, group).Set(unix(failure))
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
