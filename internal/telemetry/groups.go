package telemetry

import "github.com/prometheus/client_golang/prometheus"

// AddGroup creates a group's series at 0.
func (m *Scheduler) AddGroup(group string) {
	m.counts.addGroup(group)
	m.SetGroup(group, GroupState{})
}

// GroupState is what the leader knows of a group at one step.
type GroupState struct {
	Clients, Pending, Inflight int
	// Active and Paused count the group's jobs: they hold in every mode,
	// without the job label too (PinkNoLiveClients reads Active).
	Active, Paused int
	// Failing counts its jobs whose failure streak reached their alert
	// threshold (PinkGroupJobsFailing, for fleets without the job label).
	Failing int
	// Overdue counts its active jobs that have not succeeded for twice
	// their interval plus 5 minutes (PinkGroupJobsOverdue).
	Overdue int
}

// SetGroup sets a group's gauges.
func (m *Scheduler) SetGroup(group string, s GroupState) {
	g := m.groups
	g.clients.WithLabelValues(group).Set(float64(s.Clients))
	g.pending.WithLabelValues(group).Set(float64(s.Pending))
	g.inflight.WithLabelValues(group).Set(float64(s.Inflight))
	g.jobs.WithLabelValues(group, "active").Set(float64(s.Active))
	g.jobs.WithLabelValues(group, "paused").Set(float64(s.Paused))
	g.failing.WithLabelValues(group).Set(float64(s.Failing))
	g.overdue.WithLabelValues(group).Set(float64(s.Overdue))
}

// DeleteGroup drops a group's series.
func (m *Scheduler) DeleteGroup(group string) {
	g := m.groups
	g.clients.DeleteLabelValues(group)
	g.pending.DeleteLabelValues(group)
	g.inflight.DeleteLabelValues(group)
	g.jobs.DeletePartialMatch(prometheus.Labels{"group": group})
	g.failing.DeleteLabelValues(group)
	g.overdue.DeleteLabelValues(group)
	for _, h := range []*prometheus.HistogramVec{m.scheduleLag, m.dispatchLag, m.scheduleLead} {
		h.DeleteLabelValues(group)
	}
	m.counts.deleteGroup(group)
}

// groupGauges are the leader's per-group gauges.
type groupGauges struct {
	clients, pending, inflight, jobs, failing, overdue *prometheus.GaugeVec
}

func newGroupGauges() groupGauges {
	g := []string{"group"}
	return groupGauges{
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_snapshots_pending", Help: "Snapshots waiting for a client, by group. Leader only."}, g),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_snapshots_inflight", Help: "Snapshots assigned to a client (dispatched or running), by group. Leader only."}, g),
		clients: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_clients", Help: "Live clients (workers), by group. Leader only."}, g),
		jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_group_jobs", Help: "Jobs of a group, by state (active, paused); exported with or without the job label. Leader only."},
			[]string{"group", "state"}),
		failing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_group_jobs_failing", Help: "Jobs of a group whose newest fires failed in a row as often as their alert threshold (pink_alert_failures, default 3); with or without --metrics-job-label. Leader only."}, g),
		overdue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_group_jobs_overdue", Help: "Active jobs of a group that have not succeeded for twice their interval plus 5 minutes, since their last success or change (PinkJobMissedSchedule's rule); with or without --metrics-job-label. Leader only."}, g),
	}
}
