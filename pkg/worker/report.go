package worker

import (
	"context"
	"errors"
	"sync"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Result batching: results that finish while a result transaction is in
// flight go together in the next one, up to maxReportBatch (a result is up
// to five operations: its history row and index entry, the assignment, the
// active mark or retry, the last-run time; etcd allows 128 a transaction).
// reporters results
// transactions are in flight at most.
const (
	maxReportBatch = 24
	reporters      = 2
)

// report is one result waiting to be recorded.
type report struct {
	me   cluster.Client
	c    store.Completion
	done chan error
}

// record writes a run's result (and its retry, if any) and returns nil, or
// store.ErrConflict if the run was moved or canceled while it ran.
func (w *Worker) record(ctx context.Context, me cluster.Client, c store.Completion) error {
	r := &report{me: me, c: c, done: make(chan error, 1)}
	select {
	case w.reports <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// startReporters runs the goroutines that write results until stop is
// closed; the returned wait blocks until they have returned.
func (w *Worker) startReporters(ctx context.Context, stop <-chan struct{}) (wait func()) {
	var wg sync.WaitGroup
	for range reporters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var batch []*report
				select {
				case r := <-w.reports:
					batch = append(batch, r)
				case <-stop:
					return
				}
			collect:
				for len(batch) < maxReportBatch {
					select {
					case r := <-w.reports:
						batch = append(batch, r)
					default:
						break collect
					}
				}
				w.writeReports(ctx, batch)
			}
		}()
	}
	return wg.Wait
}

// writeReports writes a batch of results in one transaction per client
// registration, or one by one if any of them conflicts.
func (w *Worker) writeReports(ctx context.Context, batch []*report) {
	byClient := map[string][]*report{}
	var order []string
	for _, r := range batch {
		if _, ok := byClient[r.me.ID]; !ok {
			order = append(order, r.me.ID)
		}
		byClient[r.me.ID] = append(byClient[r.me.ID], r)
	}
	for _, id := range order {
		rs := byClient[id]
		if len(rs) > 1 {
			cs := make([]store.Completion, len(rs))
			for i, r := range rs {
				cs[i] = r.c
			}
			err := w.retry(ctx, func(rctx context.Context) error { return w.st.CompleteMany(rctx, id, cs) })
			if !errors.Is(err, store.ErrConflict) {
				for _, r := range rs {
					r.done <- err
				}
				continue
			}
		}
		for _, r := range rs {
			r.done <- w.writeReport(ctx, r)
		}
	}
}

// writeReport writes one result. On a conflict it looks at why: the leader
// may have changed the assignment in place (a cancel request), and then the
// result goes against its current revision; or an earlier write whose reply
// was lost went through, and then there is nothing left to do.
func (w *Worker) writeReport(ctx context.Context, r *report) error {
	run := r.c.Run
	return w.retry(ctx, func(rctx context.Context) error {
		err := w.st.Complete(rctx, r.me.ID, r.c.ClaimRev, run, r.c.Retry)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		cur, gerr := w.st.GetAssignment(rctx, r.me.Group, r.me.ID, run.SnapshotID)
		if errors.Is(gerr, store.ErrNotFound) {
			got, herr := w.st.GetRun(rctx, run.ID)
			switch {
			case errors.Is(herr, store.ErrNotFound):
				return err
			case herr != nil:
				return herr
			case got.Client == run.Client && got.Status == run.Status && got.FinishedAt.Equal(run.FinishedAt):
				return nil
			}
			return err
		}
		if gerr != nil {
			return gerr
		}
		if cur.State != snapshot.StateRunning || cur.Attempt != run.Attempt || cur.ModRevision == r.c.ClaimRev {
			return err
		}
		r.c.ClaimRev = cur.ModRevision
		return w.st.Complete(rctx, r.me.ID, r.c.ClaimRev, run, r.c.Retry)
	})
}
