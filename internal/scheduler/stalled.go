package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// A leader that cannot reach etcd's quorum writes no fire, and nothing in
// its own loop says why: its requests fail or time out and are retried.
// watchQuorum checks, every quorumCheckEvery, that the fence still holds
// through etcd's leader (a read that fails like a write would); after
// quorumStallAfter without an answer the leader is stalled: it says so
// (WARN, pink_scheduler_leader_stalled 1, alert PinkEtcdStalled) until an
// answer comes, and then wakes the term's loop at once, so that fires
// resume within a check of quorum's return rather than after the loop's
// retry delay. It also records when etcd answered again after failing
// (term.etcdBack): workers could not claim meanwhile either, and must not
// be judged stalled for it (stall.go).
const (
	quorumCheckEvery   = 250 * time.Millisecond
	quorumCheckTimeout = 500 * time.Millisecond
	quorumStallAfter   = time.Second
)

// watchQuorum runs until ctx ends or the fence is found gone (the term's
// own writes end it then).
func (t *term) watchQuorum(ctx context.Context) {
	defer t.cfg.Metrics.SetLeaderStalled(false)
	tick := time.NewTicker(quorumCheckEvery)
	defer tick.Stop()
	lastOK, stalled, failing := time.Now(), false, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, quorumCheckTimeout)
		err := t.st.CheckFence(rctx, t.fence)
		cancel()
		switch {
		case ctx.Err() != nil, errors.Is(err, store.ErrNotLeader):
			return
		case err == nil:
			if failing {
				t.etcdBack.Store(t.cfg.Now().UnixNano())
				failing = false
			}
			if stalled {
				t.log.Info("the leader reaches etcd's quorum again; fires resume", "stalled_for", time.Since(lastOK).Round(time.Millisecond))
				t.cfg.Metrics.SetLeaderStalled(false)
				stalled = false
			}
			lastOK = time.Now()
			select {
			case t.reachable <- struct{}{}:
			default:
			}
		default:
			failing = true
			if !stalled && time.Since(lastOK) > quorumStallAfter {
				t.log.Warn("the leader cannot reach etcd's quorum; no fire is written until it can",
					"endpoints", t.st.Client().Endpoints(), "op", "fence_check", "err", err, "since", lastOK)
				t.cfg.Metrics.SetLeaderStalled(true)
				stalled = true
			}
		}
	}
}
