package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestRunStats: runs land in the bucket of their nominal time, counted by
// status, with their durations sorted; filters by job and group; a range
// past the scan bound says it is truncated.
func TestRunStats(t *testing.T) {
	ctx := context.Background()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	var runs []snapshot.Run
	add := func(job, group string, sec int, status snapshot.Status, d float64) {
		r := run(job, group, sec, status)
		r.DurationSeconds = d
		runs = append(runs, r)
	}
	// Minute 0: four runs of a (g1), one of b (g2); minute 2: one of a.
	for i, d := range []float64{0.4, 0.1, 0.3, 0.2} {
		add("a", "g1", i*10, snapshot.StatusSucceeded, d)
	}
	add("b", "g2", 5, snapshot.StatusFailed, 2.5)
	add("a", "g1", 125, snapshot.StatusTimedOut, 9)
	add("a", "g1", 200, snapshot.StatusSucceeded, 1) // past To
	if err := st.RecordRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	q := store.StatsQuery{From: t0, To: t0.Add(3 * time.Minute), Step: time.Minute}
	summary := func(bs []store.StatsBucket) string {
		out := ""
		for _, b := range bs {
			out += fmt.Sprintf("[%s %v %v]", b.Start.Format("15:04"), b.Runs, b.Durations)
		}
		return out
	}
	for _, c := range []struct {
		job, group, want string
	}{
		{"", "", "[12:00 map[failed:1 succeeded:4] [0.1 0.2 0.3 0.4 2.5]][12:01 map[] []][12:02 map[timed_out:1] [9]]"},
		{"a", "", "[12:00 map[succeeded:4] [0.1 0.2 0.3 0.4]][12:01 map[] []][12:02 map[timed_out:1] [9]]"},
		{"", "g2", "[12:00 map[failed:1] [2.5]][12:01 map[] []][12:02 map[] []]"},
	} {
		q.Job, q.Group = c.job, c.group
		bs, _, truncated, err := st.RunStats(ctx, q, 1000)
		if err != nil || truncated || summary(bs) != c.want {
			t.Errorf("job %q group %q: %s (truncated %v, %v)\nwant %s", c.job, c.group, summary(bs), truncated, err, c.want)
		}
	}
	// Read at most 2 entries: the newest two (12:02 and 12:00:30), and it
	// says so.
	q.Job, q.Group = "", ""
	bs, oldest, truncated, err := st.RunStats(ctx, q, 2)
	if err != nil || !truncated || !oldest.Equal(t0.Add(30*time.Second)) || bs[2].Runs[snapshot.StatusTimedOut] != 1 || bs[0].Runs[snapshot.StatusSucceeded] != 1 {
		t.Errorf("bounded: %s, oldest %s, truncated %v, %v", summary(bs), oldest, truncated, err)
	}
}
