package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestForbidAfterSwitch: a run of an allow job has no active entry; when
// the job is edited to forbid while that run is live, neither a forbid
// fire nor a forbid manual trigger overlaps it (the edit's switch mark
// holds them), and once it has ended the next fire is written and the mark
// is gone. Forbid runs then hold each other off by their active entries.
func TestForbidAfterSwitch(t *testing.T) {
	e, st, spec := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	c := register(t, e, st, "w1")
	t1, t2, t3, t4 := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second), t0.Add(4*time.Second)

	res, err := st.WriteFire(ctx, fence, fireAt(spec, t1, &c), t1)
	if err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("allow fire: %v %v", res.Outcome, err)
	}
	old := res.Written[0]
	if n := countKeys(t, e, "/pink/execute/active/"); n != 0 {
		t.Fatalf("an allow run has %d active keys, want 0", n)
	}

	spec.Concurrency = job.ConcurrencyForbid
	spec, err = st.UpdateJob(ctx, spec, spec.Group, spec.Revision, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	forbidFire := func(at time.Time) store.FireResult {
		t.Helper()
		f := fireAt(spec, at, &c)
		f.Forbid = true
		res, err := st.WriteFire(ctx, fence, f, at)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	rev := e.Revision(t)
	if res := forbidFire(t2); res.Outcome != store.FireOverlap {
		t.Fatalf("forbid fire while the allow-era run is live: %v, want overlap", res.Outcome)
	}
	manual := snapshot.ForJob(&spec, snapshot.ManualID(spec.Name, t2), snapshot.TriggerManual, t2, t2)
	if err := st.CreatePending(ctx, []snapshot.Snapshot{manual}, nil, true); !errors.Is(err, store.ErrOverlap) {
		t.Fatalf("forbid trigger while the allow-era run is live: %v, want ErrOverlap", err)
	}
	if got := e.Revision(t); got != rev {
		t.Fatalf("refused writes wrote: revision %d -> %d", rev, got)
	}

	claimRev, err := st.Claim(ctx, c, old, t2)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Complete(ctx, c.ID, claimRev, old.Finish(snapshot.StatusSucceeded, "", "", t3), nil); err != nil {
		t.Fatal(err)
	}
	if res := forbidFire(t3); res.Outcome != store.FireWritten {
		t.Fatalf("forbid fire once the old run ended: %v, want written", res.Outcome)
	}
	if n := countKeys(t, e, "/pink/execute/active/tick/switch"); n != 0 {
		t.Fatal("the switch mark outlived the last run without an active entry")
	}
	if n := countKeys(t, e, "/pink/execute/active/tick/"); n != 1 {
		t.Fatalf("the forbid run has %d active keys, want 1", n)
	}
	if res := forbidFire(t4); res.Outcome != store.FireOverlap {
		t.Fatalf("forbid fire while a forbid run is live: %v, want overlap", res.Outcome)
	}
}

// TestForbidJobCreated: a new forbid job carries a switch mark (an earlier
// job of its name may have runs live), which its first fire settles: the
// fire is written, not refused.
func TestForbidJobCreated(t *testing.T) {
	e, st, _ := setup(t)
	ctx := context.Background()
	_, fence := campaign(t, e.Client, st, "node-a")
	c := register(t, e, st, "w1")
	spec := job.Spec{Name: "solo", Group: "g", Schedule: "* * * * * *", Target: "noop", CreatedAt: t0, Concurrency: job.ConcurrencyForbid}
	spec.ApplyDefaults()
	spec, err := st.CreateJob(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, e, "/pink/execute/active/solo/switch"); n != 1 {
		t.Fatal("a new forbid job has no switch mark")
	}
	f := fireAt(spec, t0.Add(time.Second), &c)
	f.Forbid = true
	if res, err := st.WriteFire(ctx, fence, f, t0.Add(time.Second)); err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("first fire of a new forbid job: %v %v, want written", res.Outcome, err)
	}
	if n := countKeys(t, e, "/pink/execute/active/solo/switch"); n != 0 {
		t.Fatal("the first fire left the switch mark")
	}
	if err := st.DeleteJob(ctx, "solo", t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// countKeys counts the keys under prefix.
func countKeys(t *testing.T, e *pinktest.Etcd, prefix string) int64 {
	t.Helper()
	resp, err := e.Client.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}
