package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Buckets for lag histograms: a healthy leader writes a fire within
// milliseconds of its nominal time; a failover makes it seconds late.
var lagBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Scheduler is the metric set of a scheduler node. Leader-only series are
// set by the leader and dropped by Reset when a node stops leading.
type Scheduler struct {
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
	interval      *prometheus.GaugeVec
}

// NewScheduler registers the scheduler metrics on r.
func NewScheduler(r *Registry) *Scheduler {
	m := &Scheduler{
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pink_scheduler_leader", Help: "1 if this scheduler node is the leader, else 0."}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pink_scheduler_leader_changes_total", Help: "Times this node became or stopped being the leader."}),
		jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_jobs", Help: "Jobs known to the leader, by state (active, paused)."}, []string{"state"}),
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_fires_total", Help: "Snapshots written, by trigger (cron, manual, catchup, retry, failover)."},
			[]string{"job", "group", "trigger"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_fires_skipped_total", Help: "Nominal fires that were not run, by reason."},
			[]string{"job", "group", "reason"}),
		scheduleLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pink_schedule_lag_seconds", Help: "Nominal fire time to snapshot written.", Buckets: lagBuckets}),
		dispatchLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pink_dispatch_lag_seconds", Help: "Nominal fire time to snapshot assigned to a client.", Buckets: lagBuckets}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_snapshots_pending", Help: "Snapshots waiting for a client, by group."}, []string{"group"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_snapshots_inflight", Help: "Snapshots assigned to a client (dispatched or running), by group."}, []string{"group"}),
		failovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pink_failovers_total", Help: "Snapshots moved off a client that died, by group and reason."},
			[]string{"group", "reason"}),
		clients: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_clients", Help: "Live clients (workers), by group."}, []string{"group"}),
		nextFire: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_next_fire_timestamp_seconds", Help: "Next nominal fire time of a job (unix seconds)."},
			[]string{"job", "group"}),
		interval: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_interval_seconds", Help: "Nominal interval between a job's fires."},
			[]string{"job", "group"}),
	}
	r.reg.MustRegister(m.leader, m.leaderChanges, m.jobs, m.fires, m.skipped, m.scheduleLag, m.dispatchLag,
		m.pending, m.inflight, m.failovers, m.clients, m.nextFire, m.interval)
	return m
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
	m.jobs.Reset()
	m.pending.Reset()
	m.inflight.Reset()
	m.clients.Reset()
	m.nextFire.Reset()
	m.interval.Reset()
}

// Fired counts a written snapshot and its schedule lag; dispatched says
// whether it went straight to a client.
func (m *Scheduler) Fired(job, group, trigger string, nominal, written time.Time, dispatched bool) {
	m.fires.WithLabelValues(job, group, trigger).Inc()
	if trigger == "cron" || trigger == "catchup" {
		m.scheduleLag.Observe(written.Sub(nominal).Seconds())
		if dispatched {
			m.dispatchLag.Observe(written.Sub(nominal).Seconds())
		}
	}
}

// Dispatched records a pending snapshot that was assigned to a client.
func (m *Scheduler) Dispatched(nominal, at time.Time) {
	m.dispatchLag.Observe(at.Sub(nominal).Seconds())
}

// Skipped counts n nominal fires that were not run.
func (m *Scheduler) Skipped(job, group, reason string, n int) {
	if n > 0 {
		m.skipped.WithLabelValues(job, group, reason).Add(float64(n))
	}
}

// Failover counts a snapshot moved off a dead client.
func (m *Scheduler) Failover(group, reason string) {
	m.failovers.WithLabelValues(group, reason).Inc()
}

// SetGroup sets a group's gauges.
func (m *Scheduler) SetGroup(group string, clients, pending, inflight int) {
	m.clients.WithLabelValues(group).Set(float64(clients))
	m.pending.WithLabelValues(group).Set(float64(pending))
	m.inflight.WithLabelValues(group).Set(float64(inflight))
}

// DeleteGroup drops a group's gauges.
func (m *Scheduler) DeleteGroup(group string) {
	m.clients.DeleteLabelValues(group)
	m.pending.DeleteLabelValues(group)
	m.inflight.DeleteLabelValues(group)
}

// SetJobs sets the number of active and paused jobs.
func (m *Scheduler) SetJobs(active, paused int) {
	m.jobs.WithLabelValues("active").Set(float64(active))
	m.jobs.WithLabelValues("paused").Set(float64(paused))
}

// SetJob sets a job's next fire and nominal interval; a zero next removes
// the next-fire series (paused or never fires again).
func (m *Scheduler) SetJob(job, group string, next time.Time, interval time.Duration) {
	if next.IsZero() {
		m.nextFire.DeleteLabelValues(job, group)
	} else {
		m.nextFire.WithLabelValues(job, group).Set(float64(next.UnixNano()) / 1e9)
	}
	m.interval.WithLabelValues(job, group).Set(interval.Seconds())
}

// DeleteJob drops a job's series.
func (m *Scheduler) DeleteJob(job, group string) {
	m.nextFire.DeleteLabelValues(job, group)
	m.interval.DeleteLabelValues(job, group)
	m.fires.DeletePartialMatch(prometheus.Labels{"job": job})
	m.skipped.DeletePartialMatch(prometheus.Labels{"job": job})
}
