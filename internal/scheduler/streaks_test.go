package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// TestFailureStreakGauges: the leader exports each failed fire in a row
// (pink_job_consecutive_failures), the job's threshold from its label
// (pink_job_alert_failures), and the group's jobs at their threshold
// (pink_group_jobs_failing); a new leader exports the same streak, read
// from history; a success ends it.
func TestFailureStreakGauges(t *testing.T) {
	c := pinktest.NewCluster(t)
	var failing atomic.Bool
	failing.Store(true)
	c.StartWorker(t, "g", map[string]worker.Handler{"flaky": func(context.Context, worker.Run) (string, error) {
		if failing.Load() {
			return "", errors.New("down")
		}
		return "", nil
	}})
	spec := c.CreateJob(t, job.Spec{Name: "nightly", Group: "g", Schedule: "@daily", Target: "flaky", Paused: true,
		Labels: map[string]string{job.AlertFailuresLabel: "2"}})
	other := c.CreateJob(t, job.Spec{Name: "other", Group: "g", Schedule: "@daily", Target: "flaky", Paused: true})
	a := startNode(t, c, "a")
	waitLeader(t, a)
	expect := func(n *node, streak, threshold, groupFailing float64) {
		t.Helper()
		pinktest.Eventually(t, 15*time.Second, func() (bool, string) {
			got := [3]float64{metric(t, n, "pink_job_consecutive_failures", map[string]string{"job_name": "nightly"}),
				metric(t, n, "pink_job_alert_failures", map[string]string{"job_name": "nightly"}),
				metric(t, n, "pink_group_jobs_failing", map[string]string{"group": "g"})}
			want := [3]float64{streak, threshold, groupFailing}
			return got == want, fmt.Sprintf("streak, threshold, group failing %v, want %v", got, want)
		})
	}
	runs := 0
	fire := func(s job.Spec) {
		t.Helper()
		c.Trigger(t, s)
		runs++
		pinktest.Eventually(t, 15*time.Second, func() (bool, string) {
			n := len(c.Runs(t, "nightly")) + len(c.Runs(t, "other"))
			return n == runs, fmt.Sprintf("%d runs, want %d", n, runs)
		})
	}
	expect(a, 0, 2, 0)
	fire(spec)
	expect(a, 1, 2, 0)
	fire(other) // another job's failure is not this one's
	expect(a, 1, 2, 0)
	fire(spec)
	expect(a, 2, 2, 1)
	if v := metric(t, a, "pink_job_alert_failures", map[string]string{"job_name": "other"}); v != job.DefaultAlertFailures {
		t.Errorf("threshold of a job without the label: %v, want %d", v, job.DefaultAlertFailures)
	}

	b := startNode(t, c, "b")
	a.stop()
	waitLeader(t, b)
	expect(b, 2, 2, 1)

	failing.Store(false)
	fire(spec)
	expect(b, 0, 2, 0)
}
