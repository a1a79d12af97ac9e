package worker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// TestRunLogsAtInfo: at the default level a worker and its leader write no
// line per successful run (cron fires, manual triggers), one WARN per
// failed run, and an INFO summary with exact counts: the worker's once when
// it stops (its interval is longer than the test), the leader's once a
// minute and when it stops.
func TestRunLogsAtInfo(t *testing.T) {
	worker.SetSummaryInterval(t, time.Hour)
	c := pinktest.NewCluster(t)
	var wlogs, slogs pinktest.Buffer
	wlog, err := telemetry.NewLogger(&wlogs, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	slog, err := telemetry.NewLogger(&slogs, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	const good, bad = 25, 2
	okJob := c.CreateJob(t, job.Spec{Name: "fine", Group: "g", Schedule: "@hourly", Target: "ok", Paused: true})
	badJob := c.CreateJob(t, job.Spec{Name: "broken", Group: "g", Schedule: "@hourly", Target: "boom", Paused: true})
	c.CreateJob(t, job.Spec{Name: "tick", Group: "g", Schedule: "* * * * * *", Target: "ok"})
	sched := c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) { o.Logger = slog })
	w := c.StartWorker(t, "g", map[string]worker.Handler{
		"ok":   func(context.Context, worker.Run) (string, error) { return "", nil },
		"boom": func(context.Context, worker.Run) (string, error) { return "", errors.New("boom") },
	}, func(cfg *worker.Config) { cfg.Logger, cfg.Capacity = wlog, 64 })
	for range good {
		c.Trigger(t, okJob)
	}
	for range bad {
		c.Trigger(t, badJob)
	}
	pinktest.RequireRuns(t, c, "fine", good, snapshot.StatusSucceeded)
	pinktest.RequireRuns(t, c, "broken", bad, snapshot.StatusFailed)
	pinktest.RequireRuns(t, c, "tick", 2, snapshot.StatusSucceeded)
	w.Stop()
	ticks := len(c.Runs(t, "tick"))
	sched.Stop()

	var summaries []map[string]any
	failed := 0
	for _, l := range logLines(t, &wlogs) {
		switch {
		case l["msg"] == "runs summary":
			summaries = append(summaries, l)
		case l["level"] == "WARN" && l["msg"] == "run failed" && l["job_name"] == "broken":
			failed++
		case l["snapshot_id"] != nil:
			t.Errorf("worker: a per-run line at %s: %v", l["level"], l)
		}
	}
	if failed != bad {
		t.Errorf("%d WARN lines for failed runs, want %d", failed, bad)
	}
	if len(summaries) != 1 {
		t.Fatalf("worker: %d summary lines, want 1:\n%s", len(summaries), wlogs.String())
	}
	t.Logf("worker summary: %v", summaries[0])
	want := map[string]float64{"started": float64(good + bad + ticks), "succeeded": float64(good + ticks), "failed": bad, "timed_out": 0, "canceled": 0}
	for k, v := range want {
		if summaries[0][k] != v || summaries[0]["level"] != "INFO" {
			t.Errorf("worker summary %s = %v, want %v: %v", k, summaries[0][k], v, summaries[0])
		}
	}

	// The leader dispatched every triggered snapshot: one summary line a
	// minute at most, which the counts add up over.
	dispatched, written := 0.0, 0.0
	for _, l := range logLines(t, &slogs) {
		switch {
		case l["msg"] == "fires summary":
			dispatched += l["dispatched_later"].(float64)
			written += l["snapshots_written"].(float64)
		case l["snapshot_id"] != nil:
			t.Errorf("scheduler: a per-run line at %s: %v", l["level"], l)
		}
	}
	// Cron fires go straight to the worker (it has room for all), and go
	// on being written, pending, after it stopped.
	if dispatched != good+bad || written < float64(ticks) {
		t.Errorf("scheduler summaries: %v dispatched, want %d; %v written, want %d or more:\n%s", dispatched, good+bad, written, ticks, slogs.String())
	}
}
