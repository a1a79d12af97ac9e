package telemetry

import (
	"maps"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/prometheus/client_golang/prometheus"
)

// Buckets for lag histograms: a healthy leader writes a fire within
// milliseconds of its nominal time; a failover makes it seconds late.
var lagBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Label values every job's and group's counter series are created with, so
// that each exists (at 0) as soon as the job or group does. They come from
// the enums of package snapshot, which own them.
var (
	triggers        = labelValues(snapshot.Triggers())
	skipReasons     = labelValues(snapshot.SkipReasons())
	failoverReasons = labelValues(snapshot.FailoverReasons())
)

func labelValues[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Options shape the metric sets of a process.
type Options struct {
	// NoJobLabel drops the job label (all jobs of a group share one series)
	// and the per-job gauges, for fleets with very many jobs.
	NoJobLabel bool
	// JobInfoLabels are the keys of jobs' labels that pink_job_info carries
	// (as label_<key>), for joining a job's series to its team or tier in
	// alert routing. Only these: a label becomes a series dimension.
	JobInfoLabels []string
}

// Scheduler is the metric set of a scheduler node. Leader-only series are
// set by the leader from its view of etcd, and dropped by Reset when a node
// stops leading, so a follower exports none of them.
type Scheduler struct {
	opts          Options
	leader        prometheus.Gauge
	leaderStalled prometheus.Gauge
	leaderChanges prometheus.Counter
	jobs          *prometheus.GaugeVec
	counts        *leaderCounts
	scheduleLag   *prometheus.HistogramVec
	dispatchLag   *prometheus.HistogramVec
	scheduleLead  *prometheus.HistogramVec
	groups        groupGauges
	nextFire      *prometheus.GaugeVec
	lastSuccess   *prometheus.GaugeVec
	lastFailure   *prometheus.GaugeVec
	interval      *prometheus.GaugeVec
	updated       *prometheus.GaugeVec
	lookahead     *prometheus.GaugeVec
	jobInfo       *jobInfo
	streaks       streakGauges
	tally         fireTally
}

// NewScheduler registers the scheduler metrics on r.
func NewScheduler(r prometheus.Registerer, opts Options) *Scheduler {
	jg, g := []string{"job_name", "group"}, []string{"group"}
	m := &Scheduler{
		opts: opts,
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pink_scheduler_leader", Help: "1 if this scheduler node is the leader, else 0."}),
		leaderStalled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pink_scheduler_leader_stalled", Help: "1 while this node leads but has not reached etcd's quorum for more than a second (it writes no fire until it does), else 0."}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pink_scheduler_leader_changes_total", Help: "Times this node became or stopped being the leader."}),
		jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_jobs", Help: "Jobs, by state (active, paused). Leader only."}, []string{"state"}),
		counts: newLeaderCounts(opts),
		scheduleLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pink_schedule_lag_seconds", Help: "Nominal fire time to snapshot written (cron and catch-up fires), by group.", Buckets: lagBuckets}, g),
		dispatchLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pink_dispatch_lag_seconds", Help: "Nominal fire time to snapshot assigned to a client, by group.", Buckets: lagBuckets}, g),
		scheduleLead: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pink_schedule_lead_seconds", Help: "Snapshot written to nominal fire time, for cron fires written ahead (lookahead), by group.", Buckets: lagBuckets}, g),
		groups: newGroupGauges(),
		nextFire: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_next_fire_timestamp_seconds", Help: "Next nominal fire time of an active job (unix seconds). Leader only."}, jg),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_last_success_timestamp_seconds", Help: "Finish time of the job's last succeeded run (unix seconds; 0: never). Leader only."}, jg),
		lastFailure: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_last_failure_timestamp_seconds", Help: "Finish time of the job's last failed, timed out or lost run (unix seconds; 0: never). Leader only."}, jg),
		interval: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_interval_seconds", Help: "Nominal interval between the job's fires (the longest gap among the next few). Leader only."}, jg),
		updated: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_updated_timestamp_seconds", Help: "When the job was created or last changed, paused or resumed (unix seconds). Leader only."}, jg),
		lookahead: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_scheduler_lookahead_seconds", Help: "How long before its nominal time the leader writes a fire; its worker starts it on time by its own clock. Leader only."}, nil),
	}
	r.MustRegister(m.leader, m.leaderChanges, m.jobs, m.counts, m.scheduleLag, m.dispatchLag, m.scheduleLead,
		m.groups.pending, m.groups.inflight, m.groups.clients, m.groups.jobs, m.groups.failing, m.groups.overdue, m.nextFire, m.lastSuccess, m.lastFailure, m.interval, m.updated)
	m.jobInfo, m.streaks = newJobInfo(opts.JobInfoLabels), newStreakGauges()
	r.MustRegister(m.lookahead, m.leaderStalled, m.jobInfo.vec, m.streaks.failures, m.streaks.threshold)
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

// SetLeaderStalled records whether this node, leading, cannot reach etcd's
// quorum: pink_scheduler_leader says who leads, this whether it can act.
func (m *Scheduler) SetLeaderStalled(stalled bool) {
	v := 0.0
	if stalled {
		v = 1
	}
	m.leaderStalled.Set(v)
}

// Reset drops every leader-only series: a follower exports none of them.
func (m *Scheduler) Reset() {
	for _, v := range []interface{ Reset() }{m.jobs, m.counts, m.groups.pending, m.groups.inflight,
		m.groups.clients, m.groups.jobs, m.groups.failing, m.groups.overdue, m.jobInfo.vec, m.streaks.failures, m.streaks.threshold, m.nextFire, m.lastSuccess, m.lastFailure, m.interval, m.updated, m.lookahead} {
		v.Reset()
	}
}

// AddJob creates a job's series at 0 (its counters at the values SetJobCounts
// last gave, if any).
func (m *Scheduler) AddJob(job, group string) {
	m.counts.addJob(job, group)
	if !m.opts.NoJobLabel {
		m.lastSuccess.WithLabelValues(job, group)
		m.lastFailure.WithLabelValues(job, group)
	}
}

// DeleteJob drops a job's series. Without the job label, a group's counter
// series drop with the group's last job.
func (m *Scheduler) DeleteJob(job, group string) {
	m.counts.deleteJob(job, group)
	if m.opts.NoJobLabel {
		return
	}
	for _, v := range []*prometheus.GaugeVec{m.nextFire, m.lastSuccess, m.lastFailure, m.interval, m.updated, m.streaks.failures, m.streaks.threshold} {
		v.DeleteLabelValues(job, group)
	}
	m.jobInfo.vec.DeletePartialMatch(prometheus.Labels{"job_name": job})
}

// SetJobCounts sets a known job's counters to the values stored in etcd:
// fires by trigger, skipped fires by reason, lost runs. Triggers and reasons
// not given export 0.
func (m *Scheduler) SetJobCounts(job, group string, fires, skipped map[string]int64, lost int64) {
	m.counts.setJob(job, group, fires, skipped, lost)
}

// CountsLoaded says the leader has read every job's and group's counts
// from etcd: the leader-only counters are exported from then on (until
// Reset), never a job's 0 before its stored value.
func (m *Scheduler) CountsLoaded() {
	m.counts.mu.Lock()
	defer m.counts.mu.Unlock()
	m.counts.loaded = true
}

// SetGroupFailovers sets a known group's pink_failovers_total to the
// values stored in etcd, by reason.
func (m *Scheduler) SetGroupFailovers(group string, failovers map[string]int64) {
	m.counts.setGroup(group, failovers)
}

func observe(h prometheus.Observer, v float64, traceID string) {
	if traceID == "" {
		h.Observe(v)
		return
	}
	h.(prometheus.ExemplarObserver).ObserveWithExemplar(v, prometheus.Labels{"trace_id": traceID})
}

// SetLookahead records the lookahead the leader fires with.
func (m *Scheduler) SetLookahead(d time.Duration) { m.lookahead.WithLabelValues().Set(d.Seconds()) }

// Fired observes the lags of a snapshot of group written by a fire (cron,
// catchup); assigned says whether it went straight to a client. Fires are
// counted from etcd (SetJobCounts).
func (m *Scheduler) Fired(group, trigger string, nominal, written time.Time, assigned bool, traceID string) {
	m.tally.written.Add(1)
	if assigned {
		m.tally.assigned.Add(1)
	}
	if trigger == "cron" || trigger == "catchup" {
		lag := written.Sub(nominal).Seconds()
		if lag < 0 {
			// Written ahead: on time as far as lag goes; how far ahead is
			// the lead.
			observe(m.scheduleLead.WithLabelValues(group), -lag, traceID)
			lag = 0
		}
		observe(m.scheduleLag.WithLabelValues(group), lag, traceID)
		if assigned {
			observe(m.dispatchLag.WithLabelValues(group), lag, traceID)
		}
	}
}

// Dispatched observes the dispatch lag of a pending snapshot of group that
// was assigned to a client.
func (m *Scheduler) Dispatched(group, trigger string, nominal, at time.Time, traceID string) {
	m.tally.dispatched.Add(1)
	if trigger == "cron" || trigger == "catchup" {
		observe(m.dispatchLag.WithLabelValues(group), max(at.Sub(nominal).Seconds(), 0), traceID)
	}
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

// SetJobInfo sets a job's pink_job_info series to its labels (the
// allowed ones), replacing the series of its former labels.
func (m *Scheduler) SetJobInfo(job, group string, labels map[string]string) {
	if m.opts.NoJobLabel {
		return
	}
	m.jobInfo.set(job, group, labels)
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

// leaderCounts exports the leader-only counters (pink_fires_total,
// pink_fires_skipped_total, pink_runs_lost_total, pink_failovers_total).
// Their values are kept in etcd and set here as they are, not incremented:
// a new leader exports exactly what the old one did.
type leaderCounts struct {
	noJob                          bool
	fires, skipped, lost, failover *prometheus.Desc
	// loaded says the leader has read every count from etcd: until then
	// the counters export nothing, not the zeros of jobs whose counts are
	// yet to come. A counter that a new leader showed at 0, then at its
	// value, would read as a reset and its whole value as an increase.
	loaded bool

	mu     sync.Mutex
	jobs   map[[2]string]*jobCounts // by job and group
	groups map[string]map[string]int64
}

type jobCounts struct {
	fires, skipped map[string]int64
	lost           int64
}

func newLeaderCounts(opts Options) *leaderCounts {
	jg := []string{"job_name", "group"}
	return &leaderCounts{
		noJob: opts.NoJobLabel,
		fires: prometheus.NewDesc("pink_fires_total",
			"Snapshots that entered execution, by trigger (cron, catchup, backfill: written; manual, retry: first dispatched; failover: next attempt created). Leader only; kept in etcd.",
			append(jg, "trigger"), nil),
		skipped: prometheus.NewDesc("pink_fires_skipped_total",
			"Nominal fires that were not run, by reason. Leader only; kept in etcd.", append(jg, "reason"), nil),
		lost: prometheus.NewDesc("pink_runs_lost_total",
			"Runs recorded lost because their worker died while running them. Leader only; kept in etcd.", jg, nil),
		failover: prometheus.NewDesc("pink_failovers_total",
			"Snapshots moved off a client, by reason (client_lost, client_draining, leader_change, client_stalled). Leader only; kept in etcd.",
			[]string{"group", "reason"}, nil),
		jobs:   map[[2]string]*jobCounts{},
		groups: map[string]map[string]int64{},
	}
}

func (c *leaderCounts) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.fires
	ch <- c.skipped
	ch <- c.lost
	ch <- c.failover
}

func (c *leaderCounts) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		return
	}
	jobs := c.jobs
	if c.noJob {
		// One series per group: the sum over its jobs.
		jobs = map[[2]string]*jobCounts{}
		for k, v := range c.jobs {
			key := [2]string{"", k[1]}
			sum := jobs[key]
			if sum == nil {
				sum = &jobCounts{fires: map[string]int64{}, skipped: map[string]int64{}}
				jobs[key] = sum
			}
			for t, n := range v.fires {
				sum.fires[t] += n
			}
			for r, n := range v.skipped {
				sum.skipped[r] += n
			}
			sum.lost += v.lost
		}
	}
	for k, v := range jobs {
		for _, t := range triggers {
			ch <- prometheus.MustNewConstMetric(c.fires, prometheus.CounterValue, float64(v.fires[t]), k[0], k[1], t)
		}
		for _, r := range skipReasons {
			ch <- prometheus.MustNewConstMetric(c.skipped, prometheus.CounterValue, float64(v.skipped[r]), k[0], k[1], r)
		}
		ch <- prometheus.MustNewConstMetric(c.lost, prometheus.CounterValue, float64(v.lost), k[0], k[1])
	}
	for g, f := range c.groups {
		for _, r := range failoverReasons {
			ch <- prometheus.MustNewConstMetric(c.failover, prometheus.CounterValue, float64(f[r]), g, r)
		}
	}
}

func (c *leaderCounts) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs = map[[2]string]*jobCounts{}
	c.groups = map[string]map[string]int64{}
	c.loaded = false
}

func (c *leaderCounts) addJob(job, group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.jobs[[2]string{job, group}] == nil {
		c.jobs[[2]string{job, group}] = &jobCounts{}
	}
}

func (c *leaderCounts) setJob(job, group string, fires, skipped map[string]int64, lost int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs[[2]string{job, group}] = &jobCounts{fires: maps.Clone(fires), skipped: maps.Clone(skipped), lost: lost}
}

func (c *leaderCounts) deleteJob(job, group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.jobs, [2]string{job, group})
}

func (c *leaderCounts) addGroup(group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.groups[group]; !ok {
		c.groups[group] = nil
	}
}

func (c *leaderCounts) setGroup(group string, failovers map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups[group] = maps.Clone(failovers)
}

func (c *leaderCounts) deleteGroup(group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.groups, group)
}
