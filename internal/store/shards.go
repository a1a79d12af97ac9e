package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// ShardRuns returns the history rows of every attempt of every shard of a
// sharded fire.
func (s *Store) ShardRuns(ctx context.Context, f snapshot.ShardedFire) (runs []snapshot.Run, err error) {
	defer s.track("shard_runs", time.Now(), &err)
	_, err = s.listPrefix(ctx, s.k.history(f.Job, snapshot.ShardPrefix(f.ID)), func(key string, v []byte, _, _ int64) error {
		var r snapshot.Run
		if err := decode(key, v, &r); err != nil {
			return err
		}
		runs = append(runs, r)
		return nil
	})
	return runs, wrap("list shard runs", err)
}

// WriteSummary records the summary run of a sharded fire and drops the
// fire's record, if this node leads, the record exists, and no shard of the
// fire is live any more (checked inside the transaction). It reports
// whether it wrote.
func (s *Store) WriteSummary(ctx context.Context, fence Fence, f snapshot.ShardedFire, run snapshot.Run) (written bool, err error) {
	defer s.track("summary", time.Now(), &err)
	fkey := s.k.fire(f.Job, f.ID)
	t := &txn{}
	t.when(fence.cmp(),
		clientv3.Compare(clientv3.CreateRevision(fkey), ">", 0),
		clientv3.Compare(clientv3.CreateRevision(s.k.active(f.Job, snapshot.ShardPrefix(f.ID))), "=", 0).WithPrefix())
	s.recordRun(t, run, f.TraceParent)
	t.then(clientv3.OpDelete(fkey))
	resp, err := t.commit(ctx, s)
	if err != nil {
		return false, wrap("write summary", err)
	}
	return resp.Succeeded, nil
}
