package worker

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// A fire written ahead is claimed ahead of its nominal time (Config.
// ClaimAhead), so that the claim's round trip through etcd is done when
// the time comes. Then one transaction per batch, which writes a single key
// (the registration's start mark, see store.StartAhead) and compares each
// run's claim and its job's revision, is all that stands between the
// nominal time and the handler: an edit of the job committed before it
// still keeps the fire from running as the old job.

// claimedRun is a snapshot claimed ahead, with its claim's revision.
type claimedRun struct {
	l   *snapshot.Live
	rev int64
}

// startAhead starts the runs claimed ahead at their nominal times, by this
// process's clock: one timer per distinct time, one start transaction per
// claim batch. A run whose start is refused is given back (store.Unclaim):
// its job changed, and the leader decides the fire again. When sessCtx ends
// first (the worker drains, or lost its registration), the runs not
// started yet are given back too, for the leader to move.
func (w *Worker) startAhead(runCtx, sessCtx context.Context, log *slog.Logger, me cluster.Client, ahead []claimedRun, st starter) {
	slices.SortFunc(ahead, func(a, b claimedRun) int { return a.l.ScheduledAt.Compare(b.l.ScheduledAt) })
	for len(ahead) > 0 {
		at := ahead[0].l.ScheduledAt
		n := 1
		for n < len(ahead) && ahead[n].l.ScheduledAt.Equal(at) {
			n++
		}
		due := ahead[:n]
		ahead = ahead[n:]
		if !sleepUntil(sessCtx, at) {
			for _, c := range append(due, ahead...) {
				w.giveBack(runCtx, log, me, c, "the worker is stopping")
				w.drop(st, c.l.ID)
			}
			return
		}
		// The chunks' transactions go to etcd together: one after the
		// other, each would wait behind the results of the runs the one
		// before started.
		var wg sync.WaitGroup
		for chunk := range slices.Chunk(due, maxClaimBatch) {
			wg.Go(func() { w.startChunk(runCtx, log, me, chunk, at, st) })
		}
		wg.Wait()
	}
}

// startChunk moves the start mark to at for chunk, then runs each; on a
// conflict it starts them one by one.
func (w *Worker) startChunk(runCtx context.Context, log *slog.Logger, me cluster.Client, chunk []claimedRun, at time.Time, st starter) {
	err := w.startMark(runCtx, me, chunk, at)
	if err == nil {
		for _, c := range chunk {
			w.run(runCtx, log, me, c.l, c.rev, st)
		}
		return
	}
	if len(chunk) > 1 && errors.Is(err, store.ErrConflict) {
		for _, c := range chunk {
			w.startChunk(runCtx, log, me, []claimedRun{c}, at, st)
		}
		return
	}
	c := chunk[0]
	if errors.Is(err, store.ErrConflict) {
		// Its job changed since the fire was written (or it was taken
		// back): give it back for the leader to decide again.
		w.giveBack(runCtx, log, me, c, "its job changed")
	} else {
		log.WarnContext(telemetry.WithTraceParent(runCtx, c.l.TraceParent), "could not start a fire claimed ahead",
			"snapshot_id", c.l.ID, "job", c.l.Job, "err", err)
	}
	w.drop(st, c.l.ID)
}

// giveBack unclaims c, which this worker will not start: dispatched again,
// the leader moves it or, if its job changed, decides it again. A claim
// that changed meanwhile (the leader took it back) needs nothing.
func (w *Worker) giveBack(ctx context.Context, log *slog.Logger, me cluster.Client, c claimedRun, why string) {
	claimed := *c.l
	claimed.ModRevision = c.rev
	err := w.retry(ctx, func(rctx context.Context) error { return w.st.Unclaim(rctx, me.ID, claimed) })
	log.DebugContext(telemetry.WithTraceParent(ctx, c.l.TraceParent), "fire claimed ahead given back unstarted",
		"snapshot_id", c.l.ID, "job", c.l.Job, "why", why, "err", err)
}

// startMark is store.StartAhead for chunk, retried on transient errors.
func (w *Worker) startMark(ctx context.Context, me cluster.Client, chunk []claimedRun, at time.Time) error {
	ls := make([]snapshot.Live, len(chunk))
	for i, c := range chunk {
		ls[i] = *c.l
		ls[i].ModRevision = c.rev
	}
	return w.retry(ctx, func(rctx context.Context) error { return w.st.StartAhead(rctx, me, ls, at) })
}

// sleepUntil waits until the clock reads at; false if ctx ended first.
func sleepUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
