package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// MoveOutcome says whether Move happened and, if not, why.
type MoveOutcome int

// Outcomes of Move.
const (
	Moved MoveOutcome = iota
	MoveNotLeader
	MoveSnapshotChanged // taken, claimed, canceled or deleted meanwhile
	MoveClientGone      // the target client is no longer registered
	MoveCountsChanged   // a counters key is not at the revision given
)

func (o MoveOutcome) String() string {
	return [...]string{"moved", "not_leader", "snapshot_changed", "client_gone", "counts_changed"}[o]
}

// MoveResult reports a Move: its outcome and, when moved, the revision of
// the write and the snapshot as stored at its new place (nil if it ended).
type MoveResult struct {
	Outcome  MoveOutcome
	Revision int64
	Live     *snapshot.Live
}

// liveKey is where l is stored: pending, or assigned to its client.
func (s *Store) liveKey(l snapshot.Live) string {
	if l.State == snapshot.StatePending {
		return s.k.pending(l.ID)
	}
	return s.k.assign(l.Group, l.Client, l.ID)
}

// leave removes l from where it is stored, if it is unchanged since it was
// read; it returns the index of the else read of its key.
func (s *Store) leave(t *txn, l snapshot.Live) int {
	key := s.liveKey(l)
	t.when(clientv3.Compare(clientv3.ModRevision(key), "=", l.ModRevision))
	t.then(clientv3.OpDelete(key))
	return t.orRead(clientv3.OpGet(key, clientv3.WithKeysOnly()))
}

// fenced makes t hold only while fence holds; it returns the index of the
// else read that tells whether it failed.
func fenced(t *txn, fence Fence) int {
	t.when(fence.cmp())
	return t.orRead(clientv3.OpGet(fence.Key, clientv3.WithKeysOnly()))
}

// Move is the leader's one transition for a live snapshot: it removes from
// (compared on its revision), records done in history if given, and writes
// to (a snapshot placed on a client, or pending when its Client is nil) if
// given. It dispatches pending snapshots, moves the unstarted work of a dead
// client, and replaces a lost attempt with the next one, all fenced by
// leadership. cw are the counters the move changes (a fire, a lost run, a
// failover), written in the same transaction (see CountsWrite).
func (s *Store) Move(ctx context.Context, fence Fence, from snapshot.Live, done *snapshot.Run, to *Placement, now time.Time, cw ...CountsWrite) (res MoveResult, err error) {
	defer s.track("move", time.Now(), &err)
	t := &txn{}
	fenceRead := fenced(t, fence)
	fromRead := s.leave(t, from)
	markRead := -1
	if from.ClaimedAhead && (done == nil || done.Status == snapshot.StatusCanceled) {
		// Moved or canceled as not started: only while its client's start
		// mark is before it (see StartAhead).
		s.revokeAhead(t, from)
		markRead = t.orRead(clientv3.OpGet(s.k.started(from.Group, from.Client)))
	}
	if done != nil {
		s.recordRun(t, *done, from.TraceParent)
	}
	var moved *snapshot.Live
	switch {
	case to == nil:
		// The snapshot's life ends here.
		s.endOrRetry(t, from.Job, from.ID, nil)
	case to.Client == nil:
		// Back to pending: dispatched_at keeps the attempt's first
		// dispatch, which says it was counted as a fire then.
		snap := to.Snapshot
		snap.State, snap.Client, snap.StartedAt, snap.ClaimedAhead = snapshot.StatePending, "", nil, false
		t.then(clientv3.OpPut(s.k.pending(snap.ID), encode(snap)))
		moved = &snapshot.Live{Snapshot: snap}
	default:
		moved = &snapshot.Live{Snapshot: s.assign(t, to.Snapshot, to.Client, now)}
	}
	countsRead := s.writeCounts(t, cw)
	resp, err := t.commit(ctx, s)
	if err != nil {
		return res, wrap("move snapshot", err)
	}
	res = MoveResult{Outcome: moveOutcome(resp, fenceRead, fence, fromRead, from), Revision: resp.Header.Revision}
	switch {
	case res.Outcome != MoveClientGone:
	case markRead >= 0 && !markBeforeIn(read(resp, markRead), from.ScheduledAt):
		// Its client started it: the watch brings nothing, the mark
		// tells (see StartAhead).
		res.Outcome = MoveSnapshotChanged
	case countsChanged(resp, countsRead, cw):
		res.Outcome = MoveCountsChanged
	}
	if res.Outcome == Moved && moved != nil {
		moved.ModRevision = resp.Header.Revision
		res.Live = moved
	}
	return res, nil
}

func moveOutcome(resp *clientv3.TxnResponse, fenceRead int, fence Fence, fromRead int, from snapshot.Live) MoveOutcome {
	if resp.Succeeded {
		return Moved
	}
	if kvs := read(resp, fenceRead).Kvs; len(kvs) == 0 || kvs[0].CreateRevision != fence.Rev {
		return MoveNotLeader
	}
	if modRevOf(read(resp, fromRead)) != from.ModRevision {
		return MoveSnapshotChanged
	}
	return MoveClientGone
}

// RequestCancel marks a running snapshot so that its client stops it
// (overlap policy replace). The run then ends as canceled.
func (s *Store) RequestCancel(ctx context.Context, fence Fence, l snapshot.Live) (res MoveResult, err error) {
	defer s.track("cancel_request", time.Now(), &err)
	key := s.liveKey(l)
	snap := l.Snapshot
	snap.CancelRequested = true
	t := &txn{}
	fenceRead := fenced(t, fence)
	t.when(clientv3.Compare(clientv3.ModRevision(key), "=", l.ModRevision))
	keyRead := t.orRead(clientv3.OpGet(key, clientv3.WithKeysOnly()))
	t.then(clientv3.OpPut(key, encode(snap)))
	resp, err := t.commit(ctx, s)
	if err != nil {
		return res, wrap("request cancel", err)
	}
	res = MoveResult{Outcome: moveOutcome(resp, fenceRead, fence, keyRead, l), Revision: resp.Header.Revision}
	if res.Outcome == Moved {
		res.Live = &snapshot.Live{Snapshot: snap, ModRevision: resp.Header.Revision}
	}
	return res, nil
}

// CancelLive removes a snapshot that has not started and records it in
// history as canceled. ErrRunning if it started, ErrConflict if it changed
// since it was read.
func (s *Store) CancelLive(ctx context.Context, l snapshot.Live, reason string, now time.Time) (err error) {
	defer s.track("cancel", time.Now(), &err)
	if l.State == snapshot.StateRunning {
		return ErrRunning
	}
	t := &txn{}
	s.cancel(t, l, reason, now)
	t.then(s.auditOps(ctx, nil)...)
	resp, err := t.commit(ctx, s)
	if err != nil {
		return wrap("cancel snapshot", err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}

// cancel ends a snapshot that has not started: it leaves its key (if
// unchanged), its run is recorded canceled with reason, and its life ends.
func (s *Store) cancel(t *txn, l snapshot.Live, reason string, now time.Time) {
	s.leave(t, l)
	s.recordRun(t, l.Finish(snapshot.StatusCanceled, "", reason, now), l.TraceParent)
	s.endOrRetry(t, l.Job, l.ID, nil)
}
