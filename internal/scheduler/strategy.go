package scheduler

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
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
	c := cs[js.rotation%uint64(len(cs))]
	js.rotation++
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

// candidates returns the available clients of g that run target (see
// cluster.Client.Runs), by id. None means a snapshot of target waits as
// pending: handing it to a client that would only fail it with "no
// handler" turned a typo in a job into a failed run per fire, while a
// worker that runs the target may be about to register.
func candidates(g *groupState, target string) []*cluster.Client {
	all := g.available()
	for i, c := range all {
		if !c.Runs(target) {
			// Only then allocate: usually every client runs every target.
			able := slices.Clone(all[:i])
			for _, c := range all[i+1:] {
				if c.Runs(target) {
					able = append(able, c)
				}
			}
			return able
		}
	}
	return all
}

// pick chooses a client for snap by its job's strategy among the
// candidates not in exclude (all candidates if that leaves none), or nil if
// no available client of the group runs its target. js may be nil (the job
// was deleted).
func pick(js *jobState, g *groupState, snap *snapshot.Snapshot, exclude map[string]bool) *cluster.Client {
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
		js = &jobState{rotation: uint64(rand.IntN(len(cs)))}
	}
	st, ok := strategies[js.spec.Strategy]
	if !ok {
		st = roundRobin{}
	}
	return st.pick(js, snap, cs, func(c *cluster.Client) int { return g.perClient[c.ID] })
}

// place builds the snapshots of one fire and their placements: one
// snapshot; or one per shard, on distinct clients while there are enough;
// or, for broadcast, one per available client that runs the target,
// pinned to it (one pending snapshot while there is none). A fire of
// several snapshots comes with the record of the sharded fire (created at
// createdAt).
func place(js *jobState, g *groupState, base snapshot.Snapshot, createdAt time.Time) ([]store.Placement, *snapshot.ShardedFire) {
	if js.spec.Strategy == job.StrategyBroadcast {
		cs := candidates(g, base.Target)
		snaps, fire := snapshot.Split(base, len(cs), createdAt)
		if len(cs) == 0 {
			return []store.Placement{{Snapshot: base}}, nil
		}
		out := make([]store.Placement, len(snaps))
		for i, s := range snaps {
			s.Pinned = true
			out[i] = store.Placement{Snapshot: s, Client: cs[i]}
		}
		return out, fire
	}
	used := map[string]bool{}
	snaps, fire := snapshot.Split(base, js.spec.Shards, createdAt)
	out := make([]store.Placement, len(snaps))
	for i := range snaps {
		c := pick(js, g, &snaps[i], used)
		if c != nil {
			used[c.ID] = true
		}
		out[i] = store.Placement{Snapshot: snaps[i], Client: c}
	}
	return out, fire
}
