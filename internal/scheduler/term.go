package scheduler

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// errNotLeader ends a term: a fenced write found that this node no longer
// holds the election.
var errNotLeader = errors.New("fenced write refused: no longer the leader")

// requestTimeout bounds each etcd request of the leader, so one stuck
// request cannot stall the fire loop forever.
const requestTimeout = 5 * time.Second

// jobState is the leader's view of one job.
type jobState struct {
	spec  job.Spec
	sched *job.Schedule
	next  time.Time // next nominal fire; zero when not queued
	idx   int       // position in the fire queue, -1 if not queued
	rr    uint64    // round-robin position
	// staleRev is set to the revision a fenced write found outdated; the
	// job waits for its next watch event before it fires again.
	staleRev int64
	// interval is the nominal time between fires, for "should have run"
	// alerts.
	interval time.Duration
}

// groupState is the leader's view of one group.
type groupState struct {
	name     string
	clients  map[string]*cluster.Client
	sorted   []*cluster.Client // live, non-draining clients by id; nil when it must be rebuilt
	pending  map[string]*snapshot.Live
	assigned map[string]*snapshot.Live // by snapshot id
	// perClient counts assigned snapshots of each client.
	perClient map[string]int
}

func newGroupState(name string) *groupState {
	return &groupState{name: name, clients: map[string]*cluster.Client{}, pending: map[string]*snapshot.Live{},
		assigned: map[string]*snapshot.Live{}, perClient: map[string]int{}}
}

// available returns the clients that take new work, by id.
func (g *groupState) available() []*cluster.Client {
	if g.sorted == nil {
		g.sorted = make([]*cluster.Client, 0, len(g.clients))
		for _, c := range g.clients {
			if !c.Draining {
				g.sorted = append(g.sorted, c)
			}
		}
		slices.SortFunc(g.sorted, func(a, b *cluster.Client) int { return strings.Compare(a.ID, b.ID) })
	}
	return g.sorted
}

// batch is one delivery from a mirror.
type batch struct {
	source string
	synced bool
	jobs   []store.JobEvent
	curs   []store.CursorEvent
	cls    []store.ClientEvent
	snaps  []store.SnapshotEvent
	fires  []store.FireEvent
	last   []store.LastEvent
	bfs    []store.BackfillEvent
	cnts   []store.CountsEvent
	grps   []store.GroupEvent
}

// term is one period of leadership. It owns all leader state; a single
// goroutine (run) reads the mirrors' deliveries and acts on them, so no
// state is shared and no lock is needed.
type term struct {
	s       *Scheduler
	st      *store.Store
	fence   store.Fence
	log     *slog.Logger
	jobs    map[string]*jobState
	cursors map[string]time.Time
	groups  map[string]*groupState
	queue   fireQueue
	in      chan batch
	synced  map[string]bool
	ready   bool

	// live holds every pending or assigned snapshot by id; byJob indexes
	// it by job (overlap policies). Both are fed by the mirrors and by the
	// leader's own writes, so a fire sees the fires it just wrote.
	live  map[string]*snapshot.Live
	byJob map[string]map[string]*snapshot.Live
	// fires are the sharded fires that wait for their summary run.
	fires map[string]*snapshot.ShardedFire
	// last holds each job's last success and failure times.
	last map[string]*store.JobLast
	// backfills are the backfill requests not yet turned into snapshots.
	backfills map[string]*snapshot.Backfill
	// paused counts the paused jobs; resumable holds those with a
	// paused_until.
	paused    int
	resumable map[string]*jobState
	// intervals caches Schedule.Interval by schedule and zone: many jobs
	// share a schedule, and a sparse one costs many Next calls.
	intervals map[string]time.Duration

	// retryAt is when to retry after an etcd error; zero if none.
	retryAt time.Time
	// nextDue is the earliest time a pending retry may be dispatched.
	nextDue time.Time
	// nextResume is the earliest paused_until of a paused job.
	nextResume time.Time
	// orphansDirty says an assignment may belong to a client that is gone
	// or draining.
	orphansDirty bool
	// summariesDirty says a sharded fire may have finished.
	summariesDirty bool

	// curCounts are the counts that ride in each job's cursor; jobCounts
	// and groupCounts the counters keys (see counters.go).
	curCounts   map[string]counts.Job
	jobCounts   map[string]*countsEntry
	groupCounts map[string]*countsEntry
	// groupKeys are the groups that exist (have a key); groupJobs counts
	// the known jobs of each group.
	groupKeys map[string]bool
	groupJobs map[string]int
	// deadAtElection are the clients that held assignments when this term
	// loaded its state but were gone: they died while no leader watched,
	// and moving their work counts as failover reason leader_change.
	deadAtElection map[string]bool
	// manualFires holds the traceparent of the pink.fire span of a manual
	// trigger's fire, by fire id, until all its shards are dispatched.
	manualFires map[string]*manualFire
}

var mirrorSources = []string{"jobs", "cursors", "clients", "pending", "assigned", "fires", "last", "backfills", "counts", "groups"}

func newTerm(s *Scheduler, fence store.Fence) *term {
	return &term{s: s, st: s.cfg.Store, fence: fence, log: s.log.With("term", fence.Rev),
		jobs: map[string]*jobState{}, cursors: map[string]time.Time{}, groups: map[string]*groupState{},
		in: make(chan batch, 64), synced: map[string]bool{},
		live: map[string]*snapshot.Live{}, byJob: map[string]map[string]*snapshot.Live{}, fires: map[string]*snapshot.ShardedFire{},
		last: map[string]*store.JobLast{}, backfills: map[string]*snapshot.Backfill{}, intervals: map[string]time.Duration{}, resumable: map[string]*jobState{},
		curCounts: map[string]counts.Job{}, jobCounts: map[string]*countsEntry{}, groupCounts: map[string]*countsEntry{},
		groupKeys: map[string]bool{}, groupJobs: map[string]int{}, deadAtElection: map[string]bool{}, manualFires: map[string]*manualFire{}}
}

func (t *term) group(name string) *groupState {
	g := t.groups[name]
	if g == nil {
		g = newGroupState(name)
		t.groups[name] = g
		t.s.cfg.Metrics.AddGroup(name)
		t.exportGroupCounts(name)
	}
	return g
}

// run leads until ctx ends or a fenced write shows leadership is gone.
func (t *term) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	t.startMirrors(ctx, &wg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t.retention(ctx)
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b := <-t.in:
			t.apply(b)
			// Take what else has arrived before acting, so a burst of
			// events costs one pass.
			for drained := false; !drained; {
				select {
				case b := <-t.in:
					t.apply(b)
				default:
					drained = true
				}
			}
		case <-timer.C:
		}
		if !t.ready {
			continue
		}
		if err := t.step(ctx); err != nil {
			return err
		}
		timer.Reset(t.untilNextWake())
	}
}

func (t *term) startMirrors(ctx context.Context, wg *sync.WaitGroup) {
	send := func(b batch) {
		select {
		case t.in <- b:
		case <-ctx.Done():
		}
	}
	run := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && ctx.Err() == nil {
				t.log.Error("mirror stopped", "mirror", name, "err", err)
			}
		}()
	}
	run("jobs", func() error {
		return t.st.MirrorJobs(ctx, func(evs []store.JobEvent, synced bool) { send(batch{source: "jobs", synced: synced, jobs: evs}) })
	})
	run("cursors", func() error {
		return t.st.MirrorCursors(ctx, func(evs []store.CursorEvent, synced bool) {
			send(batch{source: "cursors", synced: synced, curs: evs})
		})
	})
	run("clients", func() error {
		return t.st.MirrorClients(ctx, func(evs []store.ClientEvent, synced bool) {
			send(batch{source: "clients", synced: synced, cls: evs})
		})
	})
	run("pending", func() error {
		return t.st.MirrorPending(ctx, func(evs []store.SnapshotEvent, synced bool) {
			send(batch{source: "pending", synced: synced, snaps: evs})
		})
	})
	run("assigned", func() error {
		return t.st.MirrorAssigned(ctx, func(evs []store.SnapshotEvent, synced bool) {
			send(batch{source: "assigned", synced: synced, snaps: evs})
		})
	})
	run("fires", func() error {
		return t.st.MirrorFires(ctx, func(evs []store.FireEvent, synced bool) {
			send(batch{source: "fires", synced: synced, fires: evs})
		})
	})
	run("backfills", func() error {
		return t.st.MirrorBackfills(ctx, func(evs []store.BackfillEvent, synced bool) {
			send(batch{source: "backfills", synced: synced, bfs: evs})
		})
	})
	run("counts", func() error {
		return t.st.MirrorCounts(ctx, func(evs []store.CountsEvent, synced bool) {
			send(batch{source: "counts", synced: synced, cnts: evs})
		})
	})
	run("groups", func() error {
		return t.st.MirrorGroups(ctx, func(evs []store.GroupEvent, synced bool) {
			send(batch{source: "groups", synced: synced, grps: evs})
		})
	})
	run("last", func() error {
		return t.st.MirrorJobLast(ctx, func(evs []store.LastEvent, synced bool) {
			send(batch{source: "last", synced: synced, last: evs})
		})
	})
}

// apply folds one mirror delivery into the leader's state.
func (t *term) apply(b batch) {
	for _, ev := range b.jobs {
		t.onJob(ev)
	}
	for _, ev := range b.curs {
		t.onCursor(ev)
	}
	for _, ev := range b.cls {
		t.onClient(ev)
	}
	for _, ev := range b.snaps {
		t.onSnapshot(ev)
	}
	for _, ev := range b.fires {
		t.onFire(ev)
	}
	for _, ev := range b.last {
		t.onLast(ev)
	}
	for _, ev := range b.cnts {
		t.onCounts(ev)
	}
	for _, ev := range b.grps {
		t.onGroup(ev)
	}
	for _, ev := range b.bfs {
		switch {
		case ev.Err != nil:
			t.log.Error("cannot decode backfill request", "backfill_id", ev.ID, "err", ev.Err)
		case ev.Backfill == nil:
			delete(t.backfills, ev.ID)
		default:
			t.backfills[ev.ID] = ev.Backfill
		}
	}
	if b.synced && !t.ready {
		t.synced[b.source] = true
		if len(t.synced) == len(mirrorSources) {
			t.ready = true
			t.orphansDirty = true
			t.summariesDirty = true
			for _, g := range t.groups {
				for _, l := range g.assigned {
					if _, live := g.clients[l.Client]; !live {
						t.deadAtElection[l.Client] = true
					}
				}
			}
			for name := range t.groups {
				t.maybeDropGroup(name)
			}
			t.log.Info("leader state loaded", "jobs", len(t.jobs), "groups", len(t.groups), "live_snapshots", len(t.live))
		}
	}
}

func (t *term) onJob(ev store.JobEvent) {
	if ev.Err != nil {
		t.log.Error("cannot decode stored job; ignoring it", "job", ev.Name, "err", ev.Err)
	}
	js := t.jobs[ev.Name]
	if ev.Spec == nil {
		if js != nil {
			t.unindexJob(js)
			t.queue.remove(js)
			t.forgetJob(js)
		}
		// Its counters went with it in etcd. A count this leader wrote
		// while its view was behind the delete did not land (the write
		// holds only while the job exists): forget it too, so that a job
		// created again under the name starts at 0.
		if ev.Err == nil {
			delete(t.jobCounts, ev.Name)
			delete(t.curCounts, ev.Name)
		}
		return
	}
	if js != nil && js.spec.Revision >= ev.Spec.Revision {
		return
	}
	if js != nil {
		t.unindexJob(js)
	}
	sched, err := ev.Spec.ParsedSchedule()
	if err != nil {
		t.log.Error("stored job has an invalid schedule; not scheduling it", "job", ev.Name, "err", err)
		if js != nil {
			t.queue.remove(js)
			t.forgetJob(js)
		}
		return
	}
	if js != nil && js.spec.Group != ev.Spec.Group {
		t.forgetJob(js)
		js = nil
	}
	if js == nil {
		js = newJobState(ev.Name)
		t.jobs[ev.Name] = js
		t.groupJobs[ev.Spec.Group]++
		t.s.cfg.Metrics.AddJob(ev.Spec.Name, ev.Spec.Group)
		t.group(ev.Spec.Group)
	}
	js.spec, js.sched = *ev.Spec, sched
	t.indexJob(js)
	js.interval = t.interval(sched)
	t.reschedule(js)
	t.exportLast(ev.Name)
	t.exportCounts(ev.Name)
	t.s.cfg.Metrics.SetJobUpdated(js.spec.Name, js.spec.Group, js.spec.UpdatedAt)
}

// forgetJob drops a job that was deleted, moved to another group (it comes
// back under the new one) or can no longer be scheduled, and its series.
func (t *term) forgetJob(js *jobState) {
	delete(t.jobs, js.spec.Name)
	t.s.cfg.Metrics.DeleteJob(js.spec.Name, js.spec.Group)
	if t.groupJobs[js.spec.Group]--; t.groupJobs[js.spec.Group] <= 0 {
		delete(t.groupJobs, js.spec.Group)
		t.maybeDropGroup(js.spec.Group)
	}
}

// indexJob counts js among the paused jobs, and among those that resume by
// themselves, so that no step has to scan every job; unindexJob undoes it.
func (t *term) indexJob(js *jobState) {
	if js.spec.Paused {
		t.paused++
		if js.spec.PausedUntil != nil {
			t.resumable[js.spec.Name] = js
		}
	}
}

func (t *term) unindexJob(js *jobState) {
	if js.spec.Paused {
		t.paused--
	}
	delete(t.resumable, js.spec.Name)
}

// interval is sched's nominal interval, computed once per term for each
// schedule and zone.
func (t *term) interval(sched *job.Schedule) time.Duration {
	key := sched.String() + " " + sched.Location().String()
	d, ok := t.intervals[key]
	if !ok {
		d = sched.Interval(t.s.cfg.Now())
		t.intervals[key] = d
	}
	return d
}

func (t *term) onCursor(ev store.CursorEvent) {
	if ev.Err != nil {
		t.log.Error("cannot decode stored cursor", "job", ev.Job, "err", ev.Err)
		return
	}
	if ev.Deleted {
		delete(t.cursors, ev.Job)
		delete(t.curCounts, ev.Job)
	} else if cur, ok := t.cursors[ev.Job]; !ok || ev.Cursor.After(cur) {
		// A cursor write at the time the view holds carries the counts it
		// holds (only the fire that moved the cursor there wrote them):
		// mostly the echo of this leader's own fire, not worth exporting
		// again.
		t.setCursor(ev.Job, ev.Cursor, ev.Counts)
	}
	if js := t.jobs[ev.Job]; js != nil {
		t.reschedule(js)
	}
}

// reschedule queues js at the first fire after its cursor, or takes it out
// of the queue while it is paused, stale or its cursor is unknown.
func (t *term) reschedule(js *jobState) {
	cur, ok := t.cursors[js.spec.Name]
	js.next = time.Time{}
	if !js.spec.Paused && ok && js.staleRev != js.spec.Revision {
		js.next = js.sched.Next(cur)
	}
	if js.next.IsZero() {
		t.queue.remove(js)
	} else {
		t.queue.set(js)
	}
	t.s.cfg.Metrics.SetJob(js.spec.Name, js.spec.Group, js.next, js.interval)
}

func (t *term) onClient(ev store.ClientEvent) {
	if ev.Err != nil {
		t.log.Error("cannot decode client registration", "client", ev.ID, "err", ev.Err)
	}
	g := t.group(ev.Group)
	old, had := g.clients[ev.ID]
	switch {
	case ev.Client == nil:
		if had {
			t.log.Info("client left", "group", ev.Group, "client", ev.ID)
		}
		delete(g.clients, ev.ID)
		t.orphansDirty = true
		g.sorted = nil
		t.maybeDropGroup(ev.Group)
		return
	case !had:
		t.log.Info("client joined", "group", ev.Group, "client", ev.ID, "capacity", ev.Client.Capacity)
		g.clients[ev.ID] = ev.Client
	default:
		if ev.Client.Draining && !old.Draining {
			t.log.Info("client draining; moving its unstarted work", "group", ev.Group, "client", ev.ID)
			t.orphansDirty = true
		}
		g.clients[ev.ID] = ev.Client
	}
	g.sorted = nil
}

// stage says where a live snapshot is stored: "" when pending, else its
// client.
func stage(l *snapshot.Live) string {
	if l.State == snapshot.StatePending {
		return ""
	}
	return l.Client
}

func (t *term) onSnapshot(ev store.SnapshotEvent) {
	if ev.Err != nil {
		t.log.Error("cannot decode stored snapshot", "snapshot_id", ev.ID, "err", ev.Err)
		return
	}
	cur := t.live[ev.ID]
	if ev.Snap == nil {
		evStage := ""
		if !ev.Pending {
			evStage = ev.Client
		}
		// A delete removes only the entry it is about: the same id may
		// already live elsewhere (moved), known from a newer write.
		if cur != nil && stage(cur) == evStage && cur.ModRevision <= ev.ModRevision {
			t.dropLive(cur)
		}
		return
	}
	if cur != nil && cur.ModRevision > ev.Snap.ModRevision {
		return // older than what the leader wrote itself
	}
	t.putLive(ev.Snap)
}

// putLive records l as the current state of its snapshot.
func (t *term) putLive(l *snapshot.Live) {
	if old := t.live[l.ID]; old != nil {
		t.unindex(old)
	}
	t.live[l.ID] = l
	g := t.group(l.Group)
	if l.State == snapshot.StatePending {
		g.pending[l.ID] = l
	} else {
		g.assigned[l.ID] = l
		g.perClient[l.Client]++
		if c, ok := g.clients[l.Client]; !ok || c.Draining {
			t.orphansDirty = true
		}
	}
	jl := t.byJob[l.Job]
	if jl == nil {
		jl = map[string]*snapshot.Live{}
		t.byJob[l.Job] = jl
	}
	jl[l.ID] = l
}

// dropLive forgets a snapshot that finished, was canceled or moved away.
func (t *term) dropLive(l *snapshot.Live) {
	t.unindex(l)
	delete(t.live, l.ID)
	if l.ShardTotal > 1 {
		t.summariesDirty = true
	}
	t.maybeDropGroup(l.Group)
}

func (t *term) unindex(l *snapshot.Live) {
	g := t.group(l.Group)
	if l.State == snapshot.StatePending {
		delete(g.pending, l.ID)
	} else if g.assigned[l.ID] == l {
		delete(g.assigned, l.ID)
		g.perClient[l.Client]--
		if g.perClient[l.Client] <= 0 {
			delete(g.perClient, l.Client)
		}
	}
	if jl := t.byJob[l.Job]; jl != nil {
		delete(jl, l.ID)
		if len(jl) == 0 {
			delete(t.byJob, l.Job)
		}
	}
}

func (t *term) onLast(ev store.LastEvent) {
	if ev.Err != nil {
		t.log.Error("cannot decode a job's last run time", "job", ev.Job, "err", ev.Err)
		return
	}
	l := t.last[ev.Job]
	if l == nil {
		l = &store.JobLast{Job: ev.Job}
		t.last[ev.Job] = l
	}
	var at time.Time
	if !ev.Deleted {
		at = ev.At
	}
	switch ev.Outcome {
	case "success":
		l.Success = at
	case "failure":
		l.Failure = at
	}
	if l.Success.IsZero() && l.Failure.IsZero() {
		delete(t.last, ev.Job)
	}
	t.exportLast(ev.Job)
}

// exportLast sets a known job's last-success and last-failure gauges.
func (t *term) exportLast(name string) {
	js := t.jobs[name]
	if js == nil {
		return
	}
	var l store.JobLast
	if p := t.last[name]; p != nil {
		l = *p
	}
	t.s.cfg.Metrics.SetJobLast(name, js.spec.Group, l.Success, l.Failure)
}

func (t *term) onFire(ev store.FireEvent) {
	if ev.Err != nil {
		t.log.Error("cannot decode sharded fire record", "snapshot_id", ev.ID, "err", ev.Err)
		return
	}
	if ev.Fire == nil {
		delete(t.fires, ev.ID)
		return
	}
	t.fires[ev.ID] = ev.Fire
	t.summariesDirty = true
}

// untilNextWake is how long the loop may sleep: until the next fire, a
// pending retry, or a periodic check.
func (t *term) untilNextWake() time.Duration {
	now := t.s.cfg.Now()
	wake := now.Add(time.Minute)
	if js := t.queue.peek(); js != nil && js.next.Before(wake) {
		wake = js.next
	}
	for _, at := range []time.Time{t.retryAt, t.nextDue, t.nextResume} {
		if !at.IsZero() && at.Before(wake) {
			wake = at
		}
	}
	return max(wake.Sub(now), 0)
}

// step does everything that is due: fires, failovers, dispatch of pending
// snapshots, summaries of sharded fires, and gauges. Transient etcd errors
// are retried shortly; only loss of leadership or ctx ends the term.
func (t *term) step(ctx context.Context) error {
	t.retryAt = time.Time{}
	for _, f := range []func(context.Context) error{t.autoResume, t.fireDue, t.failover, t.runBackfills, t.dispatchPending, t.summarize} {
		err := f(ctx)
		if errors.Is(err, errNotLeader) || ctx.Err() != nil {
			if err == nil {
				err = ctx.Err()
			}
			return err
		}
		if err != nil {
			t.log.Warn("etcd request failed; retrying", "err", err)
			t.retryAt = t.s.cfg.Now().Add(250 * time.Millisecond)
		}
	}
	t.updateGauges()
	return nil
}

// autoResume resumes paused jobs whose paused_until has passed.
func (t *term) autoResume(ctx context.Context) error {
	now := t.s.cfg.Now()
	t.nextResume = time.Time{}
	for _, js := range t.resumable {
		until := js.spec.PausedUntil
		if !js.spec.Paused || until == nil || js.staleRev == js.spec.Revision {
			continue
		}
		if until.After(now) {
			if t.nextResume.IsZero() || until.Before(t.nextResume) {
				t.nextResume = *until
			}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		resumed, err := t.st.AutoResume(rctx, t.fence, js.spec, now)
		cancel()
		if err != nil {
			return fmt.Errorf("auto-resume %s: %w", js.spec.Name, err)
		}
		if resumed {
			t.log.Info("pause expired; job resumed", "job", js.spec.Name, "paused_until", until)
		}
		// Either way the job's watch event brings its new state.
		js.staleRev = js.spec.Revision
	}
	return nil
}

func (t *term) updateGauges() {
	m := t.s.cfg.Metrics
	m.SetJobs(len(t.jobs)-t.paused, t.paused)
	for name, g := range t.groups {
		m.SetGroup(name, len(g.clients), len(g.pending), len(g.assigned))
	}
}

// newJobState is the leader's state of a job it has not seen before. Each
// job's round-robin rotation starts at its own place, so that jobs firing
// together spread over the clients instead of all taking the first one,
// then all the second.
func newJobState(name string) *jobState {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return &jobState{idx: -1, rr: h.Sum64()}
}
