package scheduler

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

func TestPlanFires(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 11, 26, v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
	}
	tests := []struct {
		name    string
		expr    string
		misfire job.Misfire
		window  time.Duration
		cursor  string
		now     string
		fires   string // "time/trigger" or "time/-" for a cursor-only step
		skipped map[snapshot.SkipReason]int
	}{
		{"nothing due", "0 * * * * *", job.MisfireRunOnce, time.Hour, "12:00:00", "12:00:30", "[]", map[snapshot.SkipReason]int{}},
		{"one fire on time", "0 * * * * *", job.MisfireRunOnce, time.Hour, "12:00:00", "12:01:00.003", "[12:01:00/cron]",
			map[snapshot.SkipReason]int{snapshot.SkipMisfireRunOnce: 0, snapshot.SkipMisfireWindow: 0}},
		{"one fire a bit late is still on time", "0 * * * * *", job.MisfireRunOnce, time.Hour, "12:00:00", "12:01:04", "[12:01:00/cron]",
			map[snapshot.SkipReason]int{snapshot.SkipMisfireRunOnce: 0, snapshot.SkipMisfireWindow: 0}},
		{"one fire too late is a catch-up", "0 * * * * *", job.MisfireRunOnce, time.Hour, "12:00:00", "12:01:30", "[12:01:00/catchup]",
			map[snapshot.SkipReason]int{snapshot.SkipMisfireRunOnce: 0, snapshot.SkipMisfireWindow: 0}},
		{"run_once collapses missed fires into the last", "0 * * * * *", job.MisfireRunOnce, time.Hour, "12:00:00", "12:05:30", "[12:05:00/catchup]",
			map[snapshot.SkipReason]int{snapshot.SkipMisfireRunOnce: 4, snapshot.SkipMisfireWindow: 0}},
		{"run_once with the last fire on time", "* * * * * *", job.MisfireRunOnce, time.Hour, "12:00:00", "12:00:10.5", "[12:00:10/cron]",
			map[snapshot.SkipReason]int{snapshot.SkipMisfireRunOnce: 9, snapshot.SkipMisfireWindow: 0}},
		{"run_once outside the window only moves the cursor", "0 * * * * *", job.MisfireRunOnce, 20 * time.Second, "12:00:00", "12:05:30", "[12:05:00/-]",
			map[snapshot.SkipReason]int{snapshot.SkipMisfireWindow: 5}},
		{"skip runs nothing late", "0 * * * * *", job.MisfireSkip, time.Hour, "12:00:00", "12:05:30", "[12:05:00/-]",
			map[snapshot.SkipReason]int{snapshot.SkipMisfire: 5}},
		{"skip still runs the on-time fire", "0 * * * * *", job.MisfireSkip, time.Hour, "12:00:00", "12:05:02", "[12:05:00/cron]",
			map[snapshot.SkipReason]int{snapshot.SkipMisfire: 4}},
		{"run_all runs every missed fire oldest first", "0 * * * * *", job.MisfireRunAll, time.Hour, "12:00:00", "12:03:02",
			"[12:01:00/catchup 12:02:00/catchup 12:03:00/cron]", map[snapshot.SkipReason]int{snapshot.SkipMisfireWindow: 0}},
		{"run_all is bounded by the window", "0 * * * * *", job.MisfireRunAll, 150 * time.Second, "12:00:00", "12:05:30",
			"[12:03:00/catchup 12:04:00/catchup 12:05:00/catchup]", map[snapshot.SkipReason]int{snapshot.SkipMisfireWindow: 2}},
		{"run_all with nothing in the window", "0 * * * * *", job.MisfireRunAll, 10 * time.Second, "12:00:00", "12:05:30",
			"[12:05:00/-]", map[snapshot.SkipReason]int{snapshot.SkipMisfireWindow: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := job.Spec{Schedule: tc.expr, Misfire: tc.misfire, CatchupWindow: job.Duration(tc.window)}
			sched, err := job.ParseSchedule(tc.expr, "UTC")
			if err != nil {
				t.Fatal(err)
			}
			p := planFires(sched, &spec, at(tc.cursor), at(tc.now), 5*time.Second)
			var got []string
			for _, f := range p.fires {
				trig := "-"
				if f.run {
					trig = string(f.trigger)
				}
				got = append(got, f.at.Format("15:04:05")+"/"+trig)
			}
			if s := fmt.Sprint(got); s != tc.fires {
				t.Errorf("fires = %s, want %s", s, tc.fires)
			}
			if !maps.Equal(p.skipped, tc.skipped) {
				t.Errorf("skipped = %v, want %v", p.skipped, tc.skipped)
			}
		})
	}
}

// A cursor far behind jumps to the catch-up window instead of walking
// millions of fires one by one.
func TestPlanFiresFarBehind(t *testing.T) {
	sched, _ := job.ParseSchedule("* * * * * *", "UTC")
	spec := job.Spec{Misfire: job.MisfireRunOnce, CatchupWindow: job.Duration(time.Hour)}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := planFires(sched, &spec, now.AddDate(0, -1, 0), now, time.Second)
	if len(p.fires) != 1 || !p.fires[0].at.Equal(now) || !p.fires[0].run {
		t.Fatalf("fires = %+v, want one run at %s", p.fires, now)
	}
	if p.skipped[snapshot.SkipMisfireWindow] < maxMisfireScan {
		t.Errorf("skipped outside window = %d, want at least %d", p.skipped[snapshot.SkipMisfireWindow], maxMisfireScan)
	}
}
