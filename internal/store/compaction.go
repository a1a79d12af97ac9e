package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// CompactionMark is a point of etcd's history the leader noted: the
// revision of its mark write, and when it was made. Compacting to a mark
// that is old enough keeps every revision written since.
type CompactionMark struct {
	At  time.Time
	Rev int64
}

// MarkCompaction writes the leader's compaction mark, fenced by its
// leadership, and returns the mark it replaced (zero if none: a new
// leader continues from its predecessor's) and the new one. ErrNotLeader
// means the fence no longer holds; such a leader must not compact.
func (s *Store) MarkCompaction(ctx context.Context, fence Fence, now time.Time) (prev, cur CompactionMark, err error) {
	defer s.track("compaction_mark", time.Now(), &err)
	key := s.k.compaction()
	resp, err := s.c.Get(ctx, key)
	if err != nil {
		return prev, cur, wrap("read the compaction mark", err)
	}
	if len(resp.Kvs) > 0 {
		prev.Rev = resp.Kvs[0].ModRevision
		prev.At, _ = time.Parse(time.RFC3339Nano, string(resp.Kvs[0].Value))
	}
	now = now.UTC()
	tr, err := s.c.Txn(ctx).
		If(fence.cmp(), clientv3.Compare(clientv3.ModRevision(key), "=", prev.Rev)).
		Then(clientv3.OpPut(key, now.Format(time.RFC3339Nano))).
		Commit()
	if err != nil {
		return prev, cur, wrap("write the compaction mark", err)
	}
	if !tr.Succeeded {
		return prev, cur, ErrNotLeader
	}
	return prev, CompactionMark{At: now, Rev: tr.Header.Revision}, nil
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
