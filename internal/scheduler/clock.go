package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// clockInterval is how often the leader publishes its wall time: one small
// fenced write per interval, whatever the number of workers, which each
// measure their clock's offset from it (pink_worker_clock_offset_seconds).
const clockInterval = 5 * time.Second

// publishClock publishes the leader's clock under fence every
// clockInterval, from now until the returned stop is called or ctx ends
// (or the fence fails: a deposed leader's clock is nobody's reference).
// Each stamp carries the previous one's round trip, which tells a worker
// how long after its timestamp that write reached etcd at most; a second
// stamp follows the first at once, so that workers measure from the start.
func (s *Scheduler) publishClock(ctx context.Context, fence store.Fence) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(clockInterval)
		defer tick.Stop()
		var prev *store.ClockWrite
		for {
			start, sent := time.Now(), s.cfg.Now()
			rctx, rcancel := context.WithTimeout(ctx, clockInterval)
			err := s.cfg.Store.PublishClock(rctx, fence, store.ClockStamp{Leader: s.cfg.NodeID, SentAt: sent, Prev: prev})
			rcancel()
			switch {
			case errors.Is(err, store.ErrNotLeader):
				return
			case err != nil:
				// The term's own requests report etcd trouble; the next
				// stamp cannot vouch for this one.
				s.log.Debug("could not publish the leader's clock", "err", err)
				prev = nil
			default:
				first := prev == nil
				prev = &store.ClockWrite{SentAt: sent, RTT: time.Since(start)}
				if first {
					continue
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
