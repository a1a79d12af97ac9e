package scheduler

import (
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Lookahead: the leader writes the next fire of a job up to cfg.Lookahead
// before its nominal time, with the same fenced transaction as a fire
// written when due, and the worker it is placed on starts it at its nominal
// time. A burst of fires in one second then travels through etcd during the
// second before it, and runs start on time.
//
// Only jobs whose fire decides nothing at its nominal time are written
// ahead: overlap allowed (forbid and replace look at the runs live then),
// one snapshot (sharded and broadcast fires are summarized and placed as a
// whole). A fire written ahead carries WrittenAhead and its job's revision;
// its worker claims it only while the job is unchanged, and when the job
// changes first the leader takes it back (settleStale).

// writesAhead reports whether the leader writes js's fires ahead of their
// nominal time.
func (t *term) writesAhead(js *jobState) bool {
	return t.cfg.Lookahead > 0 && js.spec.Concurrency == job.ConcurrencyAllow &&
		js.spec.Shards <= 1 && js.spec.Strategy != job.StrategyBroadcast
}

// plan is what to write for a job taken from the fire queue at now: the
// fires due by now under its misfire policy, or, for a job that writes
// ahead and is caught up, its next fire within the lookahead.
func (t *term) plan(js *jobState, cursor, now time.Time) firePlan {
	if t.writesAhead(js) {
		next := js.sched.Next(cursor)
		if next.After(now) {
			p := firePlan{skipped: map[snapshot.SkipReason]int{}}
			if !next.After(now.Add(t.cfg.Lookahead)) {
				p.fires = []plannedFire{{at: next, trigger: snapshot.TriggerCron, run: true}}
			}
			return p
		}
	}
	return planFires(js.sched, &js.spec, cursor, now, t.cfg.MisfireThreshold)
}
