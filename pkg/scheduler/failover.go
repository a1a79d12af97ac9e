package scheduler

import (
	"context"
	"fmt"
	"slices"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/store"
)

// Failover reasons (label of pink_failovers_total).
const (
	FailoverClientLost = "client_lost"
)

// failover moves the work of clients that are gone (guarantee 3): a
// snapshot that had not started goes to a live client of its group, same
// attempt; one that was running is recorded as lost and, if the job has
// retries left, replaced by its next attempt (trigger failover). A late
// result of the lost attempt is refused by the worker's fenced Complete.
func (t *term) failover(ctx context.Context) error {
	if !t.orphansDirty {
		return nil
	}
	for _, g := range t.groups {
		var orphans []*store.Live
		for _, l := range g.assigned {
			if _, live := g.clients[l.Client]; !live {
				orphans = append(orphans, l)
			}
		}
		slices.SortFunc(orphans, func(a, b *store.Live) int { return a.ScheduledAt.Compare(b.ScheduledAt) })
		for _, l := range orphans {
			if err := t.failoverOne(ctx, g, l); err != nil {
				return err
			}
		}
	}
	t.orphansDirty = false
	return nil
}

func (t *term) failoverOne(ctx context.Context, g *groupState, l *store.Live) error {
	now := t.s.cfg.Now()
	log := t.log.With("snapshot_id", l.ID, "job", l.Job, "group", g.name, "lost_client", l.Client, "attempt", l.Attempt)
	if l.State != snapshot.StateRunning {
		next := l.Snapshot
		moved, to, err := t.moveLive(ctx, g, l, nil, &next)
		if err != nil || !moved {
			return err
		}
		t.s.cfg.Metrics.Failover(g.name, FailoverClientLost)
		log.Warn("client gone before it started the snapshot; moved", "to_client", clientID(to))
		return nil
	}
	done := l.Finish(snapshot.StatusLost, "", fmt.Sprintf("client %s stopped while the run was in progress", l.Client), now)
	next := l.NextAttempt(snapshot.TriggerFailover, now, 0)
	moved, to, err := t.moveLive(ctx, g, l, &done, next)
	if err != nil || !moved {
		return err
	}
	t.s.cfg.Metrics.Failover(g.name, FailoverClientLost)
	if next != nil {
		t.s.cfg.Metrics.Fired(l.Job, g.name, string(snapshot.TriggerFailover), l.ScheduledAt, now, to != nil)
		log.Warn("client gone while running the snapshot; recorded lost, next attempt scheduled", "to_client", clientID(to))
	} else {
		log.Warn("client gone while running the snapshot; recorded lost, no retries left")
	}
	return nil
}

func clientID(c *store.Client) string {
	if c == nil {
		return "(pending)"
	}
	return c.ID
}
