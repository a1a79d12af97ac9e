package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ClaimCompaction is the leader's fenced claim to compact etcd now. It
// moves the compaction mark (a key whose mod revision records when the
// last claim was made) and returns the revision the previous claim
// recorded: compacting to it keeps every revision written since, at least
// one compaction interval of history, so no watch that is less than an
// interval behind has to re-list. It returns 0 when there is no previous
// claim (nothing is compacted on the first one), and ErrNotLeader when the
// fence no longer holds. The compare on the mark's mod revision makes two
// claims from the same starting point impossible, even across a leader
// change.
func (s *Store) ClaimCompaction(ctx context.Context, fence Fence, now time.Time) (rev int64, err error) {
	defer s.track("compaction_claim", time.Now(), &err)
	key := s.k.compaction()
	resp, err := s.c.Get(ctx, key)
	if err != nil {
		return 0, wrap("read the compaction mark", err)
	}
	var prev int64
	if len(resp.Kvs) > 0 {
		prev = resp.Kvs[0].ModRevision
	}
	tr, err := s.c.Txn(ctx).
		If(fence.cmp(), clientv3.Compare(clientv3.ModRevision(key), "=", prev)).
		Then(clientv3.OpPut(key, now.UTC().Format(time.RFC3339Nano))).
		Commit()
	if err != nil {
		return 0, wrap("claim the compaction", err)
	}
	if !tr.Succeeded {
		return 0, ErrNotLeader
	}
	return prev, nil
}

// Compact compacts etcd's history up to rev (etcd-wide: every key, not
// only pink's). A revision etcd has already compacted past is not an
// error: someone else (etcd's own --auto-compaction, an operator) did it.
func (s *Store) Compact(ctx context.Context, rev int64) (err error) {
	defer s.track("compact", time.Now(), &err)
	_, err = s.c.Compact(ctx, rev)
	if errors.Is(err, rpctypes.ErrCompacted) {
		return nil
	}
	return wrap("compact etcd to revision "+strconv.FormatInt(rev, 10), err)
}
