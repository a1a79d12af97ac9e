package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// maxUnchangedCompares bounds the compares of one Unchanged call, well
// under etcd's default of 128 operations per transaction.
const maxUnchangedCompares = 64

// Unchanged reports whether every snapshot of lives (at most the first 64)
// is still stored where and as it was read: one read-only transaction that
// compares their revisions, answered by etcd's leader. The leader asks it
// before it judges a client stalled from its view, which lags etcd when the
// leader's watch is behind (the leader was frozen, its etcd member froze or
// lost its leader): a claim the view has not heard of yet shows here as a
// changed snapshot.
func (s *Store) Unchanged(ctx context.Context, lives []*snapshot.Live) (ok bool, err error) {
	defer s.track("live_unchanged", time.Now(), &err)
	if len(lives) > maxUnchangedCompares {
		lives = lives[:maxUnchangedCompares]
	}
	cmps := make([]clientv3.Cmp, 0, len(lives))
	for _, l := range lives {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(s.liveKey(*l)), "=", l.ModRevision))
	}
	resp, err := s.c.Txn(ctx).If(cmps...).Commit()
	if err != nil {
		return false, wrap("compare snapshots", err)
	}
	return resp.Succeeded, nil
}
