package scheduler

import (
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

const (
	// maxMisfireScan bounds how many missed fires are walked one by one; a
	// cursor further behind jumps to the catch-up window (the count of the
	// fires jumped over is then a lower bound).
	maxMisfireScan = 100_000
	// maxCatchupRuns bounds the runs one run_all catch-up makes.
	maxCatchupRuns = 1000
)

// plannedFire is one cursor step the leader writes: a run of the fire at
// `at`, or (run false) only moving the cursor past skipped fires.
type plannedFire struct {
	at      time.Time
	trigger snapshot.Trigger
	run     bool
}

// firePlan is what to write for all fires of a job that are due.
type firePlan struct {
	fires   []plannedFire
	skipped map[snapshot.SkipReason]int
}

// planFires decides, for the fires of a job in (cursor, now], which run and
// which are skipped, by the job's misfire policy. A fire no later than
// threshold after its nominal time is on time and always runs (trigger
// cron); the others are misfires.
func planFires(sched *job.Schedule, spec *job.Spec, cursor, now time.Time, threshold time.Duration) firePlan {
	window := spec.CatchupWindow.Std()
	var (
		inWindow []time.Time
		outside  int
		total    int
		last     time.Time
	)
	t := cursor
	for steps := 0; ; steps++ {
		if steps == maxMisfireScan {
			if jump := now.Add(-window); jump.After(t) {
				t = jump
				outside++
			}
		}
		n := sched.Next(t)
		if n.IsZero() || n.After(now) {
			break
		}
		t, last = n, n
		total++
		if now.Sub(n) <= window {
			inWindow = append(inWindow, n)
			if len(inWindow) > maxCatchupRuns {
				inWindow = inWindow[1:]
				outside++
			}
		} else {
			outside++
		}
	}
	p := firePlan{skipped: map[snapshot.SkipReason]int{}}
	if total == 0 {
		return p
	}
	onTime := func(x time.Time) bool { return now.Sub(x) <= threshold }
	trigger := func(x time.Time) snapshot.Trigger {
		if onTime(x) {
			return snapshot.TriggerCron
		}
		return snapshot.TriggerCatchup
	}
	switch spec.Misfire {
	case job.MisfireSkip:
		if onTime(last) {
			p.fires = []plannedFire{{at: last, trigger: snapshot.TriggerCron, run: true}}
			p.skipped[snapshot.SkipMisfire] = total - 1
		} else {
			p.skipped[snapshot.SkipMisfire] = total
		}
	case job.MisfireRunAll:
		for _, x := range inWindow {
			p.fires = append(p.fires, plannedFire{at: x, trigger: trigger(x), run: true})
		}
		p.skipped[snapshot.SkipMisfireWindow] = outside
	default: // run_once
		if len(inWindow) > 0 {
			p.fires = []plannedFire{{at: last, trigger: trigger(last), run: true}}
			p.skipped[snapshot.SkipMisfireRunOnce] = total - 1 - outside
		}
		p.skipped[snapshot.SkipMisfireWindow] = outside
	}
	if len(p.fires) == 0 {
		p.fires = []plannedFire{{at: last}}
	}
	return p
}
