package scheduler

import (
	"context"
	"errors"
	"fmt"

	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// The leader-only counters (pink_fires_total, pink_fires_skipped_total,
// pink_runs_lost_total, pink_failovers_total) are kept in etcd, so that a
// new leader exports exactly the values the old one did. Each count is
// written by the transaction of the event it counts, never by a write of
// its own: the fire loop's counts ride in each job's cursor (package
// cursor), the rare events' counts in counters keys (store.CountsWrite).
// counters is the one place that knows this scheme: what etcd holds
// (mirrored, plus the leader's own writes), what each action adds, and what
// is exported. The actions only say what happened (a countsDelta, or the
// fires and skips of a cursor step).

// counters owns the counts of one term.
type counters struct {
	v    *view
	read countsReader
	// cursor holds the counts that ride in each job's cursor; jobs and
	// groups the counters keys.
	cursor map[string]counts.Job
	jobs   map[string]*countsKey
	groups map[string]*countsKey
}

// countsReader reads counters keys again when a transaction found them
// changed (the view was behind).
type countsReader interface {
	ReadJobCounts(ctx context.Context, job string) (counts.Job, int64, error)
	ReadGroupCounts(ctx context.Context, group string) (counts.Group, int64, error)
}

// countsKey is a counters key as the leader knows it.
type countsKey struct {
	job   counts.Job
	group counts.Group
	rev   int64
}

// countsDelta is what one move or backfill step adds to the counters: fires
// of a trigger, a lost run, a failover with its reason.
type countsDelta struct {
	fire     snapshot.Trigger
	fires    int64
	lost     bool
	failover snapshot.FailoverReason
}

func (d countsDelta) empty() bool { return d.fire == "" && !d.lost && d.failover == "" }

func newCounters(v *view, read countsReader) *counters {
	return &counters{v: v, read: read, cursor: map[string]counts.Job{}, jobs: map[string]*countsKey{}, groups: map[string]*countsKey{}}
}

// forCursor returns the counts a fire of job stores with its cursor: the
// job's so far, plus its snapshots as fires of trigger and the fires the
// cursor step skips.
func (c *counters) forCursor(job string, trigger snapshot.Trigger, snapshots int, skipped map[snapshot.SkipReason]int) counts.Job {
	out := c.cursor[job].Clone()
	out.AddFire(trigger, int64(snapshots))
	for reason, n := range skipped {
		out.AddSkipped(reason, int64(n))
	}
	return out
}

// setCursor records the counts stored with a job's cursor (the leader's own
// fire, or a mirrored cursor).
func (c *counters) setCursor(job string, cc counts.Job) {
	c.cursor[job] = cc
	c.exportJob(job)
}

// forgetCursor drops the counts of a deleted cursor.
func (c *counters) forgetCursor(job string) { delete(c.cursor, job) }

// countedWrite is a leader transaction that also writes the counters writes
// ws: it reports the revision it wrote at and whether ws landed, or whether
// a counters key was not at the revision given (stale).
type countedWrite func(ws []store.CountsWrite) (rev int64, landed, stale bool, err error)

// count runs write with the counters writes of d for a snapshot of job in
// group, and folds them into what the leader knows once they landed. When
// the keys were stale it reads them again and reports stale: the caller
// tries again with fresh counts.
func (c *counters) count(ctx context.Context, job, group string, d countsDelta, write countedWrite) (stale bool, err error) {
	ws := c.writes(job, group, d)
	rev, landed, stale, err := write(ws)
	switch {
	case err != nil:
		return false, err
	case landed:
		c.landed(ws, rev)
	case stale:
		return true, c.refresh(ctx, ws)
	}
	return false, nil
}

// writes returns the counters writes of d for a snapshot of job in group:
// the group's only while its key exists.
func (c *counters) writes(job, group string, d countsDelta) []store.CountsWrite {
	if d.empty() {
		return nil
	}
	var out []store.CountsWrite
	// A job's counts are written even when the view does not know the job
	// yet (a manual trigger right after the job's creation can be
	// dispatched before the job's own event arrives): the write holds only
	// while the job exists in etcd.
	if d.fire != "" || d.lost {
		w := store.CountsWrite{Job: job}
		if e := c.jobs[job]; e != nil {
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
	if d.failover != "" && c.v.groupKeys[group] {
		w := store.CountsWrite{Group: group}
		if e := c.groups[group]; e != nil {
			w.Rev, w.Counts = e.rev, e.group.Clone()
		}
		w.Counts.AddFailover(d.failover)
		out = append(out, w)
	}
	return out
}

// landed folds counters writes that etcd took at rev into what the leader
// knows. The write of a job the view does not know is not folded: it landed
// only if the job exists, and then its key's event brings it.
func (c *counters) landed(ws []store.CountsWrite, rev int64) {
	for _, w := range ws {
		switch {
		case w.Job == "":
			c.groups[w.Group] = &countsKey{group: w.Counts, rev: rev}
			c.exportGroup(w.Group)
		case c.v.jobs[w.Job] != nil:
			c.jobs[w.Job] = &countsKey{job: w.JobCounts, rev: rev}
			c.exportJob(w.Job)
		}
	}
}

// refresh reads the counters keys of ws again.
func (c *counters) refresh(ctx context.Context, ws []store.CountsWrite) error {
	for _, w := range ws {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		var err error
		e := &countsKey{}
		if w.Job != "" {
			e.job, e.rev, err = c.read.ReadJobCounts(rctx, w.Job)
		} else {
			e.group, e.rev, err = c.read.ReadGroupCounts(rctx, w.Group)
		}
		cancel()
		if errors.Is(err, store.ErrBadCounts) {
			// Count on from zero at its revision: the next write replaces it.
			c.v.log.Error("stored counters do not decode; counting on from zero", "job_name", w.Job, "group", w.Group, "err", err)
		} else if err != nil {
			return fmt.Errorf("read counters: %w", err)
		}
		if w.Job != "" {
			c.jobs[w.Job] = e
			c.exportJob(w.Job)
		} else {
			c.groups[w.Group] = e
			c.exportGroup(w.Group)
		}
	}
	return nil
}

// onEvent folds a mirrored counters key into what the leader knows, unless
// it holds a newer write of its own.
func (c *counters) onEvent(ev store.CountsEvent) {
	if ev.Err != nil {
		// Count on from zero at the key's revision, so that the next
		// counted event replaces the key rather than failing on it.
		c.v.log.Error("stored counters do not decode; counting on from zero", "job_name", ev.Job, "group", ev.Group, "err", ev.Err)
		ev.JobCounts, ev.Counts = counts.Job{}, counts.Group{}
	}
	m, name := c.jobs, ev.Job
	if ev.Job == "" {
		m, name = c.groups, ev.Group
	}
	if cur := m[name]; cur != nil && cur.rev > ev.ModRevision {
		return
	}
	if ev.Deleted {
		delete(m, name)
	} else {
		m[name] = &countsKey{job: ev.JobCounts, group: ev.Counts, rev: ev.ModRevision}
	}
	if ev.Job != "" {
		c.exportJob(ev.Job)
	} else {
		c.exportGroup(ev.Group)
	}
}

// forgetJob drops a deleted job's counts: its counters went with it in
// etcd, and a count written while the view was behind did not land.
func (c *counters) forgetJob(job string) {
	delete(c.jobs, job)
	delete(c.cursor, job)
}

// forgetGroup drops a deleted group's counts, as forgetJob does a job's.
func (c *counters) forgetGroup(group string) {
	delete(c.groups, group)
	c.exportGroup(group)
}

// exportJob sets a known job's counters: its cursor's counts plus its
// counters key's.
func (c *counters) exportJob(job string) {
	js := c.v.jobs[job]
	if js == nil {
		return
	}
	cc := c.cursor[job]
	if e := c.jobs[job]; e != nil {
		cc = cc.Plus(e.job)
	}
	c.v.metrics.SetJobCounts(job, js.spec.Group, cc.Fires, cc.Skipped, cc.Lost)
}

// exportGroup sets a known group's failover counters.
func (c *counters) exportGroup(group string) {
	if _, ok := c.v.groups[group]; !ok {
		return
	}
	var f map[string]int64
	if e := c.groups[group]; e != nil {
		f = e.group.Failovers
	}
	c.v.metrics.SetGroupFailovers(group, f)
}
