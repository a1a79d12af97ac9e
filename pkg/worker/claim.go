package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Claim batching limits: etcd allows 128 compares per transaction and 1.5
// MiB per request by default; a claim compares on its assignment and, for a
// fire written ahead, on its job's revision. A registration has at most
// claimers claim transactions in flight.
const (
	maxClaimBatch = 60
	maxClaimBytes = 512 << 10
	claimers      = 2
)

// starter is how start hands resources back to the session loop.
type starter struct {
	// claimed ends the batch's claim: the loop may claim more.
	claimed func()
	// freeSlot gives back a snapshot's execution slot once its handler
	// returned (or it was not claimed).
	freeSlot func()
	// forget drops a snapshot once its result is recorded.
	forget func(id string)
	// hold hands runs claimed ahead to the registration's aheadLoop.
	hold func(runCtx context.Context, rs []claimedRun)
}

// drop gives back what a snapshot of a batch that will not run here held.
func (w *Worker) drop(st starter, id string) {
	st.freeSlot()
	st.forget(id)
	w.tasks.Done()
}

// start claims the snapshots of batch, several in one transaction, and runs
// each claimed one in its own goroutine: at once, or, for a fire claimed
// ahead of its nominal time, then (see aheadLoop). Every snapshot of batch
// holds one count of w.tasks and one execution slot.
func (w *Worker) start(runCtx context.Context, log *slog.Logger, me cluster.Client, batch []*snapshot.Live, st starter) {
	var ahead []claimedRun
	for _, chunk := range claimChunks(batch) {
		at := time.Now().UTC()
		revs := w.claim(runCtx, log, me, chunk, at)
		for i, l := range chunk {
			switch {
			case revs[i] == 0:
				w.drop(st, l.ID)
			case l.WrittenAhead && l.ScheduledAt.After(at):
				ahead = append(ahead, claimedRun{l, revs[i], st})
			default:
				w.run(runCtx, log, me, l, revs[i], st)
			}
		}
	}
	st.claimed()
	if len(ahead) > 0 {
		st.hold(runCtx, ahead)
	}
}

// run executes the claimed snapshot l in its own goroutine.
func (w *Worker) run(runCtx context.Context, log *slog.Logger, me cluster.Client, l *snapshot.Live, claimRev int64, st starter) {
	go func() {
		defer w.tasks.Done()
		w.execute(runCtx, log, me, l, claimRev, st.freeSlot)
		st.forget(l.ID)
	}()
}

// claimChunks splits batch into claim transactions within etcd's limits.
func claimChunks(batch []*snapshot.Live) [][]*snapshot.Live {
	var chunks [][]*snapshot.Live
	start, size := 0, 0
	for i, l := range batch {
		n := len(l.Params) + 1024
		if i > start && (i-start == maxClaimBatch || size+n > maxClaimBytes) {
			chunks = append(chunks, batch[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(batch) {
		chunks = append(chunks, batch[start:])
	}
	return chunks
}

// claim marks ls running on this client, all in one transaction when
// nothing changed since they were assigned, else one by one. It returns
// each one's claim revision, 0 for one that was not claimed: it was moved or
// canceled before it started, or etcd could not be reached before ctx ended.
func (w *Worker) claim(ctx context.Context, log *slog.Logger, me cluster.Client, ls []*snapshot.Live, at time.Time) []int64 {
	revs := make([]int64, len(ls))
	if len(ls) > 1 {
		lives := make([]snapshot.Live, len(ls))
		for i, l := range ls {
			lives[i] = *l
		}
		var rev int64
		err := w.retry(ctx, func(rctx context.Context) error {
			var err error
			rev, err = w.st.ClaimMany(rctx, me, lives, at)
			return err
		})
		switch {
		case err == nil:
			for i := range revs {
				revs[i] = rev
			}
			return revs
		case !errors.Is(err, store.ErrConflict):
			log.Warn("could not claim snapshots", "snapshots", len(ls), "err", err)
			return revs
		}
		// One of them changed: find out which, one at a time.
	}
	for i, l := range ls {
		revs[i] = w.claimOne(ctx, log, me, l, at)
	}
	return revs
}

// claimOne claims l at time at; see claim. A claim whose reply was lost
// conflicts with itself when retried, so a conflict re-reads the assignment:
// running here since at, it is ours.
func (w *Worker) claimOne(ctx context.Context, log *slog.Logger, me cluster.Client, l *snapshot.Live, at time.Time) int64 {
	var rev int64
	err := w.retry(ctx, func(rctx context.Context) error {
		var err error
		rev, err = w.st.Claim(rctx, me, *l, at)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		cur, gerr := w.st.GetAssignment(rctx, me.Group, me.ID, l.ID)
		switch {
		case errors.Is(gerr, store.ErrNotFound):
			return err
		case gerr != nil:
			return gerr
		case cur.State == snapshot.StateRunning && cur.Attempt == l.Attempt && cur.StartedAt != nil &&
			(cur.StartedAt.Equal(at) || cur.ClaimedAhead && cur.StartedAt.Equal(cur.ScheduledAt)):
			rev = cur.ModRevision
			return nil
		}
		return err
	})
	lctx := telemetry.WithTraceParent(ctx, l.TraceParent)
	switch {
	case errors.Is(err, store.ErrConflict):
		log.DebugContext(lctx, "assignment changed before it started; not running it", "snapshot_id", l.ID, "job_name", l.Job)
		return 0
	case err != nil:
		log.WarnContext(lctx, "could not claim snapshot", "snapshot_id", l.ID, "job_name", l.Job, "err", err)
		return 0
	}
	return rev
}
