package scheduler

import (
	"slices"
	"strings"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// groupState is the leader's view of one group.
type groupState struct {
	name     string
	clients  map[string]*cluster.Client
	sorted   []*cluster.Client // live, non-draining clients by id; nil when it must be rebuilt
	pending  map[string]*snapshot.Live
	assigned map[string]*snapshot.Live // by snapshot id
	// perClient counts assigned snapshots of each client.
	perClient map[string]int
	// claims follows how each client claims its work (see stall.go).
	claims clientClaims
}

func newGroupState(name string) *groupState {
	return &groupState{name: name, clients: map[string]*cluster.Client{}, pending: map[string]*snapshot.Live{},
		assigned: map[string]*snapshot.Live{}, perClient: map[string]int{}, claims: clientClaims{}}
}

// available returns the clients that take new work, by id: not draining,
// not stalled.
func (g *groupState) available() []*cluster.Client {
	if g.sorted == nil {
		g.sorted = make([]*cluster.Client, 0, len(g.clients))
		for _, c := range g.clients {
			if !c.Draining && !g.claims.stalled(c.ID) {
				g.sorted = append(g.sorted, c)
			}
		}
		slices.SortFunc(g.sorted, func(a, b *cluster.Client) int { return strings.Compare(a.ID, b.ID) })
	}
	return g.sorted
}

// offered lists the targets g's available clients advertise, sorted.
func (g *groupState) offered() []string {
	var out []string
	for _, c := range g.available() {
		out = append(out, c.Targets...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dropClient forgets a client that the leader found gone.
func (g *groupState) dropClient(id string) {
	delete(g.clients, id)
	delete(g.claims, id)
	g.sorted = nil
}

// group returns the view of a group, creating it (and its series) on first
// mention: by its key, a job, a client or a snapshot.
func (v *view) group(name string) *groupState {
	g := v.groups[name]
	if g == nil {
		g = newGroupState(name)
		v.groups[name] = g
		v.metrics.AddGroup(name)
		v.counts.exportGroup(name)
	}
	return g
}

func (v *view) onClient(ev store.ClientEvent) {
	if ev.Err != nil {
		v.log.Error("cannot decode client registration", "client", ev.ID, "err", ev.Err)
	}
	g := v.group(ev.Group)
	old, had := g.clients[ev.ID]
	switch {
	case ev.Client == nil:
		if had {
			v.log.Info("client left", "group", ev.Group, "client", ev.ID)
		}
		g.dropClient(ev.ID)
		v.todo.orphans, v.todo.marks = true, true
		v.maybeDropGroup(ev.Group)
		return
	case !had:
		v.log.Info("client joined", "group", ev.Group, "client", ev.ID, "capacity", ev.Client.Capacity)
		g.claims.joined(ev.ID, v.now())
	case ev.Client.Draining && !old.Draining:
		v.log.Info("client draining; moving its unstarted work", "group", ev.Group, "client", ev.ID)
		v.todo.orphans = true
	}
	g.clients[ev.ID] = ev.Client
	g.sorted = nil
}

// onGroup follows the group keys: a created group gets its series at 0, a
// deleted one loses them (once no client or snapshot of it is left).
func (v *view) onGroup(ev store.GroupEvent) {
	if ev.Deleted {
		delete(v.groupKeys, ev.Name)
		// As for a deleted job: its counters key is gone, and a count
		// written while the view was behind did not land.
		v.counts.forgetGroup(ev.Name)
		v.maybeDropGroup(ev.Name)
		return
	}
	v.groupKeys[ev.Name] = true
	v.group(ev.Name)
	v.counts.exportGroup(ev.Name)
}

// maybeDropGroup forgets a group that has no key, no job, no client and no
// live snapshot, and drops its series.
func (v *view) maybeDropGroup(name string) {
	g := v.groups[name]
	if !v.ready || g == nil || v.groupKeys[name] || v.groupJobs[name] > 0 ||
		len(g.clients) > 0 || len(g.pending) > 0 || len(g.assigned) > 0 {
		return
	}
	delete(v.groups, name)
	v.counts.forgetGroup(name)
	v.metrics.DeleteGroup(name)
}
