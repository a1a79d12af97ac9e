package scheduler

import (
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/prometheus/client_golang/prometheus"
)

// TestOverdueByGroup: the leader's count of overdue jobs per group follows
// PinkJobMissedSchedule's rule: active, with a next fire, not failing, and
// no success for twice the interval plus 5 minutes since the later of the
// last success and the last change.
func TestOverdueByGroup(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	v := newView(telemetry.NewScheduler(prometheus.NewRegistry(), telemetry.Options{}), slog.New(slog.DiscardHandler), func() time.Time { return now }, nil)
	add := func(name, group string, interval time.Duration, updated time.Time, success time.Time, paused, fires bool) {
		js := newJobState(name)
		js.spec = job.Spec{Name: name, Group: group, Paused: paused, UpdatedAt: updated}
		js.interval = interval
		if fires {
			js.next = now.Add(time.Minute)
		}
		v.jobs[name] = js
		if !success.IsZero() {
			v.last[name] = &jobLast{success: success}
		}
	}
	var never time.Time
	add("hourly-never-ran", "a", time.Hour, now.Add(-3*time.Hour), never, false, true)                    // 3h > 2h5m: overdue
	add("hourly-ran-1h-ago", "a", time.Hour, now.Add(-30*24*time.Hour), now.Add(-time.Hour), false, true) // within
	add("hourly-edited-now", "a", time.Hour, now.Add(-time.Minute), now.Add(-5*time.Hour), false, true)   // the change restarts the clock
	add("hourly-paused", "a", time.Hour, now.Add(-9*time.Hour), never, true, true)
	add("secondly-stopped-10m", "b", time.Second, now.Add(-time.Hour), now.Add(-10*time.Minute), false, true) // 10m > 5m2s
	add("secondly-ok", "b", time.Second, now.Add(-time.Hour), now.Add(-time.Second), false, true)
	add("one-shot-done", "b", time.Hour, now.Add(-9*time.Hour), never, false, false) // never fires again
	// Failing, not overdue: PinkJobFailing's case.
	add("hourly-failing", "a", time.Hour, now.Add(-9*time.Hour), now.Add(-8*time.Hour), false, true)
	v.last["hourly-failing"].streak = 2
	if got, want := v.overdueByGroup(now), map[string]int{"a": 1, "b": 1}; !maps.Equal(got, want) {
		t.Errorf("overdue by group %v, want %v", got, want)
	}
}
