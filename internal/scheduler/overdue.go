package scheduler

import "time"

// overdueMargin is the slack of PinkJobMissedSchedule's rule, which the
// leader's count of overdue jobs follows: an active job is overdue when it
// has not succeeded for twice its interval plus this, counted from the
// later of its last success and its last change.
const overdueMargin = 5 * time.Minute

// overdueEvery is how often the leader counts the overdue jobs: the rule
// is about minutes, and the count reads every job.
const overdueEvery = 15 * time.Second

// overdueByGroup counts, per group, the active jobs that are overdue at
// now (for fleets without the job label, whose per-job gauges are gone).
// A job whose newest fire failed is not counted: it is failing, not
// overdue, as PinkJobMissedSchedule leaves it to PinkJobFailing.
func (v *view) overdueByGroup(now time.Time) map[string]int {
	out := map[string]int{}
	for name, js := range v.jobs {
		if js.spec.Paused || js.next.IsZero() || js.interval <= 0 {
			continue
		}
		since := js.spec.UpdatedAt
		l := v.last[name]
		if l != nil && l.streak > 0 {
			continue
		}
		if l != nil && l.success.After(since) {
			since = l.success
		}
		if now.Sub(since) > 2*js.interval+overdueMargin {
			out[js.spec.Group]++
		}
	}
	return out
}
