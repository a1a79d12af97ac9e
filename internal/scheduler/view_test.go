package scheduler

import (
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// The view is driven here with synthetic events, as the mirrors deliver
// them, and no etcd: its state, what it asks the term to do, and the series
// it keeps are checked after each.

var viewNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func testView(t *testing.T) (*view, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	v := newView(telemetry.NewScheduler(reg, telemetry.Options{}), slog.New(slog.DiscardHandler), func() time.Time { return viewNow }, nil)
	// Its counters export as a leader's do once every mirror has listed.
	v.metrics.CountsLoaded()
	return v, reg
}

func jobEvent(t *testing.T, name, group, schedule string, rev int64, edit ...func(*job.Spec)) store.JobEvent {
	t.Helper()
	spec := job.Spec{Name: name, Group: group, Schedule: schedule, Target: "noop", Revision: rev}
	spec.ApplyDefaults()
	for _, e := range edit {
		e(&spec)
	}
	return store.JobEvent{Name: name, Spec: &spec}
}

// rescheduled names the jobs the view asks to requeue (+name) or to take
// out of the queue (-name), and forgets them.
func rescheduled(v *view) []string {
	var out []string
	for js := range v.takeReschedule() {
		if v.jobs[js.spec.Name] == js {
			out = append(out, "+"+js.spec.Name)
		} else {
			out = append(out, "-"+js.spec.Name)
		}
	}
	slices.Sort(out)
	return out
}

func series(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

func TestViewJobLifecycle(t *testing.T) {
	v, reg := testView(t)
	v.onJob(jobEvent(t, "tick", "g", "* * * * * *", 10))
	if got := rescheduled(v); !slices.Equal(got, []string{"+tick"}) {
		t.Fatalf("after create: reschedule %v", got)
	}
	js := v.jobs["tick"]
	if js == nil || v.groupJobs["g"] != 1 || v.groups["g"] == nil {
		t.Fatalf("after create: job %v, group jobs %v, groups %v", js, v.groupJobs, v.groups)
	}
	if !v.nextFire(js).IsZero() {
		t.Error("a job without a cursor has a next fire")
	}
	// 6 triggers + 5 skip reasons + lost, at 0 from the start.
	if n := series(t, reg, "pink_fires_total") + series(t, reg, "pink_fires_skipped_total") + series(t, reg, "pink_runs_lost_total"); n != 12 {
		t.Errorf("counter series of a new job: %d, want 12", n)
	}

	v.onCursor(store.CursorEvent{Job: "tick", Cursor: viewNow, Counts: counts.Job{Fires: map[string]int64{"cron": 3}}, Revision: 20})
	if got := rescheduled(v); !slices.Equal(got, []string{"+tick"}) {
		t.Fatalf("after cursor: reschedule %v", got)
	}
	if next := v.nextFire(js); !next.Equal(viewNow.Add(time.Second)) {
		t.Errorf("next fire %v, want %v", next, viewNow.Add(time.Second))
	}
	// An older write (its echo arriving late) does not move it back.
	v.onCursor(store.CursorEvent{Job: "tick", Cursor: viewNow.Add(-time.Hour), Revision: 19})
	rescheduled(v)
	if !v.cursors["tick"].at.Equal(viewNow) {
		t.Errorf("cursor moved back to %v", v.cursors["tick"].at)
	}
	// A later write moving it back (a take-back whose reply was lost) is
	// what etcd holds: the view follows.
	back := viewNow.Add(-time.Nanosecond)
	v.onCursor(store.CursorEvent{Job: "tick", Cursor: back, Revision: 21})
	if got := rescheduled(v); !slices.Equal(got, []string{"+tick"}) || !v.cursors["tick"].at.Equal(back) {
		t.Errorf("after a later cursor behind the view: cursor %v, reschedule %v", v.cursors["tick"].at, got)
	}

	// Paused until later: no next fire, counted paused and resumable.
	until := viewNow.Add(time.Hour)
	v.onJob(jobEvent(t, "tick", "g", "* * * * * *", 11, func(s *job.Spec) { s.Paused, s.PausedUntil = true, &until }))
	rescheduled(v)
	if v.jobs["tick"] != js || !v.nextFire(js).IsZero() || v.paused != 1 || v.resumable["tick"] != js {
		t.Errorf("paused: same state %v, next %v, paused %d, resumable %v", v.jobs["tick"] == js, v.nextFire(js), v.paused, v.resumable)
	}
	// A stale event (an older revision) changes nothing.
	v.onJob(jobEvent(t, "tick", "g", "* * * * * *", 9))
	if got := rescheduled(v); len(got) != 0 || !v.jobs["tick"].spec.Paused {
		t.Errorf("stale event rescheduled %v, paused %v", got, v.jobs["tick"].spec.Paused)
	}

	// Moved to another group: the old state goes (out of the queue), a new
	// one comes under the new group.
	v.onJob(jobEvent(t, "tick", "h", "* * * * * *", 12))
	if got := rescheduled(v); !slices.Equal(got, []string{"+tick", "-tick"}) {
		t.Errorf("moved: reschedule %v", got)
	}
	if v.jobs["tick"] == js || v.groupJobs["g"] != 0 || v.groupJobs["h"] != 1 || v.paused != 0 || len(v.resumable) != 0 {
		t.Errorf("moved: new state %v, group jobs %v, paused %d", v.jobs["tick"] != js, v.groupJobs, v.paused)
	}

	// Deleted: gone from the view, the queue and the series; its counts
	// are forgotten, so a job created again under the name starts at 0.
	v.onJob(store.JobEvent{Name: "tick"})
	if got := rescheduled(v); !slices.Equal(got, []string{"-tick"}) {
		t.Errorf("deleted: reschedule %v", got)
	}
	if len(v.jobs) != 0 || len(v.counts.cursor) != 0 {
		t.Errorf("deleted: jobs %v, cursor counts %v", v.jobs, v.counts.cursor)
	}
	if n := series(t, reg, "pink_fires_total"); n != 0 {
		t.Errorf("deleted: %d pink_fires_total series", n)
	}
}

func TestViewRefusesInvalidSchedule(t *testing.T) {
	v, _ := testView(t)
	v.onJob(jobEvent(t, "tick", "g", "* * * * * *", 10))
	rescheduled(v)
	v.onJob(jobEvent(t, "tick", "g", "not a schedule", 11))
	if got := rescheduled(v); !slices.Equal(got, []string{"-tick"}) || len(v.jobs) != 0 {
		t.Errorf("invalid schedule: reschedule %v, jobs %v", got, v.jobs)
	}
}

func live(id, group, client string, rev int64) *snapshot.Live {
	l := &snapshot.Live{Snapshot: snapshot.Snapshot{ID: id, Job: "j", Group: group, ShardTotal: 1, State: snapshot.StatePending}, ModRevision: rev}
	if client != "" {
		l.State, l.Client = snapshot.StateDispatched, client
	}
	return l
}

func TestViewSnapshotIndex(t *testing.T) {
	v, _ := testView(t)
	v.onClient(store.ClientEvent{Group: "g", ID: "c1", Client: &cluster.Client{ID: "c1", Group: "g"}})
	v.todo.orphans = false

	v.onSnapshot(store.SnapshotEvent{ID: "j@1", Pending: true, Snap: live("j@1", "g", "", 5), ModRevision: 5})
	g := v.groups["g"]
	if len(g.pending) != 1 || len(v.byJob["j"]) != 1 || v.live["j@1"] == nil {
		t.Fatalf("pending: %v %v", g.pending, v.byJob)
	}
	// Dispatched to c1 (a newer revision): out of pending, assigned.
	v.onSnapshot(store.SnapshotEvent{ID: "j@1", Group: "g", Client: "c1", Snap: live("j@1", "g", "c1", 6), ModRevision: 6})
	if len(g.pending) != 0 || len(g.assigned) != 1 || g.perClient["c1"] != 1 || v.todo.orphans {
		t.Fatalf("assigned: pending %v assigned %v per client %v orphans %v", g.pending, g.assigned, g.perClient, v.todo.orphans)
	}
	// The pending key's delete (revision 6) removes nothing: the snapshot
	// lives on its client now.
	v.onSnapshot(store.SnapshotEvent{ID: "j@1", Pending: true, ModRevision: 6})
	if v.live["j@1"] == nil {
		t.Fatal("the pending key's delete dropped the assigned snapshot")
	}
	// A late event older than what the view holds is ignored.
	v.onSnapshot(store.SnapshotEvent{ID: "j@1", Pending: true, Snap: live("j@1", "g", "", 5), ModRevision: 5})
	if v.live["j@1"].State != snapshot.StateDispatched {
		t.Fatal("an older event replaced a newer state")
	}
	// An assignment to a client the view does not know is an orphan.
	v.onSnapshot(store.SnapshotEvent{ID: "j@2", Group: "g", Client: "gone", Snap: live("j@2", "g", "gone", 7), ModRevision: 7})
	if !v.todo.orphans {
		t.Error("an assignment to an unknown client is not an orphan")
	}
	// Finished: the assignment's delete drops it.
	v.onSnapshot(store.SnapshotEvent{ID: "j@1", Group: "g", Client: "c1", ModRevision: 8})
	if v.live["j@1"] != nil || g.perClient["c1"] != 0 || len(v.byJob["j"]) != 1 {
		t.Errorf("finished: live %v per client %v by job %v", v.live["j@1"], g.perClient, v.byJob)
	}
	// A shard that finishes asks for the summaries.
	shard := live(snapshot.ShardID("j@3", 0), "g", "c1", 9)
	shard.ShardTotal = 2
	v.putLive(shard)
	v.todo.summaries = false
	v.onSnapshot(store.SnapshotEvent{ID: shard.ID, Group: "g", Client: "c1", ModRevision: 10})
	if !v.todo.summaries {
		t.Error("a finished shard does not ask for a summary")
	}
}

func TestViewGroupsComeAndGo(t *testing.T) {
	v, reg := testView(t)
	v.onGroup(store.GroupEvent{Name: "g"})
	v.onJob(jobEvent(t, "tick", "g", "@hourly", 10))
	v.onClient(store.ClientEvent{Group: "g", ID: "c1", Client: &cluster.Client{ID: "c1", Group: "g"}})
	// Assigned to c2, which died while no leader watched.
	v.onSnapshot(store.SnapshotEvent{ID: "j@1", Group: "g", Client: "c2", Snap: live("j@1", "g", "c2", 5), ModRevision: 5})
	for i := range len(sources) {
		v.markSynced(sources[i].name, len(sources))
	}
	if !v.ready || !v.deadAtElection["c2"] || v.deadAtElection["c1"] {
		t.Fatalf("ready %v, dead at election %v", v.ready, v.deadAtElection)
	}
	if n := series(t, reg, "pink_failovers_total"); n != len(snapshot.FailoverReasons()) {
		t.Errorf("failover series of a group: %d, want one per reason", n)
	}
	// The group loses its key, job, client and snapshot: it goes, with its
	// series.
	v.onGroup(store.GroupEvent{Name: "g", Deleted: true})
	v.onJob(store.JobEvent{Name: "tick"})
	v.onClient(store.ClientEvent{Group: "g", ID: "c1"})
	if v.groups["g"] == nil {
		t.Fatal("the group went while a snapshot of it was live")
	}
	v.onSnapshot(store.SnapshotEvent{ID: "j@1", Group: "g", Client: "c2", ModRevision: 6})
	if v.groups["g"] != nil {
		t.Error("an empty group without a key stays")
	}
	if n := series(t, reg, "pink_failovers_total"); n != 0 {
		t.Errorf("failover series of a dropped group: %d", n)
	}
}

func TestViewCounters(t *testing.T) {
	v, reg := testView(t)
	v.onGroup(store.GroupEvent{Name: "g"})
	v.onJob(jobEvent(t, "tick", "g", "@hourly", 10))
	c := v.counts
	v.setCursor("tick", viewNow, counts.Job{Fires: map[string]int64{"cron": 2}}, 0)
	got := c.forCursor("tick", snapshot.TriggerCatchup, 1, map[snapshot.SkipReason]int{snapshot.SkipMisfireRunOnce: 4})
	want := counts.Job{Fires: map[string]int64{"cron": 2, "catchup": 1}, Skipped: map[string]int64{"misfire_run_once": 4}}
	if !maps.Equal(got.Fires, want.Fires) || !maps.Equal(got.Skipped, want.Skipped) {
		t.Errorf("cursor counts %+v, want %+v", got, want)
	}
	if c.cursor["tick"].Fires["catchup"] != 0 {
		t.Error("forCursor changed the counts before the write")
	}

	ws := c.writes("tick", "g", countsDelta{fire: snapshot.TriggerManual, lost: true, failover: snapshot.FailoverClientLost})
	if len(ws) != 2 || ws[0].JobCounts.Fires["manual"] != 1 || ws[0].JobCounts.Lost != 1 || ws[1].Counts.Failovers["client_lost"] != 1 {
		t.Fatalf("writes %+v", ws)
	}
	c.landed(ws, 20)
	if c.jobs["tick"].rev != 20 || c.groups["g"].rev != 20 {
		t.Errorf("landed: %+v %+v", c.jobs["tick"], c.groups["g"])
	}
	if manual := counterValue(t, reg, "pink_fires_total", "trigger", "manual"); manual != 1 {
		t.Errorf("exported manual fires %v", manual)
	}
	// A write for a job the view does not know is not folded in.
	c.landed(c.writes("unknown", "g", countsDelta{fire: snapshot.TriggerManual}), 21)
	if c.jobs["unknown"] != nil {
		t.Error("counts of an unknown job folded in")
	}
	// A mirrored key older than the leader's own write is ignored.
	c.onEvent(store.CountsEvent{Job: "tick", JobCounts: counts.Job{Lost: 9}, ModRevision: 19})
	if c.jobs["tick"].job.Lost != 1 {
		t.Errorf("an older counters key replaced a newer write: %+v", c.jobs["tick"])
	}
}

// counterValue is the value of the counter name's series whose label has
// value (0 if there is none).
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
