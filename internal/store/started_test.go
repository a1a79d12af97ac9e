package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// claimedAhead writes the fire of spec at `at` ahead of it, assigned to c,
// and claims it half a second before at: it returns the claimed snapshot
// (ModRevision its claim's).
func claimedAhead(t *testing.T, st *store.Store, fence store.Fence, spec job.Spec, c cluster.Client, at time.Time) snapshot.Live {
	t.Helper()
	ctx := context.Background()
	f := fireAt(spec, at, &c)
	f.Placements[0].Snapshot.WrittenAhead = true
	f.Placements[0].Snapshot.JobRevision = spec.Revision
	res, err := st.WriteFire(ctx, fence, f, at.Add(-2*time.Second))
	if err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("fire at %s: %v %v", at, res.Outcome, err)
	}
	l := res.Written[0]
	rev, err := st.Claim(ctx, c, l, at.Add(-500*time.Millisecond))
	if err != nil {
		t.Fatalf("claim ahead: %v", err)
	}
	got, err := st.GetAssignment(ctx, c.Group, c.ID, l.ID)
	if err != nil || got.ModRevision != rev || got.State != snapshot.StateRunning || !got.ClaimedAhead ||
		got.StartedAt == nil || !got.StartedAt.Equal(at) {
		t.Fatalf("claimed ahead: %+v %v; want running since %s, claimed ahead, at revision %d", got, err, at, rev)
	}
	return got
}

func startMark(t *testing.T, st *store.Store, c cluster.Client) time.Time {
	t.Helper()
	mark, ok, err := st.StartMark(context.Background(), c.Group, c.ID)
	if err != nil || !ok {
		t.Fatalf("start mark of %s: %v %v", c.ID, ok, err)
	}
	return mark
}

// TestStartAhead: a fire claimed ahead starts only through its client's
// start mark, and the mark decides every race around it. Started first, it
// can no longer be taken back or moved as unstarted; taken back first, it
// no longer starts; its job edited first, it does not start and goes back
// unclaimed; its client gone, the mark stays as it was and tells the
// leader exactly which runs claimed ahead had not started.
func TestStartAhead(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	c, other := register(t, e, st, "w1"), register(t, e, st, "w2")
	if m := startMark(t, st, c); !m.IsZero() {
		t.Fatalf("a new registration's start mark is %s, want zero", m)
	}
	t1, t2, t3 := t0.Add(10*time.Second), t0.Add(11*time.Second), t0.Add(12*time.Second)
	takeBack := func(l snapshot.Live) store.MoveOutcome {
		t.Helper()
		out, _, err := st.TakeBack(ctx, fence, spec.Name, spec.Revision, []snapshot.Live{l}, l.ScheduledAt.Add(-time.Nanosecond), counts.Job{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	// Started first: the take-back is refused.
	l1 := claimedAhead(t, st, fence, spec, c, t1)
	if err := st.StartAhead(ctx, c, []snapshot.Live{l1}, t1); err != nil {
		t.Fatalf("start at %s: %v", t1, err)
	}
	if m := startMark(t, st, c); !m.Equal(t1) {
		t.Fatalf("start mark %s, want %s", m, t1)
	}
	if out := takeBack(l1); out != store.MoveSnapshotChanged {
		t.Fatalf("take-back of a started run claimed ahead: %s, want snapshot_changed", out)
	}
	if res, err := st.Move(ctx, fence, l1, nil, &store.Placement{Snapshot: l1.Snapshot, Client: &other}, t1); err != nil || res.Outcome != store.MoveSnapshotChanged {
		t.Fatalf("move of a started run claimed ahead as unstarted: %v %v, want snapshot_changed", res.Outcome, err)
	}

	// Taken back first: its start is refused.
	l2 := claimedAhead(t, st, fence, spec, c, t2)
	if out := takeBack(l2); out != store.Moved {
		t.Fatalf("take-back of an unstarted run claimed ahead: %s, want moved", out)
	}
	if err := st.StartAhead(ctx, c, []snapshot.Live{l2}, t2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("start of a run taken back: %v, want ErrConflict", err)
	}
	if m := startMark(t, st, c); !m.Equal(t1) {
		t.Fatalf("start mark %s after a refused start, want %s", m, t1)
	}

	// Its job edited first: its start is refused, and it goes back
	// dispatched, unclaimed, for the leader to take back.
	l3 := claimedAhead(t, st, fence, spec, c, t3)
	edited := spec
	edited.Params = []byte(`{"v":2}`)
	if _, err := st.UpdateJob(ctx, edited, spec.Group, spec.Revision, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := st.StartAhead(ctx, c, []snapshot.Live{l3}, t3); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("start of a run whose job changed: %v, want ErrConflict", err)
	}
	if err := st.Unclaim(ctx, c.ID, l3); err != nil {
		t.Fatal(err)
	}
	back, err := st.GetAssignment(ctx, c.Group, c.ID, l3.ID)
	if err != nil || back.State != snapshot.StateDispatched || back.ClaimedAhead || back.StartedAt != nil {
		t.Fatalf("given back: %+v %v; want dispatched, unclaimed", back, err)
	}
	if err := st.Unclaim(ctx, c.ID, l3); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second unclaim: %v, want ErrConflict", err)
	}
}

// TestStartMarkMonotonic: starts committed out of order leave the later
// time, so a run started at t2 never looks unstarted again.
func TestStartMarkMonotonic(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	c := register(t, e, st, "w1")
	t1, t2 := t0.Add(10*time.Second), t0.Add(11*time.Second)
	l1, l2 := claimedAhead(t, st, fence, spec, c, t1), claimedAhead(t, st, fence, spec, c, t2)
	if err := st.StartAhead(ctx, c, []snapshot.Live{l2}, t2); err != nil {
		t.Fatal(err)
	}
	if err := st.StartAhead(ctx, c, []snapshot.Live{l1}, t1); err != nil {
		t.Fatal(err)
	}
	if m := startMark(t, st, c); !m.Equal(t2) {
		t.Fatalf("start mark %s after starts at %s then %s, want %s", m, t2, t1, t2)
	}
	// Re-registering (draining) keeps the mark.
	lease, err := e.Client.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	draining := c
	draining.Draining = true
	if _, err := st.RegisterClient(ctx, lease.ID, draining); err != nil {
		t.Fatal(err)
	}
	if m := startMark(t, st, c); !m.Equal(t2) {
		t.Fatalf("start mark %s after a second registration write, want %s", m, t2)
	}
}

// TestStartMarkOfGoneClient: once its registration is gone a client can
// start nothing more, its mark stays for the leader to read, the runs it
// claimed ahead past the mark move as unstarted, and the mark goes only
// once the client is gone.
func TestStartMarkOfGoneClient(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	c := register(t, e, st, "w1")
	other := register(t, e, st, "w2")
	t1, t2 := t0.Add(10*time.Second), t0.Add(11*time.Second)
	l1, l2 := claimedAhead(t, st, fence, spec, c, t1), claimedAhead(t, st, fence, spec, c, t2)
	if err := st.StartAhead(ctx, c, []snapshot.Live{l1}, t1); err != nil {
		t.Fatal(err)
	}
	owner := []store.StartMarkOwner{{Group: c.Group, Client: c.ID}}
	if err := st.DeleteStartMarks(ctx, fence, owner); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete of a registered client's mark: %v, want ErrConflict", err)
	}
	if _, err := e.Client.Delete(ctx, "/pink/client/g/instances/w1"); err != nil {
		t.Fatal(err)
	}
	if err := st.StartAhead(ctx, c, []snapshot.Live{l2}, t2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("start by a gone client: %v, want ErrConflict", err)
	}
	if m := startMark(t, st, c); !m.Equal(t1) {
		t.Fatalf("gone client's mark %s, want %s", m, t1)
	}
	res, err := st.Move(ctx, fence, l2, nil, &store.Placement{Snapshot: l2.Snapshot, Client: &other}, t1)
	if err != nil || res.Outcome != store.Moved || res.Live.State != snapshot.StateDispatched || res.Live.ClaimedAhead || res.Live.Client != "w2" {
		t.Fatalf("move of the unstarted run claimed ahead: %v %+v %v; want moved to w2, dispatched", res.Outcome, res.Live, err)
	}
	owners, err := st.ListStartMarks(ctx)
	if err != nil || len(owners) != 2 {
		t.Fatalf("start marks %v %v, want w1's and w2's", owners, err)
	}
	if err := st.DeleteStartMarks(ctx, fence, owner); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.StartMark(ctx, c.Group, c.ID); ok || err != nil {
		t.Fatalf("mark of w1 after delete: %v %v", ok, err)
	}
}

// TestStartAheadFast: the one start transaction of an instant holds while
// no job changed and no claim of the client was revoked since the
// earliest claim it starts, whatever the number of runs; after an edit of
// any job, or a take-back of any of the client's runs claimed ahead, it is
// refused and the per-run start decides.
func TestStartAheadFast(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	c := register(t, e, st, "w1")
	other := spec
	other.Name = "tock"
	other, err := st.CreateJob(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	t1, t2, t3 := t0.Add(10*time.Second), t0.Add(11*time.Second), t0.Add(12*time.Second)

	l1 := claimedAhead(t, st, fence, spec, c, t1)
	if err := st.StartAheadFast(ctx, c, l1.ModRevision, t1); err != nil {
		t.Fatalf("fast start with nothing changed: %v", err)
	}
	if m := startMark(t, st, c); !m.Equal(t1) {
		t.Fatalf("start mark %s, want %s", m, t1)
	}

	// An edit of another job since the claim: refused; the per-run start
	// of the run, whose own job did not change, holds.
	l2 := claimedAhead(t, st, fence, spec, c, t2)
	edited := other
	edited.Params = []byte(`{"v":2}`)
	if _, err := st.UpdateJob(ctx, edited, other.Group, other.Revision, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := st.StartAheadFast(ctx, c, l2.ModRevision, t2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("fast start after a job edit: %v, want ErrConflict", err)
	}
	if m := startMark(t, st, c); !m.Equal(t1) {
		t.Fatalf("start mark %s after a refused fast start, want %s", m, t1)
	}
	if err := st.StartAhead(ctx, c, []snapshot.Live{l2}, t2); err != nil {
		t.Fatalf("per-run start: %v", err)
	}

	// A take-back of one of the client's runs claimed ahead since the
	// claim: refused.
	l3 := claimedAhead(t, st, fence, spec, c, t3)
	l4 := claimedAhead(t, st, fence, spec, c, t3.Add(time.Second))
	if out, _, err := st.TakeBack(ctx, fence, spec.Name, spec.Revision, []snapshot.Live{l4}, l4.ScheduledAt.Add(-time.Nanosecond), counts.Job{}); err != nil || out != store.Moved {
		t.Fatalf("take-back: %v %v", out, err)
	}
	if err := st.StartAheadFast(ctx, c, l3.ModRevision, t3); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("fast start after a take-back: %v, want ErrConflict", err)
	}
	if err := st.StartAhead(ctx, c, []snapshot.Live{l3}, t3); err != nil {
		t.Fatalf("per-run start of the run not taken back: %v", err)
	}
	if m := startMark(t, st, c); !m.Equal(t3) {
		t.Fatalf("start mark %s, want %s", m, t3)
	}
}
