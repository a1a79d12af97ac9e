package store

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// DecodeSnapshot decodes a stored snapshot value.
func DecodeSnapshot(key string, v []byte) (snapshot.Snapshot, error) {
	var snap snapshot.Snapshot
	err := decode(key, v, &snap)
	return snap, err
}

// ErrOverlap refuses a new snapshot of a job that forbids overlapping runs
// while one is live.
var ErrOverlap = errors.New("a run of the job is in progress")

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

// liveKey is where l is stored: pending, or assigned to its client.
func (s *Store) liveKey(l snapshot.Live) string {
	if l.State == snapshot.StatePending {
		return s.k.pending(l.ID)
	}
	return s.k.assign(l.Group, l.Client, l.ID)
}

// Move is the leader's one transition for a live snapshot: it removes from
// (compared on its revision), records done in history if given, and writes
// to (a snapshot placed on a client, or pending when its Client is nil) if
// given. It dispatches pending snapshots, moves the unstarted work of a dead
// client, and replaces a lost attempt with the next one, all fenced by
// leadership. counts are the counters the move changes (a fire, a lost run,
// a failover), written in the same transaction (see CountsWrite).
func (s *Store) Move(ctx context.Context, fence Fence, from snapshot.Live, done *snapshot.Run, to *Placement, now time.Time, counts ...CountsWrite) (res MoveResult, err error) {
	defer s.track("move", time.Now(), &err)
	fromKey := s.liveKey(from)
	cmps := []clientv3.Cmp{fence.cmp(), clientv3.Compare(clientv3.ModRevision(fromKey), "=", from.ModRevision)}
	ops := []clientv3.Op{clientv3.OpDelete(fromKey)}
	if done != nil {
		ops = append(ops, clientv3.OpPut(s.k.history(done.Job, done.ID), encode(*done)))
		ops = append(ops, s.lastOps(*done)...)
	}
	if to == nil {
		// The snapshot's life ends here.
		ops = append(ops, clientv3.OpDelete(s.k.active(from.Job, from.ID)))
	}
	var moved *snapshot.Live
	if to != nil {
		snap := to.Snapshot
		if to.Client == nil {
			// Back to pending: dispatched_at keeps the attempt's first
			// dispatch, which says it was counted as a fire then.
			snap.State, snap.Client, snap.StartedAt = snapshot.StatePending, "", nil
			ops = append(ops, clientv3.OpPut(s.k.pending(snap.ID), encode(snap)))
		} else {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(s.k.client(to.Client.Group, to.Client.ID)), "=", to.Client.CreateRevision))
			assignTo(&snap, to.Client, now)
			ops = append(ops, clientv3.OpPut(s.k.assign(snap.Group, to.Client.ID, snap.ID), encode(snap)))
		}
		moved = &snapshot.Live{Snapshot: snap}
	}
	ccmps, cops, cgets := s.countsTxn(counts)
	cmps, ops = append(cmps, ccmps...), append(ops, cops...)
	resp, err := s.c.Txn(ctx).If(cmps...).Then(ops...).
		Else(append([]clientv3.Op{clientv3.OpGet(fence.Key, clientv3.WithKeysOnly()), clientv3.OpGet(fromKey, clientv3.WithKeysOnly())}, cgets...)...).
		Commit()
	if err != nil {
		return res, wrap("move snapshot", err)
	}
	res = MoveResult{Outcome: s.moveOutcome(resp, fence, from), Revision: resp.Header.Revision}
	if res.Outcome == MoveClientGone && countsChanged(resp, 2, counts) {
		res.Outcome = MoveCountsChanged
	}
	if res.Outcome == Moved && moved != nil {
		moved.ModRevision = resp.Header.Revision
		res.Live = moved
	}
	return res, nil
}

// MoveResult reports a Move: its outcome and, when moved, the revision of
// the write and the snapshot as stored at its new place (nil if it ended).
type MoveResult struct {
	Outcome  MoveOutcome
	Revision int64
	Live     *snapshot.Live
}

func (s *Store) moveOutcome(resp *clientv3.TxnResponse, fence Fence, from snapshot.Live) MoveOutcome {
	if resp.Succeeded {
		return Moved
	}
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 0 || kvs[0].CreateRevision != fence.Rev {
		return MoveNotLeader
	}
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) == 0 || kvs[0].ModRevision != from.ModRevision {
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
	resp, err := s.c.Txn(ctx).
		If(fence.cmp(), clientv3.Compare(clientv3.ModRevision(key), "=", l.ModRevision)).
		Then(clientv3.OpPut(key, encode(snap))).
		Else(clientv3.OpGet(fence.Key, clientv3.WithKeysOnly()), clientv3.OpGet(key, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return res, wrap("request cancel", err)
	}
	res = MoveResult{Outcome: s.moveOutcome(resp, fence, l), Revision: resp.Header.Revision}
	if res.Outcome == Moved {
		res.Live = &snapshot.Live{Snapshot: snap, ModRevision: resp.Header.Revision}
	}
	return res, nil
}

// GetAssignment reads the snapshot assigned to a client; ErrNotFound if
// it is no longer there.
func (s *Store) GetAssignment(ctx context.Context, group, clientID, id string) (l snapshot.Live, err error) {
	defer s.track("assignment_get", time.Now(), &err)
	key := s.k.assign(group, clientID, id)
	resp, err := s.c.Get(ctx, key)
	if err != nil {
		return l, wrap("get assignment", err)
	}
	if len(resp.Kvs) == 0 {
		return l, ErrNotFound
	}
	snap, err := DecodeSnapshot(key, resp.Kvs[0].Value)
	return snapshot.Live{Snapshot: snap, ModRevision: resp.Kvs[0].ModRevision}, err
}

// CreatePending writes snapshots that wait for the leader to dispatch them
// (a manual trigger: one, or one per shard with the sharded fire's record).
// The job must exist (ErrNotFound otherwise); with forbid, no snapshot of
// the job may be live (ErrOverlap otherwise).
func (s *Store) CreatePending(ctx context.Context, snaps []snapshot.Snapshot, sharded *snapshot.ShardedFire, forbid bool) (err error) {
	defer s.track("pending_create", time.Now(), &err)
	if len(snaps) == 0 {
		return nil
	}
	jobName := snaps[0].Job
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(s.k.job(jobName)), ">", 0)}
	elseOps := []clientv3.Op{clientv3.OpGet(s.k.job(jobName), clientv3.WithCountOnly())}
	var ops []clientv3.Op
	for _, snap := range snaps {
		pkey := s.k.pending(snap.ID)
		snap.State, snap.Client, snap.DispatchedAt, snap.StartedAt = snapshot.StatePending, "", nil, nil
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(pkey), "=", 0))
		ops = append(ops, clientv3.OpPut(pkey, encode(snap)), clientv3.OpPut(s.k.active(snap.Job, snap.ID), snap.Group))
	}
	if sharded != nil {
		ops = append(ops, clientv3.OpPut(s.k.fire(sharded.Job, sharded.ID), encode(*sharded)))
	}
	ids := make([]string, len(snaps))
	for i := range snaps {
		ids[i] = snaps[i].ID
	}
	ops = append(ops, s.auditOps(ctx, map[string]any{"snapshot_ids": ids})...)
	if forbid {
		cmps = append(cmps, s.noneActive(jobName))
		elseOps = append(elseOps, clientv3.OpGet(s.k.activeOfJob(jobName), clientv3.WithPrefix(), clientv3.WithCountOnly()))
	}
	resp, err := s.c.Txn(ctx).If(cmps...).Then(ops...).Else(elseOps...).Commit()
	if err != nil {
		return wrap("create pending snapshot", err)
	}
	if !resp.Succeeded {
		switch {
		case resp.Responses[0].GetResponseRange().Count == 0:
			return ErrNotFound
		case forbid && resp.Responses[1].GetResponseRange().Count > 0:
			return ErrOverlap
		}
		return ErrExists
	}
	return nil
}

// Claim marks an assigned snapshot as running on its client. It holds only
// if the assignment is unchanged since the client read it (revision rev)
// and the client's registration is the one given (a client whose lease
// expired cannot start work that is being failed over). It returns the new
// revision of the assignment, which Complete compares on.
func (s *Store) Claim(ctx context.Context, c cluster.Client, l snapshot.Live, now time.Time) (newRev int64, err error) {
	defer s.track("claim", time.Now(), &err)
	akey := s.k.assign(l.Group, c.ID, l.ID)
	snap := l.Snapshot
	at := now.UTC()
	snap.State, snap.StartedAt = snapshot.StateRunning, &at
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(akey), "=", l.ModRevision),
			clientv3.Compare(clientv3.CreateRevision(s.k.client(c.Group, c.ID)), "=", c.CreateRevision)).
		Then(clientv3.OpPut(akey, encode(snap))).
		Commit()
	if err != nil {
		return 0, wrap("claim snapshot", err)
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// Complete records the run's result in history and removes the assignment,
// if the assignment is still the one this client claimed at claimRev. A
// result from an attempt that was failed over or canceled meanwhile is
// refused with ErrConflict: the zombie is fenced. A non-nil retry (the next
// attempt of a failed run) is written as pending in the same transaction, so
// a retry is never lost nor doubled.
func (s *Store) Complete(ctx context.Context, clientID string, claimRev int64, run snapshot.Run, retry *snapshot.Snapshot) (err error) {
	defer s.track("complete", time.Now(), &err)
	akey := s.k.assign(run.Group, clientID, run.SnapshotID)
	ops := []clientv3.Op{clientv3.OpPut(s.k.history(run.Job, run.ID), encode(run)), clientv3.OpDelete(akey)}
	ops = append(ops, s.lastOps(run)...)
	if retry != nil {
		ops = append(ops, clientv3.OpPut(s.k.pending(retry.ID), encode(*retry)))
	} else {
		ops = append(ops, clientv3.OpDelete(s.k.active(run.Job, run.SnapshotID)))
	}
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(akey), "=", claimRev)).
		Then(ops...).
		Commit()
	if err != nil {
		return wrap("complete snapshot", err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}

// ListLive returns the pending and assigned snapshots, optionally only those
// of one group and/or one job, pending ones first.
func (s *Store) ListLive(ctx context.Context, group, jobName string) (out []snapshot.Live, err error) {
	defer s.track("live_list", time.Now(), &err)
	pprefix := s.k.pendingPrefix()
	if jobName != "" {
		pprefix = s.k.pendingOfJob(jobName)
	}
	collect := func(key string, v []byte, modRev, _ int64) error {
		snap, err := DecodeSnapshot(key, v)
		if err != nil {
			return err
		}
		if (group == "" || snap.Group == group) && (jobName == "" || snap.Job == jobName) {
			out = append(out, snapshot.Live{Snapshot: snap, ModRevision: modRev})
		}
		return nil
	}
	rev, err := s.listPrefix(ctx, pprefix, collect)
	if err != nil {
		return nil, wrap("list pending snapshots", err)
	}
	aprefix := s.k.assignPrefix()
	if group != "" {
		aprefix = s.k.assignGroupPrefix(group)
	}
	if _, err := s.listRange(ctx, aprefix, prefixEnd(aprefix), rev, collect); err != nil {
		return nil, wrap("list assigned snapshots", err)
	}
	return out, nil
}

// ErrBadCursor refuses a page cursor that no previous page returned.
var ErrBadCursor = errors.New("not a cursor of this list")

// LivePage is one page of live snapshots.
type LivePage struct {
	Snapshots []snapshot.Live
	// Next is the opaque cursor of the following page, "" on the last page.
	Next string
}

// Cursor tags of ListLivePage: which of its two key ranges a cursor is in.
const (
	liveCursorPending  = "p"
	liveCursorAssigned = "a"
)

// ListLivePage returns up to limit (>= 1) live snapshots filtered like
// ListLive and in its order (pending ones by id, then assigned ones by
// group, client and id), starting after cursor (a Next of a previous page,
// "" for the first; ErrBadCursor if it is not one). A page is read at one
// etcd revision, but snapshots move from pending to assigned while a caller
// pages: one dispatched between two pages can show on both or on neither.
func (s *Store) ListLivePage(ctx context.Context, group, jobName string, limit int, cursor string) (page LivePage, err error) {
	defer s.track("live_list", time.Now(), &err)
	pprefix, aprefix := s.k.pendingPrefix(), s.k.assignPrefix()
	if jobName != "" {
		pprefix = s.k.pendingOfJob(jobName)
	}
	if group != "" {
		aprefix = s.k.assignGroupPrefix(group)
	}
	ranges := []struct{ tag, base, start string }{
		{liveCursorPending, s.k.pendingPrefix(), pprefix},
		{liveCursorAssigned, s.k.assignPrefix(), aprefix},
	}
	skip, after := -1, ""
	if cursor != "" {
		tag, key, err := parseLiveCursor(cursor)
		if err != nil {
			return page, err
		}
		for i, rg := range ranges {
			if rg.tag == tag {
				skip, after = i, rg.base+key
			}
		}
	}
	var rev int64
	lastCursor := ""
	for i, rg := range ranges {
		if i < skip {
			continue
		}
		from, end := rg.start, prefixEnd(rg.start)
		if i == skip && after >= from {
			from = after + "\x00"
		}
		for from < end {
			opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(limit + 1))}
			if rev > 0 {
				opts = append(opts, clientv3.WithRev(rev))
			}
			resp, err := s.c.Get(ctx, from, opts...)
			if err != nil {
				return page, wrap("list live snapshots", err)
			}
			rev = resp.Header.Revision
			for _, kv := range resp.Kvs {
				snap, err := DecodeSnapshot(string(kv.Key), kv.Value)
				if err != nil {
					return page, err
				}
				if (group != "" && snap.Group != group) || (jobName != "" && snap.Job != jobName) {
					continue
				}
				if len(page.Snapshots) == limit {
					page.Next = lastCursor
					return page, nil
				}
				page.Snapshots = append(page.Snapshots, snapshot.Live{Snapshot: snap, ModRevision: kv.ModRevision})
				lastCursor = liveCursor(rg.tag, strings.TrimPrefix(string(kv.Key), rg.base))
			}
			if !resp.More || len(resp.Kvs) == 0 {
				break
			}
			from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		}
	}
	return page, nil
}

// liveCursor is the opaque cursor that resumes a ListLivePage after the
// snapshot at key within the range tagged tag: both, base64url-encoded.
func liveCursor(tag, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tag + "/" + key))
}

func parseLiveCursor(cursor string) (tag, key string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", "", ErrBadCursor
	}
	tag, key, ok := strings.Cut(string(b), "/")
	if !ok || key == "" || (tag != liveCursorPending && tag != liveCursorAssigned) {
		return "", "", ErrBadCursor
	}
	return tag, key, nil
}

// GetLive finds a pending or assigned snapshot by id; ErrNotFound if it has
// finished or never existed.
func (s *Store) GetLive(ctx context.Context, id string) (l snapshot.Live, err error) {
	defer s.track("live_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.pending(id))
	if err != nil {
		return l, wrap("get snapshot", err)
	}
	if len(resp.Kvs) > 0 {
		snap, err := DecodeSnapshot(id, resp.Kvs[0].Value)
		return snapshot.Live{Snapshot: snap, ModRevision: resp.Kvs[0].ModRevision}, err
	}
	// Assigned snapshots are keyed by group and client; look in the job's
	// group first, then everywhere (the job may be gone).
	prefixes := []string{}
	if name, ok := snapshot.JobOf(id); ok {
		if spec, gerr := s.GetJob(ctx, name); gerr == nil {
			prefixes = append(prefixes, s.k.assignGroupPrefix(spec.Group))
		}
	}
	prefixes = append(prefixes, s.k.assignPrefix())
	for _, p := range prefixes {
		found := false
		_, err := s.listPrefix(ctx, p, func(key string, v []byte, modRev, _ int64) error {
			if found || !strings.HasSuffix(key, "/"+id) {
				return nil
			}
			snap, err := DecodeSnapshot(key, v)
			if err != nil {
				return err
			}
			l, found = snapshot.Live{Snapshot: snap, ModRevision: modRev}, true
			return nil
		})
		if err != nil {
			return l, wrap("find snapshot", err)
		}
		if found {
			return l, nil
		}
	}
	return l, ErrNotFound
}

// CancelLive removes a snapshot that has not started and records it in
// history as canceled. ErrRunning if it started, ErrConflict if it changed
// since it was read.
func (s *Store) CancelLive(ctx context.Context, l snapshot.Live, reason string, now time.Time) (err error) {
	defer s.track("cancel", time.Now(), &err)
	if l.State == snapshot.StateRunning {
		return ErrRunning
	}
	key := s.liveKey(l)
	run := l.Snapshot.Finish(snapshot.StatusCanceled, "", reason, now)
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", l.ModRevision)).
		Then(append([]clientv3.Op{clientv3.OpDelete(key), clientv3.OpPut(s.k.history(run.Job, run.ID), encode(run)),
			clientv3.OpDelete(s.k.active(l.Job, l.ID))}, s.auditOps(ctx, nil)...)...).
		Commit()
	if err != nil {
		return wrap("cancel snapshot", err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}

// ClaimMany claims several assignments of client c in one transaction, all
// or nothing: ErrConflict if any of them changed (claim them one by one
// then). It returns the revision of the claims, which Complete compares on.
// A batch must stay within etcd's --max-txn-ops (128 by default).
func (s *Store) ClaimMany(ctx context.Context, c cluster.Client, ls []snapshot.Live, now time.Time) (rev int64, err error) {
	defer s.track("claim_batch", time.Now(), &err)
	at := now.UTC()
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(s.k.client(c.Group, c.ID)), "=", c.CreateRevision)}
	ops := make([]clientv3.Op, 0, len(ls))
	for _, l := range ls {
		akey := s.k.assign(l.Group, c.ID, l.ID)
		snap := l.Snapshot
		snap.State, snap.StartedAt = snapshot.StateRunning, &at
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(akey), "=", l.ModRevision))
		ops = append(ops, clientv3.OpPut(akey, encode(snap)))
	}
	resp, err := s.c.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return 0, wrap("claim snapshots", err)
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// Completion is one result for CompleteMany: what Complete takes.
type Completion struct {
	ClaimRev int64
	Run      snapshot.Run
	Retry    *snapshot.Snapshot
}

// CompleteMany records several results of client clientID in one
// transaction, each as Complete would, all or nothing: ErrConflict if any
// assignment changed since its claim (complete them one by one then). Runs
// of one job share their job/last/ write, which keeps the latest finish.
// A batch must stay within etcd's --max-txn-ops: at most 4 ops a result.
func (s *Store) CompleteMany(ctx context.Context, clientID string, cs []Completion) (err error) {
	defer s.track("complete_batch", time.Now(), &err)
	cmps := make([]clientv3.Cmp, 0, len(cs))
	ops := make([]clientv3.Op, 0, 4*len(cs))
	last := map[string]string{}
	var lastKeys []string
	for _, c := range cs {
		akey := s.k.assign(c.Run.Group, clientID, c.Run.SnapshotID)
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(akey), "=", c.ClaimRev))
		ops = append(ops, clientv3.OpPut(s.k.history(c.Run.Job, c.Run.ID), encode(c.Run)), clientv3.OpDelete(akey))
		if c.Retry != nil {
			ops = append(ops, clientv3.OpPut(s.k.pending(c.Retry.ID), encode(*c.Retry)))
		} else {
			ops = append(ops, clientv3.OpDelete(s.k.active(c.Run.Job, c.Run.SnapshotID)))
		}
		if key, v, ok := s.lastWrite(c.Run); ok {
			if old, seen := last[key]; !seen {
				lastKeys = append(lastKeys, key)
				last[key] = v
			} else if v > old {
				last[key] = v
			}
		}
	}
	for _, key := range lastKeys {
		ops = append(ops, lastOp(key, last[key]))
	}
	resp, err := s.c.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return wrap("complete snapshots", err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}
