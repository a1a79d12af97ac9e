package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pink-scheduler/pink/internal/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestClaimCompaction: the first claim compacts nothing; each later claim
// returns the revision the previous one recorded, so a compaction keeps
// every revision since; a deposed leader's claim is refused; compacting to
// a revision already compacted is not an error.
func TestClaimCompaction(t *testing.T) {
	e, st, _ := setup(t)
	ctx := context.Background()
	sess, fence := campaign(t, e.Client, st, "leader")
	if rev, err := st.ClaimCompaction(ctx, fence, t0); err != nil || rev != 0 {
		t.Fatalf("first claim: %d %v, want 0 (nothing to compact yet)", rev, err)
	}
	mark := e.Revision(t) // the first claim's write is the newest revision
	if _, err := e.Client.Put(ctx, "/pink/job/conf/other", "{}"); err != nil {
		t.Fatal(err)
	}
	rev, err := st.ClaimCompaction(ctx, fence, t0)
	if err != nil || rev != mark {
		t.Fatalf("second claim: %d %v, want the first claim's revision %d", rev, err, mark)
	}
	if err := st.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	// Revisions since the previous claim are kept: a read at the mark works,
	// one before it is compacted.
	if _, err := e.Client.Get(ctx, "/pink/job/conf/other", clientv3.WithRev(rev)); err != nil {
		t.Errorf("read at the kept revision %d: %v", rev, err)
	}
	if _, err := e.Client.Get(ctx, "/pink/job/conf/other", clientv3.WithRev(rev-1)); err == nil {
		t.Errorf("read before the compacted revision %d worked", rev-1)
	}
	if err := st.Compact(ctx, rev-1); err != nil {
		t.Errorf("compacting to a revision already compacted: %v", err)
	}

	// A new leader continues from the old leader's mark; the old one, once
	// deposed, can claim nothing.
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	_, fence2 := campaign(t, e.Client, st, "next")
	before := e.Revision(t)
	if _, err := st.ClaimCompaction(ctx, fence, t0); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("deposed leader's claim: %v, want ErrNotLeader", err)
	}
	if e.Revision(t) != before {
		t.Error("a refused claim wrote")
	}
	rev2, err := st.ClaimCompaction(ctx, fence2, t0)
	if err != nil || rev2 <= rev {
		t.Errorf("new leader's claim: %d %v, want the old leader's last mark (> %d)", rev2, err, rev)
	}
}
