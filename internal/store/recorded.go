package store

import (
	"context"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// RecordedRun is a run that a committed transaction wrote to history, with
// the traceparent of the snapshot it ends ("" when the snapshot had no
// trace, and for a worker's results, which the worker reports with the span
// that ran them).
type RecordedRun struct {
	Run         snapshot.Run
	TraceParent string
}

// RunRecorder is told, once a transaction has committed, about every run it
// wrote to history: what the leader records (lost, canceled, a sharded
// fire's summary), what the API cancels or a job's deletion ends, and what
// a worker completes. A transaction that failed or whose outcome is unknown
// reports nothing, so no run is reported that history does not hold. It is
// called on the writer's goroutine and must not block.
type RunRecorder func(ctx context.Context, runs []RecordedRun)

// WithRunRecorder reports the runs written to history to r: pink exports
// each as a log record, because etcd keeps only a bounded window of them.
func WithRunRecorder(r RunRecorder) Option { return func(s *Store) { s.recorder = r } }

// committed tells the store's recorder about the runs t wrote, after t has
// committed.
func (s *Store) committed(ctx context.Context, t *txn) {
	if s.recorder != nil && len(t.recorded) > 0 {
		s.recorder(ctx, t.recorded)
	}
}
