package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"go.opentelemetry.io/otel/trace"
)

// dispatchPending assigns pending snapshots of groups that have clients
// running their targets, oldest nominal time first. Retries wait out their
// backoff; a fire of a replace job waits until the run it replaces has
// stopped.
func (t *term) dispatchPending(ctx context.Context) error {
	now := t.cfg.Now()
	t.nextDue = time.Time{}
	for _, g := range t.view.groups {
		if len(g.pending) == 0 || len(g.available()) == 0 {
			continue
		}
		list := dispatchable(g)
		sortLive(list)
		for _, l := range list {
			if l.NotBefore != nil && l.NotBefore.After(now) {
				if t.nextDue.IsZero() || l.NotBefore.Before(t.nextDue) {
					t.nextDue = *l.NotBefore
				}
				continue
			}
			if t.waitsForOverlap(l) {
				continue
			}
			next := l.Snapshot
			// A pending snapshot was never on a client before, except one
			// moved back to pending by a failover (it has a dispatched_at
			// from then). A manual trigger or a retry counts as a fire when
			// it is first dispatched, in the dispatch's transaction.
			var d countsDelta
			if first := l.DispatchedAt == nil; first && (l.Trigger == snapshot.TriggerManual || l.Trigger == snapshot.TriggerRetry) {
				d.fire = l.Trigger
			}
			// A manual trigger's trace starts here, with its pink.fire.
			fireSpan := t.startManualFire(&next)
			moved, to, err := t.moveLive(ctx, g, l, nil, &next, d)
			if fireSpan != nil {
				endSpan(fireSpan, fmt.Sprint(moved), err)
			}
			if err != nil {
				return err
			}
			if moved && to != nil {
				t.manualFireDispatched(&next)
				t.cfg.Metrics.Dispatched(l.Group, string(l.Trigger), l.ScheduledAt, t.cfg.Now(), snapshot.TraceIDOf(next.TraceParent))
				t.log.DebugContext(telemetry.WithTraceParent(ctx, next.TraceParent), "pending snapshot dispatched",
					"snapshot_id", l.ID, "job_name", l.Job, "client", to.ID, "attempt", l.Attempt)
			}
		}
	}
	return nil
}

// dispatchable returns g's pending snapshots whose target a client of g
// runs: the others wait for one that does (their reason is the API's to
// tell, see cluster.NoWorkerFor), and are not even sorted on each step.
func dispatchable(g *groupState) []*snapshot.Live {
	runnable := map[string]bool{}
	list := make([]*snapshot.Live, 0, len(g.pending))
	for _, l := range g.pending {
		ok, seen := runnable[l.Target]
		if !seen {
			ok = len(candidates(g, l.Target)) > 0
			runnable[l.Target] = ok
		}
		if ok {
			list = append(list, l)
		}
	}
	return list
}

// waitsForOverlap reports whether a pending snapshot of a job that does
// not allow overlap (forbid, replace) must wait: another fire of the job is
// on a client (a replaced run stopping, or a backfill's previous fire).
// Shards of one fire run together.
func (t *term) waitsForOverlap(l *snapshot.Live) bool {
	js := t.view.jobs[l.Job]
	if js == nil || js.spec.Concurrency == job.ConcurrencyAllow {
		return false
	}
	base := fireOf(l.ID)
	for _, other := range t.view.byJob[l.Job] {
		if other.State != snapshot.StatePending && fireOf(other.ID) != base {
			return true
		}
	}
	return false
}

// fireOf is the id of the fire a snapshot belongs to: its own, or its
// sharded fire's.
func fireOf(id string) string {
	base, _ := snapshot.ShardBase(id)
	return base
}

// moveLive moves l (pending, or assigned to a dead client) to a live client
// of g, or to pending if there is none, recording done in history if given;
// a nil next ends the snapshot (only done is recorded). d is what the move
// adds to the counters, written in the same transaction. It returns whether
// the move happened and the client the snapshot went to, if any. The local
// view follows the write at once; the mirrors confirm it later.
func (t *term) moveLive(ctx context.Context, g *groupState, l *snapshot.Live, done *snapshot.Run, next *snapshot.Snapshot, d countsDelta) (bool, *cluster.Client, error) {
	for range 4 {
		to, span, ok := t.placeNext(g, l, next)
		if !ok {
			return false, nil, nil // nowhere to go yet
		}
		var res store.MoveResult
		stale, err := t.counts.count(ctx, l.Job, g.name, d, func(ws []store.CountsWrite) (int64, bool, bool, error) {
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			defer cancel()
			var err error
			res, err = t.st.Move(rctx, t.fence, *l, done, to, t.cfg.Now(), ws...)
			if span != nil {
				endSpan(span, res.Outcome.String(), err)
			}
			return res.Revision, err == nil && res.Outcome == store.Moved, res.Outcome == store.MoveCountsChanged, err
		})
		switch {
		case err != nil && stale:
			return false, nil, err
		case err != nil:
			return false, nil, fmt.Errorf("move %s: %w", l.ID, err)
		case stale:
			continue
		}
		switch res.Outcome {
		case store.MoveNotLeader:
			return false, nil, errNotLeader
		case store.MoveClientGone:
			g.dropClient(to.Client.ID)
			continue
		case store.MoveSnapshotChanged:
			// Someone else moved it (a claim, a cancel): the mirrors bring
			// the new state.
			return false, nil, nil
		}
		if res.Live != nil {
			t.view.putLive(res.Live)
		} else if t.view.live[l.ID] == l {
			t.view.dropLive(l)
		}
		if to == nil {
			return true, nil, nil
		}
		next.TraceParent = to.Snapshot.TraceParent
		return true, to.Client, nil
	}
	return false, nil, nil
}

// placeNext is where a move takes next: a client of g chosen by its job's
// strategy, with a pink.dispatch span the caller ends; pending if no client
// is available; nil to end the snapshot when next is nil. It reports false
// when a pending snapshot has nowhere to go yet.
func (t *term) placeNext(g *groupState, l *snapshot.Live, next *snapshot.Snapshot) (*store.Placement, trace.Span, bool) {
	if next == nil {
		return nil, nil, true
	}
	var c *cluster.Client
	if !next.Pinned {
		c = pick(t.view.jobs[next.Job], g, next, t.view.siblingClients(next))
	}
	if c == nil && l.State == snapshot.StatePending {
		return nil, nil, false
	}
	to := &store.Placement{Snapshot: *next, Client: c}
	if c == nil {
		return to, nil, true
	}
	to.Snapshot.Client = c.ID
	dctx, span := t.startChild(telemetry.SpanDispatch, next.TraceParent, dispatchKind, snapAttrs(&to.Snapshot)...)
	to.Snapshot.TraceParent = telemetry.TraceParent(dctx)
	return to, span, true
}
