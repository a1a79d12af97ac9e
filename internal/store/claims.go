package store

import (
	"context"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// A worker's two transitions: it claims what it was assigned (dispatched →
// running), then completes it (running → history, and a retry if one is
// due). Each compares on the assignment's revision, so work that the leader
// moved meanwhile is neither started nor reported by a zombie.

// Claim marks an assigned snapshot as running on its client. It holds only
// if the assignment is unchanged since the client read it (revision rev)
// and the client's registration is the one given (a client whose lease
// expired cannot start work that is being failed over). It returns the new
// revision of the assignment, which Complete compares on.
func (s *Store) Claim(ctx context.Context, c cluster.Client, l snapshot.Live, now time.Time) (newRev int64, err error) {
	defer s.track("claim", time.Now(), &err)
	return s.claimAll(ctx, c, []snapshot.Live{l}, now, "claim snapshot")
}

// ClaimMany claims several assignments of client c in one transaction, all
// or nothing: ErrConflict if any of them changed (claim them one by one
// then). It returns the revision of the claims, which Complete compares on.
// A batch must stay within etcd's --max-txn-ops (128 by default).
func (s *Store) ClaimMany(ctx context.Context, c cluster.Client, ls []snapshot.Live, now time.Time) (rev int64, err error) {
	defer s.track("claim_batch", time.Now(), &err)
	return s.claimAll(ctx, c, ls, now, "claim snapshots")
}

func (s *Store) claimAll(ctx context.Context, c cluster.Client, ls []snapshot.Live, now time.Time, what string) (int64, error) {
	t := &txn{}
	s.requireClient(t, &c)
	at := now.UTC()
	for _, l := range ls {
		s.claim(t, c.ID, l, at)
	}
	resp, err := t.commit(ctx, s)
	if err != nil {
		return 0, wrap(what, err)
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// Completion is one result of a claimed run: the run, the revision of its
// claim, and its next attempt if one is due.
type Completion struct {
	ClaimRev int64
	Run      snapshot.Run
	Retry    *snapshot.Snapshot
}

// Complete records the run's result in history and removes the assignment,
// if the assignment is still the one this client claimed at claimRev. A
// result from an attempt that was failed over or canceled meanwhile is
// refused with ErrConflict: the zombie is fenced. A non-nil retry (the next
// attempt of a failed run) is written as pending in the same transaction, so
// a retry is never lost nor doubled.
func (s *Store) Complete(ctx context.Context, clientID string, claimRev int64, run snapshot.Run, retry *snapshot.Snapshot) (err error) {
	defer s.track("complete", time.Now(), &err)
	return s.completeAll(ctx, clientID, []Completion{{ClaimRev: claimRev, Run: run, Retry: retry}}, "complete snapshot")
}

// CompleteMany records several results of client clientID in one
// transaction, each as Complete would, all or nothing: ErrConflict if any
// assignment changed since its claim (complete them one by one then). Runs
// of one job share their job/last/ write, which keeps the latest finish.
// A batch must stay within etcd's --max-txn-ops: at most 5 ops a result.
func (s *Store) CompleteMany(ctx context.Context, clientID string, cs []Completion) (err error) {
	defer s.track("complete_batch", time.Now(), &err)
	return s.completeAll(ctx, clientID, cs, "complete snapshots")
}

func (s *Store) completeAll(ctx context.Context, clientID string, cs []Completion, what string) error {
	t := &txn{}
	for _, c := range cs {
		s.complete(t, clientID, c)
	}
	resp, err := t.commit(ctx, s)
	if err != nil {
		return wrap(what, err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
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
