package store

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ClockStamp is the leader's wall time as it publishes it in node/clock,
// the reference workers measure their clock offset against (etcd has no
// time of its own to offer). SentAt is read from the leader's clock just
// before the write is sent, so etcd commits the write, and a watcher
// receives it, after SentAt. Prev is the leader's previous write, if any:
// once acknowledged, the leader knows how long it took, and so how late
// after its SentAt it was committed at most.
type ClockStamp struct {
	Leader string      `json:"leader"`
	SentAt time.Time   `json:"sent_at"`
	Prev   *ClockWrite `json:"prev,omitempty"`
}

// ClockWrite is one clock write of the leader: when it was sent (by the
// leader's clock) and how long etcd took to acknowledge it.
type ClockWrite struct {
	SentAt time.Time     `json:"sent_at"`
	RTT    time.Duration `json:"rtt_ns"`
}

// PublishClock writes the leader's clock stamp, fenced by its leadership:
// a deposed leader's clock is nobody's reference. ErrNotLeader means the
// fence no longer holds.
func (s *Store) PublishClock(ctx context.Context, fence Fence, stamp ClockStamp) (err error) {
	defer s.track("clock_publish", time.Now(), &err)
	stamp.SentAt = stamp.SentAt.UTC()
	tr, err := s.c.Txn(ctx).If(fence.cmp()).Then(clientv3.OpPut(s.k.clock(), encode(stamp))).Commit()
	if err != nil {
		return wrap("publish the leader's clock", err)
	}
	if !tr.Succeeded {
		return ErrNotLeader
	}
	return nil
}

// WatchClock calls fn with each clock stamp the leader publishes from now
// on, and the time (by this process's clock) its watch event arrived. Its
// watch starts at etcd's current revision, and restarts there when it
// fails: an event replayed from etcd's history would arrive late by an
// unknown time, and a clock needs no stamp it missed. It returns ctx's
// error.
func (s *Store) WatchClock(ctx context.Context, fn func(stamp ClockStamp, received time.Time)) error {
	key := s.k.clock()
	backoff := newBackoff(50*time.Millisecond, 2*time.Second)
	for {
		w := s.openWatch(ctx, key)
		var err error
		for {
			var resp clientv3.WatchResponse
			resp, err = w.next()
			received := s.now()
			if err == nil {
				err = resp.Err()
			}
			if err != nil {
				break
			}
			backoff.reset()
			for _, ev := range resp.Events {
				var stamp ClockStamp
				if ev.Type == mvccpb.PUT && decode(key, ev.Kv.Value, &stamp) == nil {
					fn(stamp, received)
				}
			}
		}
		w.close()
		reopen := errors.Is(err, errRewatch)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !reopen && !backoff.waitOr(ctx, w.rewatch) {
			return ctx.Err()
		}
	}
}

// ProbeKey is the key an endpoint checker reads (count only) to tell
// whether an etcd member answers: the leader's clock, a key that exists
// and stays small.
func (s *Store) ProbeKey() string { return s.k.clock() }

// ClockRoundTrip times one linearizable read of the clock key (count only):
// the smallest request that goes through etcd's raft leader and back. A
// worker takes it as the bound of how long a committed write's watch event
// takes to reach it (true unless etcd holds the event back, as for a slow
// watcher).
func (s *Store) ClockRoundTrip(ctx context.Context) (took time.Duration, err error) {
	start := time.Now()
	defer s.track("clock_round_trip", start, &err)
	if _, err = s.c.Get(ctx, s.k.clock(), clientv3.WithCountOnly()); err != nil {
		return 0, wrap("read the leader's clock", err)
	}
	return time.Since(start), nil
}
