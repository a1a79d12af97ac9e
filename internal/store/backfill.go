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
// It returns the snapshots as written (nil if it did not write). counts are
// the job's counters with these fires, written in the same transaction.
func (s *Store) BackfillStep(ctx context.Context, fence Fence, b snapshot.Backfill, snaps []snapshot.Snapshot, sharded []snapshot.ShardedFire, next int, forbid bool, counts ...CountsWrite) (written []snapshot.Live, err error) {
	defer s.track("backfill_step", time.Now(), &err)
	bkey := s.k.backfill(b.ID)
	cmps := []clientv3.Cmp{fence.cmp(), clientv3.Compare(clientv3.ModRevision(bkey), "=", b.ModRevision)}
	if forbid {
		cmps = append(cmps, s.noneActive(b.Job))
	}
	var ops []clientv3.Op
	for _, snap := range snaps {
		snap.State = snapshot.StatePending
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(s.k.active(snap.Job, snap.ID)), "=", 0))
		ops = append(ops, clientv3.OpPut(s.k.pending(snap.ID), encode(snap)), clientv3.OpPut(s.k.active(snap.Job, snap.ID), snap.Group))
		written = append(written, snapshot.Live{Snapshot: snap})
	}
	for _, f := range sharded {
		ops = append(ops, clientv3.OpPut(s.k.fire(f.Job, f.ID), encode(f)))
	}
	if next >= len(b.Fires) {
		ops = append(ops, clientv3.OpDelete(bkey))
	} else {
		b.Next = next
		ops = append(ops, clientv3.OpPut(bkey, encode(b)))
	}
	ccmps, cops, _ := s.countsTxn(counts)
	cmps, ops = append(cmps, ccmps...), append(ops, cops...)
	resp, err := s.c.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return nil, wrap("backfill step", err)
	}
	if !resp.Succeeded {
		return nil, nil
	}
	for i := range written {
		written[i].ModRevision = resp.Header.Revision
	}
	return written, nil
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

// BackfillEvent is a backfill request that appeared or progressed (set) or
// finished (nil).
type BackfillEvent struct {
	ID       string
	Backfill *snapshot.Backfill
	Err      error
}

// MirrorBackfills mirrors the backfill requests.
func (s *Store) MirrorBackfills(ctx context.Context, fn func([]BackfillEvent, bool)) error {
	return s.Mirror(ctx, s.k.backfillPrefix(), func(raw []RawEvent, synced bool) {
		out := make([]BackfillEvent, 0, len(raw))
		for _, ev := range raw {
			be := BackfillEvent{ID: lastSegment(ev.Key)}
			if !ev.Deleted {
				var b snapshot.Backfill
				if err := decode(ev.Key, ev.Value, &b); err != nil {
					be.Err = err
				} else {
					b.ModRevision = ev.ModRevision
					be.Backfill = &b
				}
			}
			out = append(out, be)
		}
		fn(out, synced)
	})
}
