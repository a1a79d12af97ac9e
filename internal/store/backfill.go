package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// CreateBackfill stores a backfill request for an existing job (ErrNotFound
// otherwise), with its audit entry.
func (s *Store) CreateBackfill(ctx context.Context, b snapshot.Backfill) (err error) {
	defer s.track("backfill_create", time.Now(), &err)
	jkey := s.k.job(b.Job)
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(jkey), ">", 0), clientv3.Compare(clientv3.CreateRevision(s.k.backfill(b.ID)), "=", 0)).
		Then(append([]clientv3.Op{clientv3.OpPut(s.k.backfill(b.ID), encode(b))},
			s.auditOps(ctx, map[string]any{"backfill_id": b.ID, "fires": len(b.Fires)})...)...).
		Commit()
	if err != nil {
		return wrap("create backfill", err)
	}
	if !resp.Succeeded {
		return ErrNotFound
	}
	return nil
}

// BackfillStep writes the next snapshots of a backfill as pending and moves
// its progress (deleting it when done), fenced by leadership and the
// request's revision; with forbid, only if no snapshot of the job is live.
// It returns the snapshots as written (nil if it did not write). cw are the
// job's counters with these fires, written in the same transaction.
//
// Backfill snapshots are exclusive (see active.go); with forbid, a step
// refused while the job's switch mark is up is tried again once the mark
// is settled.
func (s *Store) BackfillStep(ctx context.Context, fence Fence, b snapshot.Backfill, snaps []snapshot.Snapshot, sharded []snapshot.ShardedFire, next int, forbid bool, cw ...CountsWrite) (written []snapshot.Live, err error) {
	defer s.track("backfill_step", time.Now(), &err)
	written, ok, err := s.backfillStep(ctx, fence, b, snaps, sharded, next, forbid, cw)
	if err != nil || ok || !forbid {
		return written, err
	}
	if settled, err := s.settleSwitch(ctx, b.Job); err != nil || !settled {
		return nil, err
	}
	written, _, err = s.backfillStep(ctx, fence, b, snaps, sharded, next, forbid, cw)
	return written, err
}

// backfillStep is one attempt of BackfillStep; ok reports that it wrote.
func (s *Store) backfillStep(ctx context.Context, fence Fence, b snapshot.Backfill, snaps []snapshot.Snapshot, sharded []snapshot.ShardedFire, next int, forbid bool, cw []CountsWrite) (written []snapshot.Live, ok bool, err error) {
	bkey := s.k.backfill(b.ID)
	t := &txn{}
	t.when(fence.cmp(), clientv3.Compare(clientv3.ModRevision(bkey), "=", b.ModRevision))
	if forbid {
		t.when(s.noneActive(b.Job))
	}
	for _, snap := range snaps {
		written = append(written, s.createLive(t, snap, nil, time.Time{}, true))
	}
	for i := range sharded {
		s.recordShardedFire(t, &sharded[i])
	}
	if next >= len(b.Fires) {
		t.then(clientv3.OpDelete(bkey))
	} else {
		b.Next = next
		t.then(clientv3.OpPut(bkey, encode(b)))
	}
	s.writeCounts(t, cw)
	resp, err := t.commit(ctx, s)
	if err != nil {
		return nil, false, wrap("backfill step", err)
	}
	if !resp.Succeeded {
		return nil, false, nil
	}
	setRevision(written, resp.Header.Revision)
	return written, true, nil
}

// DropOrphanBackfill deletes a backfill request whose job is gone. It
// reports false, and deletes nothing, if the job exists after all (its watch
// event is late) or the request changed.
func (s *Store) DropOrphanBackfill(ctx context.Context, fence Fence, b snapshot.Backfill) (dropped bool, err error) {
	defer s.track("backfill_drop", time.Now(), &err)
	resp, err := s.c.Txn(ctx).If(fence.cmp(), clientv3.Compare(clientv3.ModRevision(s.k.backfill(b.ID)), "=", b.ModRevision),
		clientv3.Compare(clientv3.CreateRevision(s.k.job(b.Job)), "=", 0)).
		Then(clientv3.OpDelete(s.k.backfill(b.ID))).Commit()
	if err != nil {
		return false, wrap("drop backfill", err)
	}
	return resp.Succeeded, nil
}
