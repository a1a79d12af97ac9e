package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

func TestMain(m *testing.M) { pinktest.Main(m) }

// newCluster starts etcd, a scheduler and one worker of group "g" with the
// given handlers.
func newCluster(t *testing.T, handlers map[string]worker.Handler) *pinktest.Cluster {
	t.Helper()
	c := pinktest.NewCluster(t)
	c.StartScheduler(t, "n1")
	c.StartWorker(t, "g", handlers, func(cfg *worker.Config) { cfg.Capacity = 4 })
	return c
}

// trigger creates the job in group g (paused, so only the manual run
// happens) and triggers it once.
func trigger(t *testing.T, c *pinktest.Cluster, spec job.Spec) snapshot.Snapshot {
	t.Helper()
	spec.Group, spec.Schedule, spec.Paused = "g", "@hourly", true
	return c.Trigger(t, c.CreateJob(t, spec))
}

func TestRunOutcomes(t *testing.T) {
	c := newCluster(t, map[string]worker.Handler{
		"ok":    func(context.Context, worker.Run) (string, error) { return "fine", nil },
		"fail":  func(context.Context, worker.Run) (string, error) { return "partial", errors.New("disk full") },
		"panic": func(context.Context, worker.Run) (string, error) { panic("nil map") },
		"block": func(ctx context.Context, _ worker.Run) (string, error) { <-ctx.Done(); return "", ctx.Err() },
	})
	tests := []struct {
		name, target string
		timeout      time.Duration
		status       snapshot.Status
		output, err  string
	}{
		{"succeeds", "ok", 0, snapshot.StatusSucceeded, "fine", ""},
		{"fails", "fail", 0, snapshot.StatusFailed, "partial", "disk full"},
		{"panics", "panic", 0, snapshot.StatusFailed, "", "handler panicked: nil map"},
		{"times-out", "block", 300 * time.Millisecond, snapshot.StatusTimedOut, "", "timed out after 300ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := trigger(t, c, job.Spec{Name: tc.name, Target: tc.target, Timeout: job.Duration(tc.timeout)})
			r := pinktest.RequireRuns(t, c, tc.name, 1, "")[0]
			if r.SnapshotID != snap.ID || r.Status != tc.status || r.Output != tc.output || !strings.Contains(r.Error, tc.err) {
				t.Errorf("run = {%s %s output %q error %q}, want {%s %s output %q error containing %q}",
					r.SnapshotID, r.Status, r.Output, r.Error, snap.ID, tc.status, tc.output, tc.err)
			}
			if r.Trigger != snapshot.TriggerManual || r.Attempt != 1 || r.StartedAt == nil || r.DispatchedAt == nil {
				t.Errorf("run = %+v", r)
			}
		})
	}
}

// TestNoHandler: a worker given a run of a target it has no handler for
// fails it with error code no_handler rather than crash or hang. The
// leader gives a worker only the targets it advertises (a fire of another
// target waits as pending: scheduler.TestPendingUntilTargetAdvertised),
// but a registration that lists none is taken to run anything — here a
// worker with no handler at all.
func TestNoHandler(t *testing.T) {
	c := newCluster(t, nil)
	trigger(t, c, job.Spec{Name: "unknown-target", Target: "missing"})
	r := pinktest.RequireRuns(t, c, "unknown-target", 1, "")[0]
	if r.Status != snapshot.StatusFailed || r.ErrorCode != "no_handler" || !strings.Contains(r.Error, `no handler for target "missing"`) {
		t.Errorf("run = {%s code %q error %q}, want failed, no_handler, no handler for target \"missing\"", r.Status, r.ErrorCode, r.Error)
	}
}

// TestRetries: a failing run is retried as attempt+1 (trigger retry) after
// its backoff until it succeeds or runs out of retries; every attempt is a
// row in history.
func TestRetries(t *testing.T) {
	var calls atomic.Int32
	c := newCluster(t, map[string]worker.Handler{
		"flaky": func(_ context.Context, r worker.Run) (string, error) {
			if calls.Add(1) < 3 {
				return "", fmt.Errorf("attempt %d failed", r.Attempt)
			}
			return "third time lucky", nil
		},
		"broken": func(_ context.Context, r worker.Run) (string, error) { return "", errors.New("always") },
	})
	trigger(t, c, job.Spec{Name: "flaky", Target: "flaky", Retries: 5, RetryBackoff: job.Duration(100 * time.Millisecond)})
	runs := pinktest.RequireRuns(t, c, "flaky", 3, "")
	want := []string{"1 manual failed", "2 retry failed", "3 retry succeeded"}
	for i, r := range runs {
		if got := fmt.Sprintf("%d %s %s", r.Attempt, r.Trigger, r.Status); i >= len(want) || got != want[i] {
			t.Errorf("run %d = %s, want %v", i, got, want)
		}
	}
	if runs[1].DispatchedAt.Sub(runs[0].FinishedAt) < 50*time.Millisecond {
		t.Errorf("attempt 2 dispatched %s after attempt 1 failed: backoff not applied", runs[1].DispatchedAt.Sub(runs[0].FinishedAt))
	}

	trigger(t, c, job.Spec{Name: "broken", Target: "broken", Retries: 1, RetryBackoff: job.Duration(50 * time.Millisecond)})
	runs = pinktest.RequireRuns(t, c, "broken", 2, "")
	if len(runs) != 2 || runs[1].Attempt != 2 || runs[1].Status != snapshot.StatusFailed {
		t.Fatalf("broken runs = %+v", runs)
	}
	// No third attempt: nothing stays live for the job.
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, err := store.New(c.Etcd.Client, c.Root).ListLive(context.Background(), "", "broken")
		return err == nil && len(live) == 0, fmt.Sprintf("%d live snapshots", len(live))
	})
}
