package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/scheduler"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/worker"
	"github.com/prometheus/client_golang/prometheus"
)

// TestHistoryByteBudget: with --history-max-bytes too small for the
// history limit, every job keeps what its share of the budget holds
// (historyKeep), trimmed as it goes, not the limit's 100 runs.
func TestHistoryByteBudget(t *testing.T) {
	c := pinktest.NewCluster(t)
	const jobs = 4
	keep, slack := scheduler.HistoryKeep(jobs*4*scheduler.HistoryRowBytes, jobs, scheduler.DefaultHistoryLimit)
	if keep != 3 || slack != 1 {
		t.Fatalf("historyKeep = %d, %d; the test wants 3, 1", keep, slack)
	}
	reg := prometheus.NewRegistry()
	c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) {
		o.HistoryMaxBytes, o.Registerer = jobs*4*scheduler.HistoryRowBytes, reg
	})
	c.StartWorker(t, "g", map[string]worker.Handler{"noop": func(context.Context, worker.Run) (string, error) { return "", nil }})
	for i := range jobs {
		c.CreateJob(t, job.Spec{Name: fmt.Sprintf("tick-%d", i), Group: "g", Schedule: "* * * * * *", Target: "noop"})
	}
	// Between two trims a job gathers its slack, and one more run may land
	// while a trim reads: never more than keep+slack+1.
	most, start := 0, time.Now()
	pinktest.Eventually(t, 60*time.Second, func() (bool, string) {
		total := 0
		for i := range jobs {
			n := len(c.Runs(t, fmt.Sprintf("tick-%d", i)))
			most, total = max(most, n), total+n
		}
		if most > keep+slack+1 {
			t.Fatalf("a job holds %d runs; the budget allows %d (+%d slack)", most, keep, slack)
		}
		// Until every job has fired well past what it may keep.
		return time.Since(start) > time.Duration(keep+slack+5)*time.Second && total >= jobs*keep,
			fmt.Sprintf("%d runs after %s", total, time.Since(start))
	})
	if got := pinktest.Metric(t, reg, "pink_history_runs_per_job", nil); got != float64(keep) {
		t.Errorf("pink_history_runs_per_job = %v, want %d", got, keep)
	}
}
