package scheduler_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

func TestMain(m *testing.M) { pinktest.Main(m) }

// recorder is an SDK handler that records the nominal time of every call.
type recorder struct {
	mu    sync.Mutex
	calls []time.Time
}

func (r *recorder) handle(_ context.Context, run worker.Run) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, run.ScheduledAt)
	return "ran " + run.SnapshotID, nil
}

func (r *recorder) get() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// checkConsecutive asserts that runs hold exactly one succeeded run per
// second, with no gap and no duplicate, and returns their nominal times.
func checkConsecutive(t *testing.T, runs []snapshot.Run) []time.Time {
	t.Helper()
	var at []time.Time
	for _, r := range runs {
		if r.Status != snapshot.StatusSucceeded || r.Attempt != 1 {
			t.Errorf("run %s: status %s attempt %d, want succeeded attempt 1 (error %q)", r.ID, r.Status, r.Attempt, r.Error)
		}
		at = append(at, r.ScheduledAt)
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	for i := 1; i < len(at); i++ {
		if d := at[i].Sub(at[i-1]); d != time.Second {
			t.Errorf("scheduled_at %s then %s: step %s, want exactly 1s", at[i-1].Format(time.RFC3339), at[i].Format(time.RFC3339), d)
		}
	}
	return at
}

// TestEverySecondJob: a job firing every second runs once per nominal
// second, on time, with no duplicate — checked both in history and in the
// handler's own record of calls.
func TestEverySecondJob(t *testing.T) {
	c := pinktest.NewCluster(t)
	rec := &recorder{}
	c.CreateJob(t, job.Spec{Name: "tick", Group: "g", Schedule: "* * * * * *", Target: "record"})
	c.StartScheduler(t, "node-1")
	stopWorker := c.StartWorker(t, "g", map[string]worker.Handler{"record": rec.handle}).Stop

	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		n := len(c.Runs(t, "tick"))
		return n >= 4, fmt.Sprintf("%d runs in history", n)
	})
	// Runs in flight when the worker stops are finished by its drain, so
	// afterwards every call has its history row and vice versa.
	stopWorker()
	calls := rec.get()
	sort.Slice(calls, func(i, j int) bool { return calls[i].Before(calls[j]) })
	runs := c.Runs(t, "tick")
	at := checkConsecutive(t, runs)
	ahead := 0
	if !slices.EqualFunc(at, calls, time.Time.Equal) {
		t.Errorf("handler calls %v differ from history %v", calls, at)
	}
	for _, r := range runs {
		if r.Trigger != snapshot.TriggerCron || r.Output != "ran "+r.SnapshotID {
			t.Errorf("run %s: trigger %s output %q", r.ID, r.Trigger, r.Output)
		}
		if lag := r.StartedAt.Sub(r.ScheduledAt); lag < 0 {
			t.Errorf("run %s started %s before its nominal time", r.ID, -lag)
		}
		if r.DispatchedAt.Before(r.ScheduledAt) {
			ahead++
		}
	}
	// After the first, each fire is written within the lookahead before
	// its nominal time.
	if ahead < len(runs)-1 {
		t.Errorf("%d of %d runs were dispatched ahead of their nominal time, want at least %d", ahead, len(runs), len(runs)-1)
	}
}

// TestPendingUntilClientRegisters: with no live client the fires stay
// pending, and they run as soon as a client of the group registers.
func TestPendingUntilClientRegisters(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	rec := &recorder{}
	c.CreateJob(t, job.Spec{Name: "tick", Group: "lonely", Schedule: "* * * * * *", Target: "record", Misfire: job.MisfireRunAll})
	c.StartScheduler(t, "node-1")

	var pending []snapshot.Live
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		var err error
		pending, err = st.ListLive(context.Background(), "lonely", "")
		if err != nil {
			return false, err.Error()
		}
		return len(pending) >= 2, fmt.Sprintf("%d live snapshots", len(pending))
	})
	for _, l := range pending {
		if l.State != snapshot.StatePending || l.Client != "" {
			t.Fatalf("snapshot %s is %s on %q before any client exists", l.ID, l.State, l.Client)
		}
	}

	c.StartWorker(t, "lonely", map[string]worker.Handler{"record": rec.handle})
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		for _, l := range pending {
			r, err := st.GetRun(context.Background(), snapshot.RunID(l.ID, 1))
			if err != nil || r.Status != snapshot.StatusSucceeded {
				return false, fmt.Sprintf("run of pending %s: %v %v", l.ID, r.Status, err)
			}
		}
		return true, ""
	})
}
