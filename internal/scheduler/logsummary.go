package scheduler

import (
	"time"

	"github.com/pink-scheduler/pink/internal/telemetry"
)

// summaryInterval is how often a node logs what its leader terms did.
var summaryInterval = time.Minute

// logSummaries logs at INFO, every summaryInterval in which the node led
// and fired something, how many snapshots it wrote and dispatched: the
// per-fire lines are DEBUG. The returned stop logs what is left and waits.
func (s *Scheduler) logSummaries() (stop func()) {
	return telemetry.Periodically(summaryInterval, s.logSummary)
}

func (s *Scheduler) logSummary(over time.Duration) {
	c := s.cfg.Metrics.TakeFireCounts()
	if c.Zero() {
		return
	}
	s.log.Info("fires summary", "interval_seconds", over.Round(time.Second).Seconds(), "snapshots_written", c.Written,
		"assigned_at_once", c.AssignedAtOnce, "dispatched_later", c.DispatchedLater)
}
