package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/store"
)

// reportTimeout bounds one attempt to write a claim or a result; failed
// attempts are retried while the worker lives.
const reportTimeout = 5 * time.Second

// execute claims l, runs its handler and reports the result.
func (w *Worker) execute(runCtx context.Context, log *slog.Logger, me store.Client, l *store.Live) {
	log = log.With("snapshot_id", l.ID, "job", l.Job, "attempt", l.Attempt)
	var claimRev int64
	err := w.retry(runCtx, func(ctx context.Context) error {
		var err error
		claimRev, err = w.cfg.Store.Claim(ctx, me, *l, w.cfg.Now())
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		log.Debug("assignment changed before it started; not running it")
		return
	}
	if err != nil {
		log.Warn("could not claim snapshot", "err", err)
		return
	}
	started := w.cfg.Now()
	snap := l.Snapshot
	snap.State, snap.StartedAt = snapshot.StateRunning, &started
	if snap.DispatchedAt != nil {
		w.cfg.Metrics.Started(started.Sub(*snap.DispatchedAt))
	}
	taskCtx, cancelTask := context.WithCancelCause(runCtx)
	w.mu.Lock()
	w.cancels[snap.ID] = cancelTask
	w.mu.Unlock()
	w.setRunning(+1)
	output, status, errText := w.invoke(taskCtx, me, &snap)
	w.setRunning(-1)
	w.mu.Lock()
	delete(w.cancels, snap.ID)
	w.mu.Unlock()
	cancelTask(nil)
	if runCtx.Err() != nil {
		// Canceled by the drain deadline: left running, so that the leader
		// records it lost and retries it once this registration ends.
		log.Warn("run interrupted by shutdown; the leader will retry it")
		return
	}
	finished := w.cfg.Now()
	run := snap.Finish(status, output, errText, finished)
	var next *snapshot.Snapshot
	if status == snapshot.StatusFailed || status == snapshot.StatusTimedOut {
		next = snap.NextAttempt(snapshot.TriggerRetry, finished, rand.Float64())
	}
	err = w.retry(runCtx, func(ctx context.Context) error {
		err := w.cfg.Store.Complete(ctx, me.ID, claimRev, run, next)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		// The leader may have changed the assignment in place (a cancel
		// request): if it is still this attempt, running here, report
		// against its current revision. Anything else means it was moved.
		cur, gerr := w.cfg.Store.GetAssignment(ctx, me.Group, me.ID, snap.ID)
		if gerr != nil || cur.State != snapshot.StateRunning || cur.Attempt != snap.Attempt || cur.ModRevision == claimRev {
			return err
		}
		claimRev = cur.ModRevision
		return w.cfg.Store.Complete(ctx, me.ID, claimRev, run, next)
	})
	w.cfg.Metrics.Finished(snap.Job, snap.Group, string(status), finished.Sub(started))
	switch {
	case errors.Is(err, store.ErrConflict):
		w.cfg.Metrics.Refused(snap.Group)
		log.Warn("result refused: the run was moved or canceled while it ran", "status", status)
	case err != nil:
		log.Error("could not record result", "status", status, "err", err)
	default:
		log.Info("run finished", "status", status, "duration_seconds", run.DurationSeconds, "retry", next != nil)
	}
}

// invoke runs the handler under the snapshot's timeout and turns its outcome
// into a status. A panicking handler fails its run, not the worker.
func (w *Worker) invoke(runCtx context.Context, me store.Client, snap *snapshot.Snapshot) (output string, status snapshot.Status, errText string) {
	h, ok := w.handler(snap.Target)
	if !ok {
		return "", snapshot.StatusFailed, fmt.Sprintf("no handler for target %q on client %s (it runs: %s)",
			snap.Target, me.ID, strings.Join(w.targets(), ", "))
	}
	timeout := snap.Timeout
	if timeout <= 0 {
		timeout = time.Hour
	}
	ctx, cancel := context.WithTimeout(runCtx, timeout)
	defer cancel()
	run := Run{
		SnapshotID: snap.ID, Job: snap.Job, Group: snap.Group, Target: snap.Target, Attempt: snap.Attempt,
		Trigger: string(snap.Trigger), ScheduledAt: snap.ScheduledAt, ShardIndex: snap.ShardIndex,
		ShardTotal: snap.ShardTotal, Params: snap.Params, Client: me.ID,
	}
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack())
			}
		}()
		output, err = h(ctx, run)
	}()
	switch {
	case err == nil:
		return output, snapshot.StatusSucceeded, ""
	case errors.Is(context.Cause(runCtx), errReplaced):
		return output, snapshot.StatusCanceled, errReplaced.Error()
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return output, snapshot.StatusTimedOut, fmt.Sprintf("timed out after %s: %v", timeout, err)
	default:
		return output, snapshot.StatusFailed, err.Error()
	}
}

func (w *Worker) setRunning(delta int) {
	w.mu.Lock()
	w.running += delta
	n := w.running
	w.mu.Unlock()
	w.cfg.Metrics.SetRunning(w.cfg.Group, n)
}

// retry calls f until it succeeds, returns ErrConflict, or ctx ends.
func (w *Worker) retry(ctx context.Context, f func(context.Context) error) error {
	delay := 100 * time.Millisecond
	for {
		rctx, cancel := context.WithTimeout(ctx, reportTimeout)
		err := f(rctx)
		cancel()
		if err == nil || errors.Is(err, store.ErrConflict) || ctx.Err() != nil {
			return err
		}
		w.log.Warn("etcd request failed; retrying", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
