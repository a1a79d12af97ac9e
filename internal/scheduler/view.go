package scheduler

import (
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// view is the leader's picture of the cluster: jobs and their cursors,
// groups and their clients, the live snapshots and their indexes, sharded
// fires, backfill requests and each job's last results. The mirrors' events
// and the leader's own writes feed it (so a fire sees the fires just
// written); it never talks to etcd, so tests drive it with synthetic events.
// The metrics series of jobs and groups come and go with it. What its
// changes ask the leader to do is collected in todo.
type view struct {
	metrics *telemetry.Scheduler
	log     *slog.Logger
	now     func() time.Time
	counts  *counters

	jobs    map[string]*jobState
	cursors map[string]jobCursor
	groups  map[string]*groupState
	// groupKeys are the groups that exist (have a key); groupJobs counts
	// the known jobs of each group.
	groupKeys map[string]bool
	groupJobs map[string]int

	// live holds every pending or assigned snapshot by id; byJob indexes
	// it by job (overlap policies).
	live  map[string]*snapshot.Live
	byJob map[string]map[string]*snapshot.Live
	// startedAhead holds the live fires claimed ahead that their client's
	// start mark is known to have reached: they started (see
	// settleStale).
	startedAhead map[*snapshot.Live]bool
	// fires are the sharded fires that wait for their summary run.
	fires     map[string]*snapshot.ShardedFire
	backfills map[string]*snapshot.Backfill
	last      map[string]*jobLast

	// paused counts the paused jobs; resumable holds those with a
	// paused_until.
	paused int
	// groupPaused counts the paused jobs per group.
	groupPaused map[string]int
	resumable   map[string]*jobState
	// intervals caches Schedule.Interval by schedule and zone: many jobs
	// share a schedule, and a sparse one costs many Next calls.
	intervals map[string]time.Duration

	// synced are the mirrors that have delivered their first list; the
	// view is ready once all have.
	synced map[string]bool
	ready  bool
	// deadAtElection are the clients that held assignments when the view
	// became ready but were gone: they died while no leader watched, and
	// moving their work counts as failover reason leader_change.
	deadAtElection map[string]bool

	todo todo
	// failing maps each job whose failure streak reached its alert
	// threshold to its group; failingDirty says it changed since the
	// groups' failing counts were exported.
	failing      map[string]string
	failingDirty bool
}

// todo is what changes of the view ask the leader to act on.
type todo struct {
	// reschedule holds the jobs whose next fire may have changed, or that
	// are gone from the view (and so from the fire queue).
	reschedule map[*jobState]bool
	// orphans says an assignment may belong to a client that is gone or
	// draining; summaries that a sharded fire may have finished.
	orphans, summaries bool
	// marks says a client may have left a start mark that nothing needs
	// any more (see sweepMarks).
	marks bool
	// stale holds the jobs that changed while fires of theirs written
	// ahead may be waiting to start (see settleStale); such a job does not
	// fire until they are settled.
	stale map[string]bool
	// streaks holds the jobs whose failure streak needs a recount.
	streaks map[string]bool
}

// settled takes job name out of todo.stale; the caller requeues it.
func (v *view) settled(name string) { delete(v.todo.stale, name) }

// jobState is the leader's view of one job.
type jobState struct {
	spec  job.Spec
	sched *job.Schedule
	next  time.Time // next nominal fire; zero when not queued
	// writeAt is when the leader writes the next fire: next, or up to the
	// lookahead before it (see writesAhead). The fire queue is ordered by it.
	writeAt  time.Time
	idx      int    // position in the fire queue, -1 if not queued
	rotation uint64 // round-robin position
	// staleRev is set to the revision a fenced write found outdated; the
	// job waits for its next watch event before it fires again.
	staleRev int64
	// interval is the nominal time between fires, for "should have run"
	// alerts.
	interval time.Duration
}

// newJobState is the leader's state of a job it has not seen before. Each
// job's round-robin rotation starts at its own place, so that jobs firing
// together spread over the clients instead of all taking the first one,
// then all the second.
func newJobState(name string) *jobState {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return &jobState{idx: -1, rotation: h.Sum64()}
}

// jobLast is the finish time of a job's last succeeded and last failed run
// (zero if none).
type jobLast struct {
	success, failure time.Time
	// streak is the job's failure streak (streaks.go).
	streak int
}

func newView(metrics *telemetry.Scheduler, log *slog.Logger, now func() time.Time, read countsReader) *view {
	v := &view{metrics: metrics, log: log, now: now,
		jobs: map[string]*jobState{}, cursors: map[string]jobCursor{}, groups: map[string]*groupState{},
		groupKeys: map[string]bool{}, groupJobs: map[string]int{}, groupPaused: map[string]int{},
		live: map[string]*snapshot.Live{}, byJob: map[string]map[string]*snapshot.Live{}, startedAhead: map[*snapshot.Live]bool{},
		fires: map[string]*snapshot.ShardedFire{}, backfills: map[string]*snapshot.Backfill{}, last: map[string]*jobLast{}, failing: map[string]string{},
		resumable: map[string]*jobState{}, intervals: map[string]time.Duration{},
		synced: map[string]bool{}, deadAtElection: map[string]bool{},
		todo: todo{reschedule: map[*jobState]bool{}, stale: map[string]bool{}, streaks: map[string]bool{}}}
	v.counts = newCounters(v, read)
	return v
}

// markSynced records that the mirror source has delivered its first list;
// once all sources have, the view is ready and the leader starts acting.
func (v *view) markSynced(source string, sources int) {
	if v.ready {
		return
	}
	v.synced[source] = true
	if len(v.synced) < sources {
		return
	}
	v.ready = true
	v.metrics.CountsLoaded()
	v.todo.orphans, v.todo.summaries, v.todo.marks = true, true, true
	for name := range v.byJob {
		v.todo.stale[name] = true
	}
	for _, g := range v.groups {
		for _, l := range g.assigned {
			if _, live := g.clients[l.Client]; !live {
				v.deadAtElection[l.Client] = true
			}
		}
	}
	for name := range v.groups {
		v.maybeDropGroup(name)
	}
	v.log.Info("leader state loaded", "jobs", len(v.jobs), "groups", len(v.groups), "live_snapshots", len(v.live))
}

// takeReschedule returns the jobs to reschedule and forgets them.
func (v *view) takeReschedule() map[*jobState]bool {
	r := v.todo.reschedule
	v.todo.reschedule = map[*jobState]bool{}
	return r
}

func (v *view) onJob(ev store.JobEvent) {
	if ev.Err != nil {
		v.log.Error("cannot decode stored job; ignoring it", "job_name", ev.Name, "err", ev.Err)
	}
	js := v.jobs[ev.Name]
	if len(v.byJob[ev.Name]) > 0 {
		// Fires written ahead for the old job may wait to start.
		v.todo.stale[ev.Name] = true
	}
	if ev.Spec == nil {
		if js != nil {
			v.unindexJob(js)
			v.forgetJob(js)
		}
		// Its counters went with it in etcd. A count this leader wrote
		// while its view was behind the delete did not land (the write
		// holds only while the job exists): forget it too, so that a job
		// created again under the name starts at 0.
		if ev.Err == nil {
			v.counts.forgetJob(ev.Name)
		}
		return
	}
	if js != nil && js.spec.Revision >= ev.Spec.Revision {
		return
	}
	if js != nil {
		v.unindexJob(js)
	}
	sched, err := ev.Spec.ParsedSchedule()
	if err != nil {
		v.log.Error("stored job has an invalid schedule; not scheduling it", "job_name", ev.Name, "err", err)
		if js != nil {
			v.forgetJob(js)
		}
		return
	}
	if js != nil && js.spec.Group != ev.Spec.Group {
		v.forgetJob(js)
		js = nil
	}
	if js == nil {
		js = newJobState(ev.Name)
		v.jobs[ev.Name] = js
		v.groupJobs[ev.Spec.Group]++
		v.metrics.AddJob(ev.Spec.Name, ev.Spec.Group)
		v.group(ev.Spec.Group)
	}
	js.spec, js.sched = *ev.Spec, sched
	v.indexJob(js)
	js.interval = v.interval(sched)
	v.todo.reschedule[js] = true
	v.exportLast(ev.Name)
	v.counts.exportJob(ev.Name)
	v.metrics.SetJobUpdated(js.spec.Name, js.spec.Group, js.spec.UpdatedAt)
	v.metrics.SetJobInfo(js.spec.Name, js.spec.Group, js.spec.Labels)
}

// forgetJob drops a job that was deleted, moved to another group (it comes
// back under the new one) or can no longer be scheduled, and its series;
// the leader takes it out of the fire queue.
func (v *view) forgetJob(js *jobState) {
	delete(v.jobs, js.spec.Name)
	v.todo.reschedule[js] = true
	v.metrics.DeleteJob(js.spec.Name, js.spec.Group)
	v.setFailing(js.spec.Name, "", false)
	if v.groupJobs[js.spec.Group]--; v.groupJobs[js.spec.Group] <= 0 {
		delete(v.groupJobs, js.spec.Group)
		v.maybeDropGroup(js.spec.Group)
	}
}

// indexJob counts js among the paused jobs, and among those that resume by
// themselves, so that no step has to scan every job; unindexJob undoes it.
func (v *view) indexJob(js *jobState) {
	if js.spec.Paused {
		v.paused++
		v.groupPaused[js.spec.Group]++
		if js.spec.PausedUntil != nil {
			v.resumable[js.spec.Name] = js
		}
	}
}

func (v *view) unindexJob(js *jobState) {
	if js.spec.Paused {
		v.paused--
		if v.groupPaused[js.spec.Group]--; v.groupPaused[js.spec.Group] <= 0 {
			delete(v.groupPaused, js.spec.Group)
		}
	}
	delete(v.resumable, js.spec.Name)
}

// interval is sched's nominal interval, computed once per term for each
// schedule and zone.
func (v *view) interval(sched *job.Schedule) time.Duration {
	key := sched.String() + " " + sched.Location().String()
	d, ok := v.intervals[key]
	if !ok {
		d = sched.Interval(v.now())
		v.intervals[key] = d
	}
	return d
}

// nextFire is when js fires next: the first fire after its cursor, or zero
// while it is paused, stale or its cursor is unknown.
func (v *view) nextFire(js *jobState) time.Time {
	c, ok := v.cursors[js.spec.Name]
	cur := c.at
	if js.spec.Paused || !ok || js.staleRev == js.spec.Revision || v.todo.stale[js.spec.Name] {
		return time.Time{}
	}
	return js.sched.Next(cur)
}

func (v *view) onCursor(ev store.CursorEvent) {
	if ev.Err != nil {
		v.log.Error("cannot decode stored cursor", "job_name", ev.Job, "err", ev.Err)
		return
	}
	own := v.cursors[ev.Job].rev
	switch {
	case ev.Deleted:
		delete(v.cursors, ev.Job)
		v.counts.forgetCursor(ev.Job)
	case ev.Revision <= own:
		// The echo of this leader's own write, or older than it: the view
		// holds that write already (mostly not worth exporting again).
		return
	default:
		// Written after anything this leader knows of, so it is what etcd
		// holds, even when it is behind the view: a take-back whose reply
		// was lost moved the cursor back (see settleStale).
		v.setCursor(ev.Job, ev.Cursor, ev.Counts, ev.Revision)
	}
	if js := v.jobs[ev.Job]; js != nil {
		v.todo.reschedule[js] = true
	}
}

// ownCursor records a cursor this leader wrote (or read) at revision rev.
func (v *view) ownCursor(job string, at time.Time, c counts.Job, rev int64) {
	v.setCursor(job, at, c, max(rev, v.cursors[job].rev))
}

// jobCursor is the view's cursor of one job: the last fire written (or
// skipped), and the revision of the latest cursor write this leader made,
// read or followed: watch events up to there are older than what the view
// holds.
type jobCursor struct {
	at  time.Time
	rev int64
}

// setCursor records a job's cursor and the counts that ride in it.
func (v *view) setCursor(job string, at time.Time, c counts.Job, rev int64) {
	v.cursors[job] = jobCursor{at: at, rev: rev}
	v.counts.setCursor(job, c)
}

func (v *view) onLast(ev store.LastEvent) {
	if ev.Err != nil {
		v.log.Error("cannot decode a job's last run time", "job_name", ev.Job, "err", ev.Err)
		return
	}
	l := v.last[ev.Job]
	if l == nil {
		l = &jobLast{}
		v.last[ev.Job] = l
	}
	var at time.Time
	if !ev.Deleted {
		at = ev.At
	}
	switch ev.Outcome {
	case "success":
		l.success = at
	case "failure":
		l.failure = at
	}
	if l.success.IsZero() && l.failure.IsZero() {
		delete(v.last, ev.Job)
	}
	v.exportLast(ev.Job)
	v.noteStreak(ev.Job)
}

// exportLast sets a known job's last-success and last-failure gauges.
func (v *view) exportLast(name string) {
	js := v.jobs[name]
	if js == nil {
		return
	}
	var l jobLast
	if p := v.last[name]; p != nil {
		l = *p
	}
	v.metrics.SetJobLast(name, js.spec.Group, l.success, l.failure)
	v.exportStreak(name)
}

func (v *view) onFire(ev store.FireEvent) {
	if ev.Err != nil {
		v.log.Error("cannot decode sharded fire record", "snapshot_id", ev.ID, "err", ev.Err)
		return
	}
	if ev.Fire == nil {
		delete(v.fires, ev.ID)
		return
	}
	v.fires[ev.ID] = ev.Fire
	v.todo.summaries = true
}

func (v *view) onBackfill(ev store.BackfillEvent) {
	switch {
	case ev.Err != nil:
		v.log.Error("cannot decode backfill request", "backfill_id", ev.ID, "err", ev.Err)
	case ev.Backfill == nil:
		delete(v.backfills, ev.ID)
	default:
		v.backfills[ev.ID] = ev.Backfill
	}
}

func (v *view) onCounts(ev store.CountsEvent) { v.counts.onEvent(ev) }
