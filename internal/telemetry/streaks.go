package telemetry

import "github.com/prometheus/client_golang/prometheus"

// streakGauges are a job's failure streak and its alert threshold:
// PinkJobFailing fires when the one reaches the other.
type streakGauges struct {
	failures, threshold *prometheus.GaugeVec
}

func newStreakGauges() streakGauges {
	jg := []string{"job_name", "group"}
	return streakGauges{
		failures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_consecutive_failures",
			Help: "The job's newest fires that failed in a row (failed, timed out or lost, each fire by its newest attempt; 0 after a success), up to 100. Leader only."}, jg),
		threshold: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pink_job_alert_failures",
			Help: "Failed fires in a row at which PinkJobFailing fires for the job (its label pink_alert_failures, default 3). Leader only."}, jg),
	}
}

// SetJobFailures sets a job's failure streak and its alert threshold.
func (m *Scheduler) SetJobFailures(job, group string, streak, threshold int) {
	if m.opts.NoJobLabel {
		return
	}
	m.streaks.failures.WithLabelValues(job, group).Set(float64(streak))
	m.streaks.threshold.WithLabelValues(job, group).Set(float64(threshold))
}
