package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// compaction compacts etcd every cfg.CompactEvery while this node leads,
// as the Kubernetes API server does: without it etcd keeps every revision
// of every key forever and reaches its quota in days. Each tick claims the
// compaction with a fenced transaction and compacts to the revision the
// previous tick recorded, so etcd always keeps at least one interval of
// history. A first tick after a leader change compacts to the previous
// leader's last mark, which is at least an interval old by then.
func (t *term) compaction(ctx context.Context) {
	if t.cfg.CompactEvery < 0 {
		return
	}
	tick := time.NewTicker(t.cfg.CompactEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := t.compact(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrNotLeader) {
			t.log.Warn("etcd compaction failed; retrying on the next tick", "err", err)
		}
	}
}

// compact makes one compaction claim and, if there is a previous mark,
// compacts to it.
func (t *term) compact(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rev, err := t.st.ClaimCompaction(ctx, t.fence, t.cfg.Now())
	if err != nil || rev == 0 {
		return err
	}
	start := time.Now()
	err = t.st.Compact(ctx, rev)
	took := time.Since(start)
	t.cfg.Space.Compacted(rev, took, err)
	if err != nil {
		return err
	}
	t.log.Info("etcd compacted", "revision", rev, "took", took.Round(time.Millisecond))
	return nil
}
