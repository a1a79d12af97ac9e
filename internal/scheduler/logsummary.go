package scheduler

import (
	"time"
)

// summaryInterval is how often a node logs what its leader terms did.
var summaryInterval = time.Minute

// logSummaries logs at INFO, every summaryInterval in which the node led
// and fired something, how many snapshots it wrote and dispatched: the
// per-fire lines are DEBUG. The returned stop logs what is left and waits.
func (s *Scheduler) logSummaries() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(summaryInterval)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-quit:
				s.logSummary(time.Since(last))
				return
			case <-tick.C:
				s.logSummary(time.Since(last))
				last = time.Now()
			}
		}
	}()
	return func() { close(quit); <-done }
}

func (s *Scheduler) logSummary(over time.Duration) {
	c := s.cfg.Metrics.TakeFireCounts()
	if c.Zero() {
		return
	}
	s.log.Info("fires summary", "interval_seconds", over.Round(time.Second).Seconds(), "snapshots_written", c.Written,
		"assigned_at_once", c.AssignedAtOnce, "dispatched_later", c.DispatchedLater)
}
