package scheduler

import (
	"slices"
	"strings"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// stage says where a live snapshot is stored: "" when pending, else its
// client.
func stage(l *snapshot.Live) string {
	if l.State == snapshot.StatePending {
		return ""
	}
	return l.Client
}

func (v *view) onSnapshot(ev store.SnapshotEvent) {
	if ev.Err != nil {
		v.log.Error("cannot decode stored snapshot", "snapshot_id", ev.ID, "err", ev.Err)
		return
	}
	cur := v.live[ev.ID]
	if ev.Snap == nil {
		evStage := ""
		if !ev.Pending {
			evStage = ev.Client
		}
		// A delete removes only the entry it is about: the same id may
		// already live elsewhere (moved), known from a newer write.
		if cur != nil && stage(cur) == evStage && cur.ModRevision <= ev.ModRevision {
			v.dropLive(cur)
		}
		return
	}
	if cur != nil && cur.ModRevision > ev.Snap.ModRevision {
		return // older than what the leader wrote itself
	}
	v.putLive(ev.Snap)
}

// putLive records l as the current state of its snapshot.
func (v *view) putLive(l *snapshot.Live) {
	if old := v.live[l.ID]; old != nil {
		if old.State == snapshot.StateDispatched && l.State == snapshot.StateRunning && old.Client == l.Client {
			if g := v.group(l.Group); g.claims.claimed(l.Client, v.now()) {
				g.sorted = nil
				v.log.Info("client claims again; it takes new work", "group", l.Group, "client", l.Client)
			}
		}
		v.unindex(old)
	}
	v.live[l.ID] = l
	g := v.group(l.Group)
	if l.State == snapshot.StatePending {
		g.pending[l.ID] = l
	} else {
		g.assigned[l.ID] = l
		g.perClient[l.Client]++
		if c, ok := g.clients[l.Client]; !ok || c.Draining {
			v.todo.orphans = true
		}
	}
	jl := v.byJob[l.Job]
	if jl == nil {
		jl = map[string]*snapshot.Live{}
		v.byJob[l.Job] = jl
	}
	jl[l.ID] = l
}

// dropLive forgets a snapshot that finished, was canceled or moved away.
func (v *view) dropLive(l *snapshot.Live) {
	v.unindex(l)
	delete(v.live, l.ID)
	if l.ShardTotal > 1 {
		v.todo.summaries = true
	}
	v.maybeDropGroup(l.Group)
}

func (v *view) unindex(l *snapshot.Live) {
	delete(v.startedAhead, l)
	g := v.group(l.Group)
	if l.State == snapshot.StatePending {
		delete(g.pending, l.ID)
	} else if g.assigned[l.ID] == l {
		delete(g.assigned, l.ID)
		g.perClient[l.Client]--
		if g.perClient[l.Client] <= 0 {
			delete(g.perClient, l.Client)
		}
	}
	if jl := v.byJob[l.Job]; jl != nil {
		delete(jl, l.ID)
		if len(jl) == 0 {
			delete(v.byJob, l.Job)
		}
	}
}

// liveOf returns a job's live snapshots, oldest nominal time first.
func (v *view) liveOf(name string) []*snapshot.Live {
	var out []*snapshot.Live
	for _, l := range v.byJob[name] {
		out = append(out, l)
	}
	sortLive(out)
	return out
}

// shardsLive reports whether a shard of the sharded fire f is still pending
// or assigned.
func (v *view) shardsLive(f *snapshot.ShardedFire) bool {
	prefix := snapshot.ShardPrefix(f.ID)
	for id := range v.byJob[f.Job] {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// siblingClients returns the clients that hold another shard of the same
// fire as l, so a pending shard goes to a client without one if it can.
func (v *view) siblingClients(l *snapshot.Snapshot) map[string]bool {
	if l.ShardTotal <= 1 {
		return nil
	}
	base, _ := snapshot.ShardBase(l.ID)
	prefix := snapshot.ShardPrefix(base)
	used := map[string]bool{}
	for id, other := range v.byJob[l.Job] {
		if id != l.ID && strings.HasPrefix(id, prefix) && other.Client != "" {
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
