package pinktest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// RunsTimeout is how long RequireRuns waits.
var RunsTimeout = 30 * time.Second

// RequireRuns waits until job has at least n runs with status (any status
// if status is "") in c's history and returns those runs, oldest nominal
// time first; it fails the test if they do not come within RunsTimeout.
func RequireRuns(t testing.TB, c *Cluster, jobName string, n int, status snapshot.Status) []snapshot.Run {
	t.Helper()
	var runs []snapshot.Run
	Eventually(t, RunsTimeout, func() (bool, string) {
		runs = runs[:0]
		for _, r := range c.Runs(t, jobName) {
			if status == "" || r.Status == status {
				runs = append(runs, r)
			}
		}
		return len(runs) >= n, fmt.Sprintf("%d runs of %s with status %q, want %d", len(runs), jobName, status, n)
	})
	slices.Reverse(runs)
	return runs
}

// RequireNoDuplicates fails the test if runs hold one attempt twice, or two
// runs of one scheduled fire (the same job, nominal time and shard, fired
// by its schedule): what pink promises never happens.
func RequireNoDuplicates(t testing.TB, runs []snapshot.Run) {
	t.Helper()
	type fire struct {
		job   string
		at    time.Time
		shard int
	}
	attempts := map[string]bool{}
	fires := map[fire]string{}
	for _, r := range runs {
		if attempts[r.ID] {
			t.Errorf("run %s is in history twice", r.ID)
		}
		attempts[r.ID] = true
		if r.Trigger != snapshot.TriggerCron && r.Trigger != snapshot.TriggerCatchup || r.Attempt != 1 {
			continue
		}
		f := fire{r.Job, r.ScheduledAt.UTC(), r.ShardIndex}
		if prev, dup := fires[f]; dup {
			t.Errorf("%s fired twice for %s: %s and %s", r.Job, f.at.Format(time.RFC3339), prev, r.ID)
		}
		fires[f] = r.ID
	}
}
