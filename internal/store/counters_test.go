package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestCountsRideInCursor: the fire transaction stores the counts with the
// cursor and still compares times only: a fire at the stored time is
// refused even though its value (with other counts) would sort after it;
// an old-format cursor is advanced normally; pausing the job (the API's
// cursor move) keeps the counts.
func TestCountsRideInCursor(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	// The job's cursor is in the old format (written by CreateJob as a
	// bare time, as before counts existed).
	if v := e.Keys(t, "/pink/schedule/cursor/")["/pink/schedule/cursor/tick"]; v != cursor.Stamp(t0) {
		t.Fatalf("cursor of a new job %q", v)
	}
	t1 := t0.Add(time.Second)
	f := fireAt(spec, t1, nil)
	f.Counts = counts.Job{Fires: map[string]int64{"cron": 1}}
	if res, err := st.WriteFire(ctx, fence, f, t1); err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("fire over an old-format cursor: %v %v", res.Outcome, err)
	}
	again := fireAt(spec, t1, nil)
	again.Counts = counts.Job{Fires: map[string]int64{"cron": 9}}
	again.Placements[0].Snapshot.ID += "-other"
	res, err := st.WriteFire(ctx, fence, again, t1)
	if err != nil || res.Outcome != store.FireCursorAhead || !res.Cursor.Equal(t1) || res.CursorCounts.Fires["cron"] != 1 {
		t.Fatalf("second fire at the cursor's time: %v %v %v %+v", res.Outcome, err, res.Cursor, res.CursorCounts)
	}

	spec, err = st.GetJob(ctx, "tick")
	if err != nil {
		t.Fatal(err)
	}
	spec.Paused = true
	later := t0.Add(time.Hour)
	if _, err := st.UpdateJob(ctx, spec, spec.Group, spec.Revision, later); err != nil {
		t.Fatal(err)
	}
	at, c, err := st.CursorCounts(ctx, "tick")
	if err != nil || !at.Equal(later) || c.Fires["cron"] != 1 {
		t.Fatalf("cursor after pause: %v %+v %v, want %v with cron 1", at, c, err, later)
	}

	// Deleting the job deletes its counters with it.
	w := store.CountsWrite{Job: "tick", JobCounts: counts.Job{Lost: 1}}
	pending, err := st.ListLive(ctx, "", "tick")
	if err != nil || len(pending) != 1 {
		t.Fatalf("live snapshots %v %v", pending, err)
	}
	done := pending[0].Finish(snapshot.StatusCanceled, "", "test", t1)
	if res, err := st.Move(ctx, fence, pending[0], &done, nil, t1, w); err != nil || res.Outcome != store.Moved {
		t.Fatalf("move with counts: %v %v", res.Outcome, err)
	}
	if got, rev, err := st.ReadJobCounts(ctx, "tick"); err != nil || rev == 0 || got.Lost != 1 {
		t.Fatalf("job counts %+v rev %d %v", got, rev, err)
	}
	// A counters write at a stale revision is refused with its own outcome.
	t2 := later.Add(time.Second)
	spec, _ = st.GetJob(ctx, "tick")
	if res, err := st.WriteFire(ctx, fence, fireAt(spec, t2, nil), t2); err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("fire at %v: %v %v", t2, res.Outcome, err)
	}
	pending, err = st.ListLive(ctx, "", "tick")
	if err != nil || len(pending) != 1 {
		t.Fatalf("live snapshots %v %v", pending, err)
	}
	done = pending[0].Finish(snapshot.StatusCanceled, "", "test", t2)
	if res, err := st.Move(ctx, fence, pending[0], &done, nil, t2, w); err != nil || res.Outcome != store.MoveCountsChanged {
		t.Fatalf("move with stale counters: %v %v, want counts_changed", res.Outcome, err)
	}
	if err := st.DeleteJob(ctx, "tick", t1); err != nil {
		t.Fatal(err)
	}
	if keys := e.Keys(t, "/pink/counters/"); len(keys) != 0 {
		t.Errorf("counters left after the job's delete: %v", keys)
	}
}
