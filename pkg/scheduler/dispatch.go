package scheduler

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/store"
)

// strategy picks the client that runs a snapshot among candidates (never
// empty, ordered by id). load returns a client's assigned snapshots.
type strategy interface {
	pick(js *jobState, snap *snapshot.Snapshot, candidates []*store.Client, load func(*store.Client) int) *store.Client
}

var strategies = map[job.Strategy]strategy{
	job.StrategyRoundRobin:  roundRobin{},
	job.StrategyRandom:      random{},
	job.StrategyLeastLoaded: leastLoaded{},
	job.StrategyHash:        rendezvous{},
	// broadcast places one snapshot per client (see place); a single pick
	// (a pending snapshot of a broadcast fire) goes round robin.
	job.StrategyBroadcast: roundRobin{},
}

// roundRobin rotates a job's runs over the clients of its group.
type roundRobin struct{}

func (roundRobin) pick(js *jobState, _ *snapshot.Snapshot, cs []*store.Client, _ func(*store.Client) int) *store.Client {
	c := cs[js.rr%uint64(len(cs))]
	js.rr++
	return c
}

// random picks uniformly.
type random struct{}

func (random) pick(_ *jobState, _ *snapshot.Snapshot, cs []*store.Client, _ func(*store.Client) int) *store.Client {
	return cs[rand.IntN(len(cs))]
}

// leastLoaded picks the client with the most free capacity: fewest assigned
// snapshots relative to its advertised capacity; ties go to the lower id.
type leastLoaded struct{}

func (leastLoaded) pick(_ *jobState, _ *snapshot.Snapshot, cs []*store.Client, load func(*store.Client) int) *store.Client {
	best, bestFree := cs[0], -1<<62
	for _, c := range cs {
		capacity := max(c.Capacity, 1)
		// Free slots first; among full clients, the least overloaded.
		free := capacity - load(c)
		if free > bestFree {
			best, bestFree = c, free
		}
	}
	return best
}

// rendezvous keeps a job on one client while that client lives (highest
// random weight hashing): when clients come and go, only the jobs of the
// client that left move, and a new client takes only its fair share.
type rendezvous struct{}

func (rendezvous) pick(js *jobState, snap *snapshot.Snapshot, cs []*store.Client, _ func(*store.Client) int) *store.Client {
	key := snap.Job
	if snap.ShardTotal > 1 {
		key = fmt.Sprintf("%s#%d", snap.Job, snap.ShardIndex)
	}
	var best *store.Client
	var bestW uint64
	for _, c := range cs {
		h := fnv.New64a()
		h.Write([]byte(key))
		h.Write([]byte{0})
		h.Write([]byte(c.ID))
		if w := h.Sum64(); best == nil || w > bestW {
			best, bestW = c, w
		}
	}
	return best
}

// candidates returns the live clients of g that can run target; if none
// advertises it, all of them, so the run fails with a clear error instead of
// waiting for a client that will never come.
func candidates(g *groupState, target string) []*store.Client {
	all := g.clientList()
	var able []*store.Client
	for _, c := range all {
		if slices.Contains(c.Targets, target) {
			able = append(able, c)
		}
	}
	if len(able) == 0 {
		return all
	}
	return able
}

// pick chooses a client for snap by its job's strategy, or nil if the group
// has no live client. js may be nil (the job was deleted meanwhile).
func (t *term) pick(js *jobState, g *groupState, snap *snapshot.Snapshot) *store.Client {
	cs := candidates(g, snap.Target)
	if len(cs) == 0 {
		return nil
	}
	if js == nil {
		js = &jobState{rr: uint64(rand.IntN(len(cs)))}
	}
	st, ok := strategies[js.spec.Strategy]
	if !ok {
		st = roundRobin{}
	}
	return st.pick(js, snap, cs, func(c *store.Client) int { return g.perClient[c.ID] })
}

// place builds the placements of one fire.
func (t *term) place(js *jobState, g *groupState, base snapshot.Snapshot) []store.Placement {
	return []store.Placement{{Snapshot: base, Client: t.pick(js, g, &base)}}
}

// dispatchPending assigns pending snapshots of groups that have clients,
// oldest nominal time first.
func (t *term) dispatchPending(ctx context.Context) error {
	now := t.s.cfg.Now()
	t.nextDue = time.Time{}
	for _, g := range t.groups {
		if len(g.pending) == 0 || len(g.clients) == 0 {
			continue
		}
		list := make([]*store.Live, 0, len(g.pending))
		for _, l := range g.pending {
			list = append(list, l)
		}
		slices.SortFunc(list, func(a, b *store.Live) int {
			if c := a.ScheduledAt.Compare(b.ScheduledAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, l := range list {
			if l.NotBefore != nil && l.NotBefore.After(now) {
				// A retry waiting out its backoff.
				if t.nextDue.IsZero() || l.NotBefore.Before(t.nextDue) {
					t.nextDue = *l.NotBefore
				}
				continue
			}
			moved, to, err := t.moveLive(ctx, g, l, nil, &l.Snapshot)
			if err != nil {
				return err
			}
			if moved && to != nil {
				t.s.cfg.Metrics.Dispatched(l.ScheduledAt, t.s.cfg.Now())
				t.log.Info("pending snapshot dispatched", "snapshot_id", l.ID, "job", l.Job, "client", to.ID)
			}
		}
	}
	return nil
}

// moveLive moves l (pending, or assigned to a dead client) to a live client
// of g, or to pending if there is none, recording done in history if given;
// a nil next only records done. It returns whether the move happened and
// the client the snapshot went to, if any. The local view drops l once it moved or changed under us; the
// mirrors bring the new state.
func (t *term) moveLive(ctx context.Context, g *groupState, l *store.Live, done *snapshot.Run, next *snapshot.Snapshot) (bool, *store.Client, error) {
	for range 4 {
		var to *store.Placement
		if next != nil {
			c := t.pick(t.jobs[next.Job], g, next)
			if c == nil && l.State == snapshot.StatePending {
				return false, nil, nil // nowhere to go yet
			}
			to = &store.Placement{Snapshot: *next, Client: c}
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		out, err := t.st.Move(rctx, t.fence, *l, done, to, t.s.cfg.Now())
		cancel()
		if err != nil {
			return false, nil, fmt.Errorf("move %s: %w", l.ID, err)
		}
		switch out {
		case store.MoveNotLeader:
			return false, nil, errNotLeader
		case store.MoveClientGone:
			delete(g.clients, to.Client.ID)
			g.sorted = nil
			continue
		}
		// Moved, or changed by someone else: either way l is no longer
		// what the local view holds.
		if l.State == snapshot.StatePending {
			delete(g.pending, l.ID)
		} else if _, ok := g.assigned[l.ID]; ok {
			delete(g.assigned, l.ID)
			g.perClient[l.Client]--
		}
		if out != store.Moved {
			return false, nil, nil
		}
		if to != nil {
			return true, to.Client, nil
		}
		return true, nil, nil
	}
	return false, nil, nil
}
