package telemetry

import "sync/atomic"

// The periodic log summaries: per-run lines are DEBUG (at thousands of runs
// a second one INFO line each would drown the log), so each worker and
// scheduler node says once a minute at INFO what it did, counted since its
// last summary.

// RunCounts are the runs a worker started and finished.
type RunCounts struct {
	Started, Succeeded, Failed, TimedOut, Canceled int64
}

// Zero reports whether nothing happened.
func (c RunCounts) Zero() bool { return c == RunCounts{} }

// runTally counts runs for RunCounts.
type runTally struct {
	started, succeeded, failed, timedOut, canceled atomic.Int64
}

func (t *runTally) finished(status string) {
	switch status {
	case "succeeded":
		t.succeeded.Add(1)
	case "failed":
		t.failed.Add(1)
	case "timed_out":
		t.timedOut.Add(1)
	case "canceled":
		t.canceled.Add(1)
	}
}

func (t *runTally) take() RunCounts {
	return RunCounts{Started: t.started.Swap(0), Succeeded: t.succeeded.Swap(0), Failed: t.failed.Swap(0),
		TimedOut: t.timedOut.Swap(0), Canceled: t.canceled.Swap(0)}
}

// TakeRunCounts returns the runs counted since the last call and starts
// counting again from 0.
func (m *Worker) TakeRunCounts() RunCounts { return m.tally.take() }

// FireCounts are the snapshots a leader wrote and dispatched.
type FireCounts struct {
	// Written are the snapshots fires wrote (a sharded fire writes one per
	// shard), AssignedAtOnce those of them written straight onto a worker,
	// DispatchedLater pending snapshots (fires written pending, manual
	// triggers, retries) assigned to a worker since.
	Written, AssignedAtOnce, DispatchedLater int64
}

// Zero reports whether nothing happened.
func (c FireCounts) Zero() bool { return c == FireCounts{} }

// fireTally counts snapshots for FireCounts.
type fireTally struct {
	written, assigned, dispatched atomic.Int64
}

// TakeFireCounts returns the snapshots counted since the last call and
// starts counting again from 0.
func (m *Scheduler) TakeFireCounts() FireCounts {
	t := &m.tally
	return FireCounts{Written: t.written.Swap(0), AssignedAtOnce: t.assigned.Swap(0), DispatchedLater: t.dispatched.Swap(0)}
}
