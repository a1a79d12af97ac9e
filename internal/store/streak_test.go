package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestFailureStreak: the fires a job failed in a row, newest first, each
// fire by its newest attempt; canceled runs pass; a success ends it; a
// streak longer than the rows read counts as their number.
func TestFailureStreak(t *testing.T) {
	ctx := context.Background()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	// Each history is the fires oldest first; a fire is its attempts'
	// statuses joined by "+" (e.g. failed+succeeded: the retry succeeded).
	for _, tc := range []struct {
		name    string
		history string
		want    int
	}{
		{"never ran", "", 0},
		{"last succeeded", "failed failed succeeded", 0},
		{"three failures after a success", "succeeded failed timed_out lost", 3},
		{"a retry made the last good", "failed failed failed+succeeded", 0},
		{"the retry failed too", "succeeded failed+failed failed+failed", 2},
		{"canceled runs pass", "succeeded failed canceled failed", 2},
		{"only failures", "failed failed failed failed", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			var runs []snapshot.Run
			for i, fire := range strings.Fields(tc.history) {
				for a, s := range strings.Split(fire, "+") {
					r := run(name, "g", i*10, snapshot.Status(s))
					r.Attempt = a + 1
					r.ID = snapshot.RunID(r.SnapshotID, r.Attempt)
					runs = append(runs, r)
				}
			}
			if err := st.RecordRuns(ctx, runs); err != nil {
				t.Fatal(err)
			}
			if n, err := st.FailureStreak(ctx, name); err != nil || n != tc.want {
				t.Errorf("streak of %q: %d, %v; want %d", tc.history, n, err, tc.want)
			}
		})
	}

	var long []snapshot.Run
	for i := range store.StreakRows + 20 {
		long = append(long, run("long", "g", i, snapshot.StatusFailed))
	}
	if err := st.RecordRuns(ctx, long); err != nil {
		t.Fatal(err)
	}
	if n, err := st.FailureStreak(ctx, "long"); err != nil || n != store.StreakRows {
		t.Errorf("a streak of %d: counted %d, %v; want %d (the rows read)", len(long), n, err, store.StreakRows)
	}
	if n, err := st.FailureStreak(ctx, "no-such-job"); err != nil || n != 0 {
		t.Errorf("unknown job: %d %v", n, err)
	}
}
