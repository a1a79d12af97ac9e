package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/store"
)

// TestMarkCompaction: each mark returns the one it replaced and its own
// revision, with its time; a new leader continues from its predecessor's
// mark; a deposed leader's mark is refused and writes nothing; compacting
// to a mark keeps the revisions since, and compacting to a revision
// already compacted is not an error.
func TestMarkCompaction(t *testing.T) {
	e, st, _ := setup(t)
	ctx := context.Background()
	sess, fence := campaign(t, e.Client, st, "leader")
	prev, first, err := st.MarkCompaction(ctx, fence, t0)
	if err != nil || prev != (store.CompactionMark{}) || first.Rev != e.Revision(t) || !first.At.Equal(t0) {
		t.Fatalf("first mark: prev %+v, cur %+v, %v; want no previous and the current revision %d", prev, first, err, e.Revision(t))
	}
	if _, err := e.Client.Put(ctx, "/pink/job/conf/other", "{}"); err != nil {
		t.Fatal(err)
	}
	prev, second, err := st.MarkCompaction(ctx, fence, t0.Add(time.Minute))
	if err != nil || prev != first || second.Rev <= first.Rev {
		t.Fatalf("second mark: prev %+v (want %+v), cur %+v, %v", prev, first, second, err)
	}
	if err := st.Compact(ctx, first.Rev); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.Get(ctx, "/pink/job/conf/other", clientv3.WithRev(first.Rev)); err != nil {
		t.Errorf("read at the kept revision %d: %v", first.Rev, err)
	}
	if _, err := e.Client.Get(ctx, "/pink/job/conf/other", clientv3.WithRev(first.Rev-1)); err == nil {
		t.Errorf("read before the compacted revision %d worked", first.Rev-1)
	}
	if err := st.Compact(ctx, first.Rev-1); err != nil {
		t.Errorf("compacting to a revision already compacted: %v", err)
	}

	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	_, fence2 := campaign(t, e.Client, st, "next")
	before := e.Revision(t)
	if _, _, err := st.MarkCompaction(ctx, fence, t0); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("deposed leader's mark: %v, want ErrNotLeader", err)
	}
	if e.Revision(t) != before {
		t.Error("a refused mark wrote")
	}
	prev, _, err = st.MarkCompaction(ctx, fence2, t0.Add(2*time.Minute))
	if err != nil || prev != second {
		t.Errorf("new leader's first mark: prev %+v, %v; want the old leader's last mark %+v", prev, err, second)
	}
}
