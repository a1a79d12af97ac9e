package worker

import (
	"container/heap"
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
// the time comes. Then one transaction, which writes a single key (the
// registration's start mark, see store.StartAheadFast) is all that stands
// between the nominal time and the handler: an edit of the job committed
// before it still keeps the fire from running as the old job.

// claimedRun is a snapshot claimed ahead, with its claim's revision and
// the starter of the batch it came in (which holds its slot and task).
type claimedRun struct {
	l   *snapshot.Live
	rev int64
	st  starter
}

// aheadLoop holds the runs a registration claimed ahead until their
// nominal times, by this process's clock, and starts them: one timer, and
// at each instant one start transaction for everything due
// (store.StartAheadFast), or, if a job changed or the leader took back one
// of this client's claims since the earliest of them, one per batch that
// compares each run (store.StartAhead). A run whose start is refused is
// given back (store.Unclaim): its job changed, and the leader decides the
// fire again. When sessCtx ends (the worker drains, or lost its
// registration) the runs not started are given back too, for the leader
// to move.
type aheadLoop struct {
	w       *Worker
	log     *slog.Logger
	me      cluster.Client
	in      chan []claimedRun
	stopped chan struct{}
}

// startAheadLoop starts the loop of one registration; it ends with sessCtx.
func (w *Worker) startAheadLoop(runCtx, sessCtx context.Context, log *slog.Logger, me cluster.Client) *aheadLoop {
	a := &aheadLoop{w: w, log: log, me: me, in: make(chan []claimedRun), stopped: make(chan struct{})}
	go a.run(runCtx, sessCtx)
	return a
}

// hold hands runs claimed ahead to the loop.
func (a *aheadLoop) hold(runCtx context.Context, rs []claimedRun) {
	select {
	case a.in <- rs:
	case <-a.stopped:
		a.giveBackAll(runCtx, rs)
	}
}

func (a *aheadLoop) run(runCtx, sessCtx context.Context) {
	defer close(a.stopped)
	var held aheadHeap
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case rs := <-a.in:
			for _, r := range rs {
				heap.Push(&held, r)
			}
		case <-timer.C:
		case <-sessCtx.Done():
			a.giveBackAll(runCtx, held)
			return
		}
		now := time.Now()
		var due []claimedRun
		for len(held) > 0 && !held[0].l.ScheduledAt.After(now) {
			due = append(due, heap.Pop(&held).(claimedRun))
		}
		if len(due) > 0 {
			a.start(runCtx, due)
		}
		timer.Stop()
		if len(held) > 0 {
			timer.Reset(time.Until(held[0].l.ScheduledAt))
		}
	}
}

// start starts due, all at or past their nominal times.
func (a *aheadLoop) start(runCtx context.Context, due []claimedRun) {
	since, through := due[0].rev, due[0].l.ScheduledAt
	for _, r := range due {
		since = min(since, r.rev)
		if r.l.ScheduledAt.After(through) {
			through = r.l.ScheduledAt
		}
	}
	err := a.w.retry(runCtx, func(rctx context.Context) error { return a.w.st.StartAheadFast(rctx, a.me, since, through) })
	switch {
	case err == nil:
		for _, r := range due {
			a.w.run(runCtx, a.log, a.me, r.l, r.rev, r.st)
		}
		return
	case !errors.Is(err, store.ErrConflict):
		a.log.Warn("could not start fires claimed ahead; left claimed", "runs", len(due), "err", err)
		for _, r := range due {
			a.w.drop(r.st, r.l.ID)
		}
		return
	}
	// Something changed: the batches' transactions tell what, all sent
	// together (one after the other, each would wait behind the results
	// of the runs the one before started).
	var wg sync.WaitGroup
	for chunk := range slices.Chunk(due, maxClaimBatch) {
		wg.Go(func() { a.w.startChunk(runCtx, a.log, a.me, chunk) })
	}
	wg.Wait()
}

func (a *aheadLoop) giveBackAll(runCtx context.Context, rs []claimedRun) {
	for _, r := range rs {
		a.w.giveBack(runCtx, a.log, a.me, r, "the worker is stopping")
		a.w.drop(r.st, r.l.ID)
	}
}

// aheadHeap is a min-heap of runs claimed ahead by nominal time.
type aheadHeap []claimedRun

func (h aheadHeap) Len() int           { return len(h) }
func (h aheadHeap) Less(i, j int) bool { return h[i].l.ScheduledAt.Before(h[j].l.ScheduledAt) }
func (h aheadHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *aheadHeap) Push(x any)        { *h = append(*h, x.(claimedRun)) }
func (h *aheadHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = claimedRun{}
	*h = old[:len(old)-1]
	return r
}

// startChunk moves the start mark to the latest nominal time of chunk,
// comparing each run, then runs each; on a conflict it starts them one by
// one, and gives back those that still conflict.
func (w *Worker) startChunk(runCtx context.Context, log *slog.Logger, me cluster.Client, chunk []claimedRun) {
	err := w.startMark(runCtx, me, chunk)
	if err == nil {
		for _, c := range chunk {
			w.run(runCtx, log, me, c.l, c.rev, c.st)
		}
		return
	}
	if len(chunk) > 1 && errors.Is(err, store.ErrConflict) {
		for _, c := range chunk {
			w.startChunk(runCtx, log, me, []claimedRun{c})
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
			"snapshot_id", c.l.ID, "job_name", c.l.Job, "err", err)
	}
	w.drop(c.st, c.l.ID)
}

// giveBack unclaims c, which this worker will not start: dispatched again,
// the leader moves it or, if its job changed, decides it again. A claim
// that changed meanwhile (the leader took it back) needs nothing.
func (w *Worker) giveBack(ctx context.Context, log *slog.Logger, me cluster.Client, c claimedRun, why string) {
	claimed := *c.l
	claimed.ModRevision = c.rev
	err := w.retry(ctx, func(rctx context.Context) error { return w.st.Unclaim(rctx, me.ID, claimed) })
	log.DebugContext(telemetry.WithTraceParent(ctx, c.l.TraceParent), "fire claimed ahead given back unstarted",
		"snapshot_id", c.l.ID, "job_name", c.l.Job, "why", why, "err", err)
}

// startMark is store.StartAhead for chunk, retried on transient errors.
func (w *Worker) startMark(ctx context.Context, me cluster.Client, chunk []claimedRun) error {
	ls := make([]snapshot.Live, len(chunk))
	var through time.Time
	for i, c := range chunk {
		ls[i] = *c.l
		ls[i].ModRevision = c.rev
		if c.l.ScheduledAt.After(through) {
			through = c.l.ScheduledAt
		}
	}
	return w.retry(ctx, func(rctx context.Context) error { return w.st.StartAhead(rctx, me, ls, through) })
}
