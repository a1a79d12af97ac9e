package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// run is a finished run of job in group at t0 plus sec seconds.
func run(job, group string, sec int, status snapshot.Status) snapshot.Run {
	return runAt(job, group, t0.Add(time.Duration(sec)*time.Second), status)
}

// runAt is a finished run of job in group at nominal time at.
func runAt(job, group string, at time.Time, status snapshot.Status) snapshot.Run {
	id := snapshot.CronID(job, at)
	return snapshot.Run{ID: snapshot.RunID(id, 1), SnapshotID: id, Job: job, Group: group, Attempt: 1,
		Status: status, Trigger: snapshot.TriggerCron, ScheduledAt: at, StartedAt: &at, FinishedAt: at.Add(time.Second)}
}

func ids(runs []snapshot.Run) []string {
	out := []string{}
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

// all pages through ListRunsAcross with page size limit.
func all(t *testing.T, st *store.Store, f store.RunFilter, limit int) (got []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		page, err := st.ListRunsAcross(context.Background(), f, limit, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, ids(page.Runs)...)
		if cursor = page.Next; cursor == "" {
			return got, pages
		}
	}
}

// TestListRunsAcross: runs of every job, newest nominal time first, by
// group, status and time, paged without a gap or a repeat; a trim takes
// the index entries with the rows.
func TestListRunsAcross(t *testing.T) {
	ctx := context.Background()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	runs := []snapshot.Run{
		run("a", "g1", 0, snapshot.StatusSucceeded), run("b", "g2", 1, snapshot.StatusFailed),
		run("a", "g1", 2, snapshot.StatusFailed), run("c", "g2", 2, snapshot.StatusSucceeded),
		run("b", "g2", 3, snapshot.StatusSucceeded), run("a", "g1", 4, snapshot.StatusSucceeded),
		run("c", "g2", 5, snapshot.StatusTimedOut),
	}
	if err := st.RecordRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	id := func(job string, sec int) string { return run(job, "", sec, "").ID }
	newestFirst := []string{id("c", 5), id("a", 4), id("b", 3), id("a", 2), id("c", 2), id("b", 1), id("a", 0)}
	for _, c := range []struct {
		name string
		f    store.RunFilter
		want []string
	}{
		{"everything", store.RunFilter{}, newestFirst},
		{"group", store.RunFilter{Group: "g2"}, []string{id("c", 5), id("b", 3), id("c", 2), id("b", 1)}},
		{"status", store.RunFilter{Status: snapshot.StatusFailed}, []string{id("a", 2), id("b", 1)}},
		{"group and status", store.RunFilter{Group: "g1", Status: snapshot.StatusSucceeded}, []string{id("a", 4), id("a", 0)}},
		{"since and until, both included", store.RunFilter{Since: t0.Add(time.Second), Until: t0.Add(3 * time.Second)},
			[]string{id("b", 3), id("a", 2), id("c", 2), id("b", 1)}},
		{"nothing", store.RunFilter{Group: "g3"}, []string{}},
	} {
		for _, limit := range []int{1, 2, 3, 100} {
			got, _ := all(t, st, c.f, limit)
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s, pages of %d: %v, want %v", c.name, limit, got, c.want)
			}
		}
	}
	// A trim of a's history takes its index entries too.
	_, fence := campaign(t, e.Client, st, "leader")
	if n, err := st.TrimHistory(ctx, fence, "a", 1, time.Time{}); err != nil || n != 2 {
		t.Fatalf("TrimHistory = %d, %v; want 2 rows", n, err)
	}
	got, _ := all(t, st, store.RunFilter{}, 100)
	if want := []string{id("c", 5), id("a", 4), id("b", 3), id("c", 2), id("b", 1)}; !slices.Equal(got, want) {
		t.Errorf("after the trim: %v, want %v", got, want)
	}
	if n, err := st.RunIndexSize(ctx); err != nil || n != 5 {
		t.Errorf("index holds %d entries (%v), history 5", n, err)
	}
}

// A filter that matches only the oldest of more runs than one request
// scans answers with empty pages and cursors, then finds it.
func TestListRunsAcrossBoundsTheScan(t *testing.T) {
	ctx := context.Background()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	runs := []snapshot.Run{run("rare", "g2", 0, snapshot.StatusFailed)}
	for i := range store.MaxIndexScan + 50 {
		runs = append(runs, run(fmt.Sprintf("busy-%d", i%40), "g1", 1+i/40, snapshot.StatusSucceeded))
	}
	if err := st.RecordRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	page, err := st.ListRunsAcross(ctx, store.RunFilter{Group: "g2"}, 50, "")
	if err != nil || len(page.Runs) != 0 || page.Next == "" {
		t.Fatalf("first page: %d runs, next %q, %v; want none and a cursor (the scan is bounded)", len(page.Runs), page.Next, err)
	}
	got, pages := all(t, st, store.RunFilter{Group: "g2"}, 50)
	if !slices.Equal(got, []string{runs[0].ID}) || pages != 2 {
		t.Errorf("g2: %v in %d pages, want %s in 2", got, pages, runs[0].ID)
	}
}
