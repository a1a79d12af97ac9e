package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// The leader-only counters are kept in etcd (see store.CountsWrite): the
// fire loop's counts ride in each job's cursor, the rare events' counts in
// counters keys, each written by the transaction of the event it counts.
// The term holds what etcd holds (mirrored, plus its own writes) and
// exports exactly that, so a new leader exports the same values.

// countsEntry is a counters key as the leader knows it.
type countsEntry struct {
	job   counts.Job
	group counts.Group
	rev   int64
}

// countsDelta is what one move adds to the counters: a fire of trigger, a
// lost run, a failover with reason.
type countsDelta struct {
	fire     snapshot.Trigger
	fires    int64
	lost     bool
	failover snapshot.FailoverReason
}

func (d countsDelta) empty() bool { return d.fire == "" && !d.lost && d.failover == "" }

// counted returns the counters writes of delta for a snapshot of job in
// group g: the job's only while the job is known, the group's only while
// its key exists.
func (t *term) counted(job, group string, d countsDelta) []store.CountsWrite {
	if d.empty() {
		return nil
	}
	var out []store.CountsWrite
	// A job's counts are written even when the view does not know the job
	// yet (a manual trigger right after the job's creation can be
	// dispatched before the job's own event arrives): the write holds only
	// while the job exists in etcd.
	if d.fire != "" || d.lost {
		e := t.jobCounts[job]
		w := store.CountsWrite{Job: job}
		if e != nil {
			w.Rev, w.JobCounts = e.rev, e.job.Clone()
		}
		if d.fire != "" {
			w.JobCounts.AddFire(d.fire, max(d.fires, 1))
		}
		if d.lost {
			w.JobCounts.Lost++
		}
		out = append(out, w)
	}
	if d.failover != "" && t.groupKeys[group] {
		e := t.groupCounts[group]
		w := store.CountsWrite{Group: group}
		if e != nil {
			w.Rev, w.Counts = e.rev, e.group.Clone()
		}
		w.Counts.AddFailover(d.failover)
		out = append(out, w)
	}
	return out
}

// countsWritten folds counters writes that etcd took at rev into the view.
// The write of a job the view does not know is not folded: it landed only
// if the job exists, and then its key's event brings it.
func (t *term) countsWritten(ws []store.CountsWrite, rev int64) {
	for _, w := range ws {
		if w.Job != "" && t.jobs[w.Job] == nil {
			continue
		}
		if w.Job != "" {
			t.jobCounts[w.Job] = &countsEntry{job: w.JobCounts, rev: rev}
			t.exportCounts(w.Job)
		} else {
			t.groupCounts[w.Group] = &countsEntry{group: w.Counts, rev: rev}
			t.exportGroupCounts(w.Group)
		}
	}
}

// refreshCounts reads the counters keys of ws again after a transaction
// found them changed (the view was behind).
func (t *term) refreshCounts(ctx context.Context, ws []store.CountsWrite) error {
	for _, w := range ws {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		var err error
		e := &countsEntry{}
		if w.Job != "" {
			e.job, e.rev, err = t.st.ReadJobCounts(rctx, w.Job)
		} else {
			e.group, e.rev, err = t.st.ReadGroupCounts(rctx, w.Group)
		}
		cancel()
		if errors.Is(err, store.ErrBadCounts) {
			// Count on from zero at its revision: the next write replaces it.
			t.log.Error("stored counters do not decode; counting on from zero", "job", w.Job, "group", w.Group, "err", err)
		} else if err != nil {
			return fmt.Errorf("read counters: %w", err)
		}
		if w.Job != "" {
			t.jobCounts[w.Job] = e
			t.exportCounts(w.Job)
		} else {
			t.groupCounts[w.Group] = e
			t.exportGroupCounts(w.Group)
		}
	}
	return nil
}

// onCounts folds a mirrored counters key into the view, unless the view
// holds a newer write of the leader's own.
func (t *term) onCounts(ev store.CountsEvent) {
	if ev.Err != nil {
		// Count on from zero at the key's revision, so that the next
		// counted event replaces the key rather than failing on it.
		t.log.Error("stored counters do not decode; counting on from zero", "job", ev.Job, "group", ev.Group, "err", ev.Err)
		ev.JobCounts, ev.Counts = counts.Job{}, counts.Group{}
	}
	m := t.jobCounts
	if ev.Job == "" {
		m = t.groupCounts
	}
	name := ev.Job + ev.Group
	if cur := m[name]; cur != nil && cur.rev > ev.ModRevision {
		return
	}
	if ev.Deleted {
		delete(m, name)
	} else {
		m[name] = &countsEntry{job: ev.JobCounts, group: ev.Counts, rev: ev.ModRevision}
	}
	if ev.Job != "" {
		t.exportCounts(ev.Job)
	} else {
		t.exportGroupCounts(ev.Group)
	}
}

// setCursor records a job's cursor and the counts that ride in it.
func (t *term) setCursor(job string, at time.Time, counts counts.Job) {
	t.cursors[job] = at
	t.curCounts[job] = counts
	t.exportCounts(job)
}

// withCounts sets the counts f stores with its cursor: the job's so far,
// plus f's snapshots as fires of trigger and the fires it skips.
func (t *term) withCounts(f *store.Fire, trigger snapshot.Trigger, skipped map[snapshot.SkipReason]int) {
	c := t.curCounts[f.Job].Clone()
	c.AddFire(trigger, int64(len(f.Placements)))
	for reason, n := range skipped {
		c.AddSkipped(reason, int64(n))
	}
	f.Counts = c
}

// exportCounts sets a known job's counters: its cursor's counts plus its
// counters key's.
func (t *term) exportCounts(job string) {
	js := t.jobs[job]
	if js == nil {
		return
	}
	c := t.curCounts[job]
	if e := t.jobCounts[job]; e != nil {
		c = c.Plus(e.job)
	}
	t.s.cfg.Metrics.SetJobCounts(job, js.spec.Group, c.Fires, c.Skipped, c.Lost)
}

// exportGroupCounts sets a known group's failover counters.
func (t *term) exportGroupCounts(group string) {
	if _, ok := t.groups[group]; !ok {
		return
	}
	var f map[string]int64
	if e := t.groupCounts[group]; e != nil {
		f = e.group.Failovers
	}
	t.s.cfg.Metrics.SetGroupFailovers(group, f)
}

// onGroup follows the group keys: a created group gets its series at 0, a
// deleted one loses them (once no client or snapshot of it is left).
func (t *term) onGroup(ev store.GroupEvent) {
	if ev.Deleted {
		delete(t.groupKeys, ev.Name)
		// As for a deleted job: its counters key is gone, and a count
		// written while the view was behind did not land.
		delete(t.groupCounts, ev.Name)
		t.exportGroupCounts(ev.Name)
		t.maybeDropGroup(ev.Name)
		return
	}
	t.groupKeys[ev.Name] = true
	t.group(ev.Name)
	t.exportGroupCounts(ev.Name)
}

// maybeDropGroup forgets a group that has no key, no job, no client and no
// live snapshot, and drops its series.
func (t *term) maybeDropGroup(name string) {
	g := t.groups[name]
	if !t.ready || g == nil || t.groupKeys[name] || t.groupJobs[name] > 0 ||
		len(g.clients) > 0 || len(g.pending) > 0 || len(g.assigned) > 0 {
		return
	}
	delete(t.groups, name)
	delete(t.groupCounts, name)
	t.s.cfg.Metrics.DeleteGroup(name)
}
