package scheduler

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// strategy picks the client that runs a snapshot among candidates (never
// empty, ordered by id). load returns a client's assigned snapshots.
type strategy interface {
	pick(js *jobState, snap *snapshot.Snapshot, candidates []*cluster.Client, load func(*cluster.Client) int) *cluster.Client
}

var strategies = map[job.Strategy]strategy{
	job.StrategyRoundRobin:  roundRobin{},
	job.StrategyRandom:      random{},
	job.StrategyLeastLoaded: leastLoaded{},
	job.StrategyHash:        rendezvous{},
	// broadcast places one snapshot per client (see place); a single pick
	// (a broadcast fire with no client yet) goes round robin.
	job.StrategyBroadcast: roundRobin{},
}

// roundRobin rotates a job's runs over the clients of its group.
type roundRobin struct{}

func (roundRobin) pick(js *jobState, _ *snapshot.Snapshot, cs []*cluster.Client, _ func(*cluster.Client) int) *cluster.Client {
	c := cs[js.rr%uint64(len(cs))]
	js.rr++
	return c
}

// random picks uniformly.
type random struct{}

func (random) pick(_ *jobState, _ *snapshot.Snapshot, cs []*cluster.Client, _ func(*cluster.Client) int) *cluster.Client {
	return cs[rand.IntN(len(cs))]
}

// leastLoaded picks the client with the most free capacity: fewest assigned
// snapshots relative to its advertised capacity; ties go to the lower id.
type leastLoaded struct{}

func (leastLoaded) pick(_ *jobState, _ *snapshot.Snapshot, cs []*cluster.Client, load func(*cluster.Client) int) *cluster.Client {
	best, bestFree := cs[0], -1<<62
	for _, c := range cs {
		// Free slots first; among full clients, the least overloaded.
		free := max(c.Capacity, 1) - load(c)
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

func (rendezvous) pick(_ *jobState, snap *snapshot.Snapshot, cs []*cluster.Client, _ func(*cluster.Client) int) *cluster.Client {
	key := snap.Job
	if snap.ShardTotal > 1 {
		key = fmt.Sprintf("%s#%d", snap.Job, snap.ShardIndex)
	}
	var best *cluster.Client
	var bestW uint64
	for _, c := range cs {
		h := fnv.New64a()
		h.Write([]byte(key))
		h.Write([]byte{0})
		h.Write([]byte(c.ID))
		if w := mix64(h.Sum64()); best == nil || w > bestW {
			best, bestW = c, w
		}
	}
	return best
}

// mix64 is MurmurHash3's 64-bit finalizer. FNV alone is a poor weight for
// rendezvous hashing: client ids that differ only in their last bytes get
// weights whose order is nearly the same for every job, so a joining client
// took half of all jobs instead of its share. Mixing makes the order depend
// on every bit.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// candidates returns the available clients of g that can run target; if
// none advertises it, all of them, so the run fails with a clear error
// instead of waiting for a client that will never come.
func candidates(g *groupState, target string) []*cluster.Client {
	all := g.available()
	var able []*cluster.Client
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

// pick chooses a client for snap by its job's strategy among the
// candidates not in exclude (all candidates if that leaves none), or nil if
// the group has no available client. js may be nil (the job was deleted).
func (t *term) pick(js *jobState, g *groupState, snap *snapshot.Snapshot, exclude map[string]bool) *cluster.Client {
	cs := candidates(g, snap.Target)
	if len(cs) == 0 {
		return nil
	}
	if len(exclude) > 0 {
		rest := slices.DeleteFunc(slices.Clone(cs), func(c *cluster.Client) bool { return exclude[c.ID] })
		if len(rest) > 0 {
			cs = rest
		}
	}
	if js == nil {
		js = &jobState{rr: uint64(rand.IntN(len(cs)))}
	}
	st, ok := strategies[js.spec.Strategy]
	if !ok {
		st = roundRobin{}
	}
	return st.pick(js, snap, cs, func(c *cluster.Client) int { return g.perClient[c.ID] })
}

// place builds the placements of one fire: one snapshot; or one per shard,
// on distinct clients while there are enough; or, for broadcast, one per
// available client, pinned to it.
func (t *term) place(js *jobState, g *groupState, base snapshot.Snapshot) []store.Placement {
	if js.spec.Strategy == job.StrategyBroadcast {
		cs := candidates(g, base.Target)
		if len(cs) == 0 {
			return []store.Placement{{Snapshot: base}}
		}
		out := make([]store.Placement, len(cs))
		for i, s := range snapshot.Shards(base, len(cs)) {
			s.Pinned = true
			out[i] = store.Placement{Snapshot: s, Client: cs[i]}
		}
		return out
	}
	used := map[string]bool{}
	snaps := snapshot.Shards(base, js.spec.Shards)
	out := make([]store.Placement, len(snaps))
	for i := range snaps {
		c := t.pick(js, g, &snaps[i], used)
		if c != nil {
			used[c.ID] = true
		}
		out[i] = store.Placement{Snapshot: snaps[i], Client: c}
	}
	return out
}

// siblingClients returns the clients that hold another shard of the same
// fire as l, so a pending shard goes to a client without one if it can.
func (t *term) siblingClients(l *snapshot.Snapshot) map[string]bool {
	if l.ShardTotal <= 1 {
		return nil
	}
	base, _ := snapshot.ShardBase(l.ID)
	used := map[string]bool{}
	for id, other := range t.byJob[l.Job] {
		if id != l.ID && strings.HasPrefix(id, snapshot.ShardPrefix(base)) && other.Client != "" {
			used[other.Client] = true
		}
	}
	return used
}

func sortLive(ls []*snapshot.Live) {
	slices.SortFunc(ls, func(a, b *snapshot.Live) int {
		if c := a.ScheduledAt.Compare(b.ScheduledAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// dispatchPending assigns pending snapshots of groups that have clients,
// oldest nominal time first. Retries wait out their backoff; a fire of a
// replace job waits until the run it replaces has stopped.
func (t *term) dispatchPending(ctx context.Context) error {
	now := t.s.cfg.Now()
	t.nextDue = time.Time{}
	for _, g := range t.groups {
		if len(g.pending) == 0 || len(g.available()) == 0 {
			continue
		}
		list := make([]*snapshot.Live, 0, len(g.pending))
		for _, l := range g.pending {
			list = append(list, l)
		}
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
				t.s.cfg.Metrics.Dispatched(string(l.Trigger), l.ScheduledAt, t.s.cfg.Now(), snapshot.TraceIDOf(next.TraceParent))
				t.log.InfoContext(telemetry.WithTraceParent(ctx, next.TraceParent), "pending snapshot dispatched",
					"snapshot_id", l.ID, "job", l.Job, "client", to.ID, "attempt", l.Attempt)
			}
		}
	}
	return nil
}

// waitsForOverlap reports whether a pending snapshot of a job that does
// not allow overlap (forbid, replace) must wait: another fire of the job is
// on a client (a replaced run stopping, or a backfill's previous fire).
// Shards of one fire run together.
func (t *term) waitsForOverlap(l *snapshot.Live) bool {
	js := t.jobs[l.Job]
	if js == nil || js.spec.Concurrency == job.ConcurrencyAllow {
		return false
	}
	base := fireOf(l.ID)
	for _, other := range t.byJob[l.Job] {
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
		var to *store.Placement
		var span trace.Span
		if next != nil {
			var c *cluster.Client
			if !next.Pinned {
				c = t.pick(t.jobs[next.Job], g, next, t.siblingClients(next))
			}
			if c == nil && l.State == snapshot.StatePending {
				return false, nil, nil // nowhere to go yet
			}
			to = &store.Placement{Snapshot: *next, Client: c}
			if c != nil {
				to.Snapshot.Client = c.ID
				var dctx context.Context
				dctx, span = t.startChild(telemetry.SpanDispatch, next.TraceParent, snapAttrs(&to.Snapshot)...)
				to.Snapshot.TraceParent = telemetry.TraceParent(dctx)
			}
		}
		counts := t.counted(l.Job, g.name, d)
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := t.st.Move(rctx, t.fence, *l, done, to, t.s.cfg.Now(), counts...)
		cancel()
		if span != nil {
			endSpan(span, res.Outcome.String(), err)
		}
		if err != nil {
			return false, nil, fmt.Errorf("move %s: %w", l.ID, err)
		}
		if res.Outcome == store.Moved && to != nil {
			next.TraceParent = to.Snapshot.TraceParent
		}
		switch res.Outcome {
		case store.MoveNotLeader:
			return false, nil, errNotLeader
		case store.MoveClientGone:
			delete(g.clients, to.Client.ID)
			g.sorted = nil
			continue
		case store.MoveCountsChanged:
			if err := t.refreshCounts(ctx, counts); err != nil {
				return false, nil, err
			}
			continue
		case store.MoveSnapshotChanged:
			// Someone else moved it (a claim, a cancel): the mirrors bring
			// the new state.
			return false, nil, nil
		}
		t.countsWritten(counts, res.Revision)
		if res.Live != nil {
			t.putLive(res.Live)
		} else if t.live[l.ID] == l {
			t.dropLive(l)
		}
		if to != nil {
			return true, to.Client, nil
		}
		return true, nil, nil
	}
	return false, nil, nil
}
