package scheduler_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// TestPendingUntilTargetAdvertised: a fire whose target no live worker of
// the group runs (a typo: "record" where the worker runs "other") is not
// handed to that worker to fail: it stays pending, unassigned, with no run
// in history, while the same worker runs the group's other work. Once a
// worker that advertises the target registers, the fire runs there, once.
// The leader says why a cron fire waits, naming the target and what the
// live workers run.
func TestPendingUntilTargetAdvertised(t *testing.T) {
	tests := []struct {
		name string
		// write makes the fire of the job typo, of target "record".
		write func(t *testing.T, c *pinktest.Cluster, st *store.Store)
		// notice is whether the leader warns (it does when it writes a
		// fire pending; a manual trigger is written pending by the API).
		notice bool
	}{
		{"cron fire", func(t *testing.T, c *pinktest.Cluster, st *store.Store) {
			// forbid: the pending fire is live, so later fires are skipped
			// until it has run; pausing then keeps the history at one run.
			c.CreateJob(t, job.Spec{Name: "typo", Group: "g", Schedule: "* * * * * *", Target: "record", Concurrency: job.ConcurrencyForbid})
			waitPending(t, st, "typo")
			pause(t, st, "typo")
		}, true},
		{"manual trigger", func(t *testing.T, c *pinktest.Cluster, st *store.Store) {
			trigger(t, c, job.Spec{Name: "typo", Group: "g", Target: "record"})
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := pinktest.NewCluster(t)
			st := store.New(c.Etcd.Client, "")
			logs := &pinktest.Buffer{}
			c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) {
				o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			})
			ok := func(context.Context, worker.Run) (string, error) { return "ran", nil }
			a := c.StartWorker(t, "g", map[string]worker.Handler{"other": ok}, func(cfg *worker.Config) { cfg.Name = "a" })

			// A run of the control job shows that the leader knows a.
			control := trigger(t, c, job.Spec{Name: "control", Group: "g", Target: "other"})
			pinktest.RequireRuns(t, c, "control", 1, snapshot.StatusSucceeded)

			tc.write(t, c, st)
			pending := waitPending(t, st, "typo")
			// A later snapshot of the group dispatched and run: the leader
			// has had the typo's pending snapshot in view and left it.
			c.Trigger(t, control)
			pinktest.RequireRuns(t, c, "control", 2, snapshot.StatusSucceeded)
			live, err := st.ListLive(context.Background(), "g", "typo")
			if err != nil || len(live) != 1 || live[0].ID != pending.ID || live[0].State != snapshot.StatePending || live[0].Client != "" {
				t.Fatalf("typo's live snapshots = %+v (%v), want %s pending on no client", live, err, pending.ID)
			}
			if runs := c.Runs(t, "typo"); len(runs) != 0 {
				t.Fatalf("typo has runs before a worker runs its target: %s", describe(runs, map[string]string{a.ID(): "a"}))
			}
			notice := regexp.MustCompile(`level=WARN msg="no live worker of the group runs the job's target; snapshot pending until one that does registers" .*` +
				`job_name=typo group=g target=record live_workers_run=other snapshot_id=` + regexp.QuoteMeta(pending.ID) + ` also_pending_since_last_notice=0`)
			if got := notice.MatchString(logs.String()); got != tc.notice {
				t.Errorf("leader's warning that no worker runs the target: %v, want %v; log:\n%s", got, tc.notice, logs.String())
			}

			b := c.StartWorker(t, "g", map[string]worker.Handler{"record": ok}, func(cfg *worker.Config) { cfg.Name = "b" })
			runs := pinktest.RequireRuns(t, c, "typo", 1, "")
			got := describe(runs, map[string]string{a.ID(): "a", b.ID(): "b"})
			if want := []string{fmt.Sprintf("1 %s succeeded b", pending.Trigger)}; fmt.Sprint(got) != fmt.Sprint(want) || runs[0].SnapshotID != pending.ID {
				t.Errorf("typo's history = %q of %s, want %q of %s", got, runs[0].SnapshotID, want, pending.ID)
			}
		})
	}
}

// waitPending waits for the one pending snapshot of a job and returns it.
func waitPending(t *testing.T, st *store.Store, name string) snapshot.Live {
	t.Helper()
	var live []snapshot.Live
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		var err error
		live, err = st.ListLive(context.Background(), "", name)
		return err == nil && len(live) == 1 && live[0].State == snapshot.StatePending, fmt.Sprintf("live snapshots of %s: %+v %v", name, live, err)
	})
	return live[0]
}
