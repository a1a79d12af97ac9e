package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestBatchesAreAllOrNothing: the batched fire, claim and result writes
// hold every compare of their one-at-a-time forms, and a batch with one
// stale member writes nothing at all.
func TestBatchesAreAllOrNothing(t *testing.T) {
	e, st, tick := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	tock := job.Spec{Name: "tock", Group: "g", Schedule: "* * * * * *", Target: "noop", CreatedAt: t0}
	tock.ApplyDefaults()
	if n, err := st.CreateJobs(ctx, []job.Spec{tock}); err != nil || n != 1 {
		t.Fatalf("create tock: %d %v", n, err)
	}
	tock, err := st.GetJob(ctx, "tock")
	if err != nil {
		t.Fatal(err)
	}
	w1 := register(t, e, st, "w1")
	t1, t2 := t0.Add(time.Second), t0.Add(2*time.Second)

	unchanged := func(step string, f func()) {
		t.Helper()
		rev := e.Revision(t)
		f()
		if got := e.Revision(t); got != rev {
			t.Fatalf("%s wrote: revision %d -> %d", step, rev, got)
		}
	}

	// A batch with one fire already written (tock@t1 twice) writes nothing,
	// not even the fresh fire of tick.
	res, err := st.WriteFires(ctx, fence, []store.Fire{fireAt(tick, t1, &w1), fireAt(tock, t1, &w1)}, t1)
	if err != nil || len(res) != 2 || res[0].Outcome != store.FireWritten || res[1].Outcome != store.FireWritten || res[0].Revision != res[1].Revision {
		t.Fatalf("fire batch: %+v %v", res, err)
	}
	unchanged("a batch repeating a fire", func() {
		res, err := st.WriteFires(ctx, fence, []store.Fire{fireAt(tick, t2, &w1), fireAt(tock, t1, &w1)}, t2)
		if err != nil || res != nil {
			t.Fatalf("batch repeating tock@t1: %+v %v, want nil results", res, err)
		}
	})
	if cur, _ := st.Cursor(ctx, "tick"); !cur.Equal(t1) {
		t.Fatalf("tick cursor = %s after a refused batch, want %s", cur, t1)
	}
	if res, err := st.WriteFires(ctx, fence, []store.Fire{fireAt(tick, t2, &w1)}, t2); err != nil || res == nil {
		t.Fatalf("fire tick@t2: %+v %v", res, err)
	}

	live, err := st.ListLive(ctx, "g", "")
	if err != nil || len(live) != 3 {
		t.Fatalf("live = %+v %v, want 3 assignments", live, err)
	}
	// Claims: all or nothing too.
	rev, err := st.ClaimMany(ctx, w1, live, t2)
	if err != nil {
		t.Fatalf("claim batch: %v", err)
	}
	unchanged("a repeated claim batch", func() {
		if _, err := st.ClaimMany(ctx, w1, live[:2], t2); err != store.ErrConflict {
			t.Fatalf("claiming claimed snapshots: %v, want ErrConflict", err)
		}
	})

	// Results: two runs of tick (finishing out of order) and one of tock.
	finish := map[string]time.Time{
		"tick@20261126T120001Z": t0.Add(9 * time.Second), "tick@20261126T120002Z": t0.Add(7 * time.Second),
		"tock@20261126T120001Z": t0.Add(8 * time.Second),
	}
	var cs []store.Completion
	for _, l := range live {
		status := snapshot.StatusSucceeded
		if l.Job == "tock" {
			status = snapshot.StatusFailed
		}
		cs = append(cs, store.Completion{ClaimRev: rev, Run: l.Finish(status, "", "", finish[l.ID])})
	}
	unchanged("a result batch with a stale claim", func() {
		stale := slices.Clone(cs)
		stale[1].ClaimRev--
		if err := st.CompleteMany(ctx, "w1", stale); err != store.ErrConflict {
			t.Fatalf("stale result batch: %v, want ErrConflict", err)
		}
	})
	if err := st.CompleteMany(ctx, "w1", cs); err != nil {
		t.Fatalf("result batch: %v", err)
	}
	if live, err := st.ListLive(ctx, "g", ""); err != nil || len(live) != 0 {
		t.Fatalf("live after results = %+v %v, want none", live, err)
	}
	for name, want := range map[string]int{"tick": 2, "tock": 1} {
		page, err := st.ListRuns(ctx, name, "", 10, "")
		if err != nil || len(page.Runs) != want {
			t.Fatalf("%s history = %+v %v, want %d runs", name, page.Runs, err, want)
		}
	}
	for key, want := range map[string]time.Time{
		"/pink/job/last/tick/success": t0.Add(9 * time.Second), "/pink/job/last/tock/failure": t0.Add(8 * time.Second),
	} {
		resp, err := e.Client.Get(ctx, key)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("get %s: %v", key, err)
		}
		if got, err := cursor.ParseStamp(string(resp.Kvs[0].Value)); err != nil || !got.Equal(want) {
			t.Fatalf("%s = %s %v, want %s (the latest finish)", key, got, err, want)
		}
	}
}

// TestDropOrphanBackfill: a backfill is dropped only once its job is gone,
// whatever the leader's (possibly late) view of the jobs says.
func TestDropOrphanBackfill(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	b := snapshot.Backfill{ID: "b1", Job: spec.Name, Fires: []time.Time{t0}, CreatedAt: t0}
	if err := st.CreateBackfill(ctx, b); err != nil {
		t.Fatal(err)
	}
	key := "/pink/schedule/backfills/b1"
	resp, err := e.Client.Get(ctx, key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("backfill not stored: %v", err)
	}
	b.ModRevision = resp.Kvs[0].ModRevision
	if dropped, err := st.DropOrphanBackfill(ctx, fence, b); err != nil || dropped {
		t.Fatalf("drop while the job exists: %v %v, want not dropped", dropped, err)
	}
	if err := st.DeleteJob(ctx, spec.Name, t0); err != nil {
		t.Fatal(err)
	}
	if dropped, err := st.DropOrphanBackfill(ctx, fence, b); err != nil || !dropped {
		t.Fatalf("drop after the job is gone: %v %v, want dropped", dropped, err)
	}
	if keys := e.Keys(t, key); len(keys) != 0 {
		t.Fatalf("backfill left: %v", keys)
	}
}
