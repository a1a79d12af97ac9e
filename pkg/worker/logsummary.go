package worker

import (
	"time"

	"github.com/pink-scheduler/pink/internal/telemetry"
)

// summaryInterval is how often a worker logs the runs it started and
// finished.
var summaryInterval = time.Minute

// logSummaries logs at INFO, every summaryInterval in which the worker ran
// something, how many runs it started and how they ended: the per-run
// lines are DEBUG (failures stay WARN, one each). The returned stop logs
// what is left since the last summary and waits: call it once the runs
// have drained.
func (w *Worker) logSummaries() (stop func()) {
	return telemetry.Periodically(summaryInterval, w.logSummary)
}

func (w *Worker) logSummary(over time.Duration) {
	c := w.metrics.TakeRunCounts()
	if c.Zero() {
		return
	}
	w.log.Info("runs summary", "interval_seconds", over.Round(time.Second).Seconds(), "started", c.Started, "succeeded", c.Succeeded,
		"failed", c.Failed, "timed_out", c.TimedOut, "canceled", c.Canceled)
}
