package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

func TestMain(m *testing.M) { pinktest.Main(m) }

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// setup stores a group and an every-second job created at t0.
func setup(t *testing.T) (*pinktest.Etcd, *store.Store, job.Spec) {
	t.Helper()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "/pink")
	ctx := context.Background()
	if err := st.CreateGroup(ctx, cluster.Group{Name: "g"}); err != nil {
		t.Fatal(err)
	}
	spec := job.Spec{Name: "tick", Group: "g", Schedule: "* * * * * *", Target: "noop", CreatedAt: t0}
	spec.ApplyDefaults()
	spec, err := st.CreateJob(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return e, st, spec
}

func campaign(t testing.TB, cli *clientv3.Client, st *store.Store, id string) (*concurrency.Session, store.Fence) {
	t.Helper()
	sess, key, rev := pinktest.Campaign(t, cli, st.ElectionPrefix(), id)
	return sess, store.Fence{Key: key, Rev: rev}
}

// register registers client id of group g under a fresh lease.
func register(t testing.TB, e *pinktest.Etcd, st *store.Store, id string) cluster.Client {
	t.Helper()
	ctx := context.Background()
	lease, err := e.Client.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	c := cluster.Client{ID: id, Group: "g", Capacity: 8}
	if c.CreateRevision, err = st.RegisterClient(ctx, lease.ID, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func fireAt(spec job.Spec, at time.Time, c *cluster.Client) store.Fire {
	snap := snapshot.Snapshot{ID: snapshot.CronID(spec.Name, at), Job: spec.Name, Group: spec.Group, Target: spec.Target,
		Trigger: snapshot.TriggerCron, Attempt: 1, ShardTotal: 1, ScheduledAt: at, CreatedAt: at}
	return store.Fire{Job: spec.Name, JobRevision: spec.Revision, Cursor: at, Placements: []store.Placement{{Snapshot: snap, Client: c}}}
}

// TestFencedFire shows guarantee 1 on the store's fire transaction: only
// the current leader writes, and a fire is written at most once, by any
// leader.
func TestFencedFire(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	sessA, fenceA := campaign(t, e.Client, st, "node-a")
	if want := fmt.Sprintf("/pink/node/election/%x", sessA.Lease()); fenceA.Key != want {
		t.Fatalf("election key %q, want %q", fenceA.Key, want)
	}
	if id, err := st.Leader(ctx); err != nil || id != "node-a" {
		t.Fatalf("leader = %q, %v; want node-a", id, err)
	}

	t1, t2 := t0.Add(time.Second), t0.Add(2*time.Second)
	res, err := st.WriteFire(ctx, fenceA, fireAt(spec, t1, nil), t1)
	if err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("leader's fire: %v %v", res.Outcome, err)
	}
	if cur, _ := st.Cursor(ctx, "tick"); !cur.Equal(t1) {
		t.Fatalf("cursor = %s, want %s", cur, t1)
	}
	live, err := st.ListLive(ctx, "g", "")
	if err != nil || len(live) != 1 || live[0].ID != "tick@20261126T120001Z" || live[0].State != snapshot.StatePending {
		t.Fatalf("live = %+v, %v; want one pending snapshot of the fire", live, err)
	}

	// The same fire again, by the same leader: refused, nothing written.
	rev := e.Revision(t)
	res, err = st.WriteFire(ctx, fenceA, fireAt(spec, t1, nil), t1)
	if err != nil || res.Outcome != store.FireCursorAhead || !res.Cursor.Equal(t1) {
		t.Fatalf("repeated fire: %+v %v, want cursor_ahead at %s", res, err, t1)
	}
	if got := e.Revision(t); got != rev {
		t.Fatalf("repeated fire wrote: revision %d -> %d", rev, got)
	}

	// The leader loses its session (its lease is revoked, as after a
	// partition): its next fire is refused although it does not know yet.
	if _, err := e.Client.Revoke(ctx, sessA.Lease()); err != nil {
		t.Fatal(err)
	}
	rev = e.Revision(t)
	res, err = st.WriteFire(ctx, fenceA, fireAt(spec, t2, nil), t2)
	if err != nil || res.Outcome != store.FireNotLeader {
		t.Fatalf("deposed leader's fire: %v %v, want not_leader", res.Outcome, err)
	}
	if got := e.Revision(t); got != rev {
		t.Fatalf("deposed leader wrote: revision %d -> %d", rev, got)
	}
	if cur, _ := st.Cursor(ctx, "tick"); !cur.Equal(t1) {
		t.Fatalf("cursor moved to %s by a deposed leader", cur)
	}

	// A new leader can neither repeat t1 nor be blocked by the old fence.
	_, fenceB := campaign(t, e.Client, st, "node-b")
	res, err = st.WriteFire(ctx, fenceB, fireAt(spec, t1, nil), t1)
	if err != nil || res.Outcome != store.FireCursorAhead {
		t.Fatalf("new leader repeating t1: %v %v, want cursor_ahead", res.Outcome, err)
	}
	res, err = st.WriteFire(ctx, fenceB, fireAt(spec, t2, nil), t2)
	if err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("new leader's fire: %v %v", res.Outcome, err)
	}
	live, _ = st.ListLive(ctx, "", "tick")
	var ids []string
	for _, l := range live {
		ids = append(ids, l.ID)
	}
	if want := []string{"tick@20261126T120001Z", "tick@20261126T120002Z"}; !slices.Equal(ids, want) {
		t.Fatalf("snapshots = %v, want %v", ids, want)
	}
}

// TestFireRefusedOnLiveSnapshot: the fire transaction compares on the
// snapshot itself, not only on the cursor: a snapshot that is live (pending
// or on a client) is never written twice, even under a rewound cursor, and a
// forbid fire is refused while any run of the job is live.
func TestFireRefusedOnLiveSnapshot(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	c := register(t, e, st, "w1")

	t1, t2, t3 := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
	// Written as a forbid job's fire is: its snapshot gets an active entry.
	first := fireAt(spec, t1, &c)
	first.Forbid = true
	if res, err := st.WriteFire(ctx, fence, first, t1); err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("first fire: %v %v", res.Outcome, err)
	}

	tests := []struct {
		name string
		fire store.Fire
		want store.FireOutcome
	}{
		{"forbid while a run is live", func() store.Fire {
			f := fireAt(spec, t2, &c)
			f.Forbid = true
			return f
		}(), store.FireOverlap},
		{"snapshot on a client, cursor rewound", func() store.Fire {
			f := fireAt(spec, t1, &c)
			f.Cursor = t3
			return f
		}(), store.FireDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rev := e.Revision(t)
			res, err := st.WriteFire(ctx, fence, tt.fire, tt.fire.Cursor)
			if err != nil || res.Outcome != tt.want {
				t.Fatalf("outcome %v %v, want %v", res.Outcome, err, tt.want)
			}
			if got := e.Revision(t); got != rev {
				t.Fatalf("refused fire wrote: revision %d -> %d", rev, got)
			}
		})
	}
	if cur, _ := st.Cursor(ctx, "tick"); !cur.Equal(t1) {
		t.Fatalf("cursor = %s, want %s", cur, t1)
	}
}

// TestFireRefusedOnChangedJobOrGoneClient: a fire built from a stale job
// revision, or placed on a client whose registration ended, writes nothing.
func TestFireRefusedOnChangedJobOrGoneClient(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")

	lease, err := e.Client.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	c := cluster.Client{ID: "w1", Group: "g", Capacity: 1}
	c.CreateRevision, err = st.RegisterClient(ctx, lease.ID, c)
	if err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Second)
	if _, err := e.Client.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	rev := e.Revision(t)
	res, err := st.WriteFire(ctx, fence, fireAt(spec, t1, &c), t1)
	if err != nil || res.Outcome != store.FireClientGone || !slices.Equal(res.GoneClients, []string{"w1"}) {
		t.Fatalf("fire on gone client: %+v %v", res, err)
	}

	updated := spec
	updated.Description = "changed"
	if _, err := st.UpdateJob(ctx, updated, spec.Group, spec.Revision, time.Time{}); err != nil {
		t.Fatal(err)
	}
	rev = e.Revision(t)
	res, err = st.WriteFire(ctx, fence, fireAt(spec, t1, nil), t1)
	if err != nil || res.Outcome != store.FireJobChanged {
		t.Fatalf("fire of stale job: %v %v, want job_changed", res.Outcome, err)
	}
	if got := e.Revision(t); got != rev {
		t.Fatalf("refused fire wrote: revision %d -> %d", rev, got)
	}
}

// TestClaimAndCompleteFenceZombies: a result is accepted only from the
// claim that is current; a moved snapshot's old client cannot report.
func TestClaimAndCompleteFenceZombies(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	w1, w2 := register(t, e, st, "w1"), register(t, e, st, "w2")
	t1 := t0.Add(time.Second)
	if res, err := st.WriteFire(ctx, fence, fireAt(spec, t1, &w1), t1); err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("fire: %v %v", res.Outcome, err)
	}
	live, _ := st.ListLive(ctx, "g", "")
	l := live[0]
	claimRev, err := st.Claim(ctx, w1, l, t1)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	if _, err := st.Claim(ctx, w1, l, t1); err != store.ErrConflict {
		t.Fatalf("second claim of the same assignment: %v, want ErrConflict", err)
	}
	// The leader declares w1's attempt lost and moves attempt 2 to w2.
	live, _ = st.ListLive(ctx, "g", "")
	running := live[0]
	lost := running.Finish(snapshot.StatusLost, "", "gone", t1)
	next := running.Snapshot
	next.Attempt = 2
	if res, err := st.Move(ctx, fence, running, &lost, &store.Placement{Snapshot: next, Client: &w2}, t1); err != nil || res.Outcome != store.Moved {
		t.Fatalf("move: %v %v", res.Outcome, err)
	}
	// The zombie's late result is refused and changes nothing.
	rev := e.Revision(t)
	run := running.Finish(snapshot.StatusSucceeded, "late", "", t1)
	if err := st.Complete(ctx, "w1", claimRev, run, nil); err != store.ErrConflict {
		t.Fatalf("zombie complete: %v, want ErrConflict", err)
	}
	if got := e.Revision(t); got != rev {
		t.Fatalf("zombie wrote: revision %d -> %d", rev, got)
	}
	page, err := st.ListRuns(ctx, "tick", "", 10, "")
	if err != nil || len(page.Runs) != 1 || page.Runs[0].Status != snapshot.StatusLost || page.Runs[0].Attempt != 1 {
		b, _ := json.Marshal(page.Runs)
		t.Fatalf("history = %s %v, want the lost attempt 1 only", b, err)
	}
}
