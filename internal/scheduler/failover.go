package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// failover moves the work of clients that are gone or draining (guarantee
// 3): a snapshot that has not started goes to another client of its group,
// same attempt (a pinned broadcast snapshot is canceled instead); one that
// was running on a client that is gone is recorded lost and, with retries
// left, replaced by its next attempt (trigger failover). A late result of
// the lost attempt is refused by the worker's fenced Complete.
//
// A run its client claimed ahead has not started if the client's start
// mark (which stopped moving when its registration went) is before it: it
// moves like unstarted work.
func (t *term) failover(ctx context.Context) error {
	if !t.view.todo.orphans {
		return t.sweepMarks(ctx)
	}
	marks := startMarks{}
	for _, g := range t.view.groups {
		var orphans []*snapshot.Live
		for _, l := range g.assigned {
			c, live := g.clients[l.Client]
			if !live || ((c.Draining || g.claims.stalled(l.Client)) && l.State != snapshot.StateRunning) {
				orphans = append(orphans, l)
			}
		}
		sortLive(orphans)
		for _, l := range orphans {
			started, err := t.startedOnGone(ctx, g, l, marks)
			if err != nil {
				return err
			}
			if err := t.failoverOne(ctx, g, l, started); err != nil {
				return err
			}
		}
	}
	t.view.todo.orphans = false
	return t.sweepMarks(ctx)
}

// startedOnGone tells whether l, assigned to a client that is gone or
// draining, had started: it is running, and not claimed ahead for a time
// its client's start mark had not reached (marks caches the marks read).
func (t *term) startedOnGone(ctx context.Context, g *groupState, l *snapshot.Live, marks startMarks) (bool, error) {
	if l.State != snapshot.StateRunning || !l.ClaimedAhead {
		return l.State == snapshot.StateRunning, nil
	}
	if _, live := g.clients[l.Client]; live {
		return true, nil // draining: it starts it
	}
	mark, err := marks.of(ctx, t, g.name, l.Client)
	if err != nil {
		return false, err
	}
	// No mark: nothing proves it had not started.
	return !mark.ok || !l.ScheduledAt.After(mark.at), nil
}

// sweepMarks deletes the start marks of clients that are gone and have
// nothing assigned any more.
func (t *term) sweepMarks(ctx context.Context) error {
	if !t.view.todo.marks {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	owners, err := t.st.ListStartMarks(rctx)
	if err != nil {
		return err
	}
	var gone []store.StartMarkOwner
	for _, o := range owners {
		g := t.view.groups[o.Group]
		if g == nil || (g.clients[o.Client] == nil && g.perClient[o.Client] == 0) {
			gone = append(gone, o)
		}
	}
	for chunk := range slices.Chunk(gone, 100) {
		switch err := t.st.DeleteStartMarks(rctx, t.fence, chunk); {
		case errors.Is(err, store.ErrConflict):
			// A client registered since the view last heard, or the
			// leadership ended: the next step decides again.
			return nil
		case err != nil:
			return err
		}
	}
	t.view.todo.marks = false
	return nil
}

func (t *term) failoverOne(ctx context.Context, g *groupState, l *snapshot.Live, started bool) error {
	now := t.cfg.Now()
	reason := snapshot.FailoverClientLost
	if c, live := g.clients[l.Client]; live && c.Draining {
		reason = snapshot.FailoverClientDraining
	} else if live {
		reason = snapshot.FailoverClientStalled
	} else if t.view.deadAtElection[l.Client] {
		reason = snapshot.FailoverLeaderChange
	}
	log := t.log.With("snapshot_id", l.ID, "job_name", l.Job, "group", g.name, "from_client", l.Client, "attempt", l.Attempt, "reason", reason)
	lctx := telemetry.WithTraceParent(ctx, l.TraceParent)
	if !started {
		var done *snapshot.Run
		copied := l.Snapshot
		next := &copied
		if l.Pinned {
			run := l.Finish(snapshot.StatusCanceled, "", fmt.Sprintf("client %s left before it started this broadcast run", l.Client), now)
			done, next = &run, nil
		}
		moved, to, err := t.moveLive(ctx, g, l, done, next, countsDelta{failover: reason})
		if err != nil || !moved {
			return err
		}
		// A draining client hands back what it holds (with lookahead, the
		// fires of the next second): routine, counted in
		// pink_failovers_total, not worth a line each.
		level := slog.LevelWarn
		if reason == snapshot.FailoverClientDraining {
			level = slog.LevelDebug
		}
		log.Log(lctx, level, "moved a snapshot its client had not started", "to_client", clientID(to, next == nil))
		return nil
	}
	done := l.Finish(snapshot.StatusLost, "", fmt.Sprintf("client %s stopped while the run was in progress", l.Client), now)
	next := l.NextAttempt(snapshot.TriggerFailover, now, 0)
	var span trace.Span
	if next != nil {
		// The next attempt starts a new trace that links to the lost one.
		var fctx context.Context
		fctx, span = t.startLinked(telemetry.SpanFailover, l.TraceParent, snapAttrs(next)...)
		next.TraceParent = telemetry.TraceParent(fctx)
	}
	d := countsDelta{failover: reason, lost: true}
	if next != nil {
		d.fire = snapshot.TriggerFailover
	}
	moved, to, err := t.moveLive(ctx, g, l, &done, next, d)
	if span != nil {
		endSpan(span, fmt.Sprint(moved), err)
	}
	if err != nil || !moved {
		return err
	}
	if next != nil {
		log.WarnContext(telemetry.WithTraceParent(ctx, next.TraceParent), "client gone while running the snapshot; recorded lost, next attempt scheduled", "to_client", clientID(to, false))
	} else {
		log.WarnContext(lctx, "client gone while running the snapshot; recorded lost, no retries left")
	}
	return nil
}

func clientID(c *cluster.Client, ended bool) string {
	switch {
	case ended:
		return "(canceled)"
	case c == nil:
		return "(pending)"
	}
	return c.ID
}
