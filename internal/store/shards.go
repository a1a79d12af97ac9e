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
	resp, err := s.c.Txn(ctx).
		If(fence.cmp(),
			clientv3.Compare(clientv3.CreateRevision(fkey), ">", 0),
			clientv3.Compare(clientv3.CreateRevision(s.k.active(f.Job, snapshot.ShardPrefix(f.ID))), "=", 0).WithPrefix()).
		Then(append([]clientv3.Op{clientv3.OpPut(s.k.history(f.Job, run.ID), encode(run)), clientv3.OpDelete(fkey)}, s.lastOps(run)...)...).
		Commit()
	if err != nil {
		return false, wrap("write summary", err)
	}
	return resp.Succeeded, nil
}

// FireEvent is a sharded fire that was recorded (Fire set) or summarized
// (nil).
type FireEvent struct {
	Job  string
	ID   string
	Fire *snapshot.ShardedFire
	Err  error
}

// MirrorFires mirrors the records of sharded fires.
func (s *Store) MirrorFires(ctx context.Context, fn func([]FireEvent, bool)) error {
	return s.Mirror(ctx, s.k.firePrefix(), func(raw []RawEvent, synced bool) {
		out := make([]FireEvent, 0, len(raw))
		for _, ev := range raw {
			fe := FireEvent{ID: lastSegment(ev.Key)}
			if !ev.Deleted {
				var f snapshot.ShardedFire
				if err := decode(ev.Key, ev.Value, &f); err != nil {
					fe.Err = err
				} else {
					fe.Fire = &f
					fe.Job = f.Job
				}
			}
			out = append(out, fe)
		}
		fn(out, synced)
	})
}
