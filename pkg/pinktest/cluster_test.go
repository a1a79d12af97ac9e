package pinktest_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

func TestMain(m *testing.M) { pinktest.Main(m) }

// TestClusterRunsHandlers is the package's example: a user's handler runs
// in a real cluster, once per nominal second, and RequireRuns returns the
// runs oldest first.
func TestClusterRunsHandlers(t *testing.T) {
	var mu sync.Mutex
	var due []time.Time
	sendInvoices := func(_ context.Context, r worker.Run) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		due = append(due, r.ScheduledAt)
		return fmt.Sprintf("sent for %s", r.ScheduledAt.Format(time.TimeOnly)), nil
	}
	c := pinktest.NewCluster(t)
	c.StartScheduler(t, "node-1")
	w := c.StartWorker(t, "billing", map[string]worker.Handler{"send-invoices": sendInvoices})
	c.CreateJob(t, job.Spec{Name: "invoices", Group: "billing", Schedule: "* * * * * *", Target: "send-invoices"})
	runs := pinktest.RequireRuns(t, c, "invoices", 3, snapshot.StatusSucceeded)
	pinktest.RequireNoDuplicates(t, runs)

	if len(runs) < 3 {
		t.Fatalf("%d runs", len(runs))
	}
	for i, r := range runs {
		if r.Job != "invoices" || r.Client != w.ID() || r.Output != "sent for "+r.ScheduledAt.Format(time.TimeOnly) {
			t.Errorf("run %d: %+v", i, r)
		}
		if i > 0 && !r.ScheduledAt.After(runs[i-1].ScheduledAt) {
			t.Errorf("runs not oldest first: %s then %s", runs[i-1].ScheduledAt, r.ScheduledAt)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range runs {
		if !slices.ContainsFunc(due, r.ScheduledAt.Equal) {
			t.Errorf("run %s has no handler call", r.ID)
		}
	}
}

// recordingTB records the errors an assertion reports instead of failing.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestRequireNoDuplicates: the assertion reports an attempt recorded twice
// and a scheduled fire that ran twice, and accepts retries, manual runs of
// the same nominal time and the shards of one fire.
func TestRequireNoDuplicates(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	run := func(id string, trigger snapshot.Trigger, attempt, shard int) snapshot.Run {
		return snapshot.Run{ID: id, Job: "j", Trigger: trigger, Attempt: attempt, ShardIndex: shard, ScheduledAt: at}
	}
	tests := []struct {
		name string
		runs []snapshot.Run
		errs int
	}{
		{"distinct", []snapshot.Run{run("a.001", snapshot.TriggerCron, 1, 0), run("a.002", snapshot.TriggerRetry, 2, 0),
			run("m.001", snapshot.TriggerManual, 1, 0)}, 0},
		{"shards", []snapshot.Run{run("a.s000.001", snapshot.TriggerCron, 1, 0), run("a.s001.001", snapshot.TriggerCron, 1, 1)}, 0},
		{"attempt twice", []snapshot.Run{run("a.001", snapshot.TriggerCron, 1, 0), run("a.001", snapshot.TriggerCron, 1, 0)}, 2},
		{"fire twice", []snapshot.Run{run("a.001", snapshot.TriggerCron, 1, 0), run("b.001", snapshot.TriggerCatchup, 1, 0)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			pinktest.RequireNoDuplicates(rec, tt.runs)
			if len(rec.errs) != tt.errs {
				t.Errorf("errors %q, want %d", rec.errs, tt.errs)
			}
		})
	}
}
