package bench

import (
	"context"
	"log/slog"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// killLeaders stops the leading scheduler every interval until ctx ends —
// SIGKILL, or SIGTERM when graceful — and returns, per stop, the time until
// a snapshot of a fire due after it (which only a new leader can write) was
// assigned. Stops land just before a whole second, so that with
// every-second jobs the next fire is due at once and the figure is the
// handover's, not the wait for the next nominal time.
//
// Stops happen while window lasts; a measurement may finish after it, while
// ctx lasts.
func killLeaders(window, ctx context.Context, st *store.Store, procs *schedulers, rec *recorder, obs *observer, every time.Duration, graceful bool, log *slog.Logger) []float64 {
	return periodically(window, every, func() (float64, bool) {
		now := time.Now()
		sleep(window, now.Truncate(time.Second).Add(time.Second-stopAhead).Sub(now))
		leader, err := st.Leader(ctx)
		if err != nil || leader == "" || window.Err() != nil {
			return 0, false
		}
		stopped := time.Now()
		if err := procs.kill(leader, graceful); err != nil {
			log.Warn("stop leader", "err", err)
			return 0, false
		}
		log.Info("stopped the leader", "node", leader, "graceful", graceful)
		next, ok := rec.nextDispatchAfter(ctx, obs, stopped, measureLimit(every, procs.cfg.SessionTTL))
		return next.Sub(stopped).Seconds(), ok
	})
}

// periodically calls measure every interval until window ends and returns
// the figures it measured.
func periodically(window context.Context, every time.Duration, measure func() (float64, bool)) []float64 {
	out := []float64{}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-window.Done():
			return out
		case <-tick.C:
		}
		if v, ok := measure(); ok {
			out = append(out, v)
		}
	}
}

// measureLimit is how long a failover measurement waits: a failover slower
// than the stops' interval is still a figure, and a slow machine's one.
func measureLimit(every, ttl time.Duration) time.Duration {
	return max(every, 3*ttl+10*time.Second)
}

// stopAhead is how long before a whole second a leader is stopped.
const stopAhead = 50 * time.Millisecond

// killWorkers kills a worker every interval until ctx ends (and starts a new
// one), and returns, per kill, the time until the last of the snapshots it
// held was dispatched elsewhere.
func killWorkers(window, ctx context.Context, st *store.Store, f *fleet, rec *recorder, obs *observer, every time.Duration, log *slog.Logger) []float64 {
	return periodically(window, every, func() (float64, bool) {
		id := f.kill()
		killed := time.Now()
		if id == "" {
			return 0, false
		}
		held := map[string]bool{}
		live, err := st.ListLive(ctx, "bench", "")
		if err == nil {
			for _, l := range live {
				if l.Client == id && l.State != snapshot.StatePending {
					held[l.ID] = true
				}
			}
		}
		log.Info("killed a worker", "client", id, "held", len(held))
		if err := f.start(); err != nil {
			log.Warn("start a worker", "err", err)
		}
		last, ok := rec.redispatched(ctx, obs, held, id, measureLimit(every, f.cfg.SessionTTL))
		return last.Sub(killed).Seconds(), ok
	})
}

// nextDispatchAfter waits up to limit for a run of a fire due after t whose
// snapshot was first assigned after t, and returns when that was: when a
// leader wrote again after the stop at t. (Fires the stopped leader wrote
// ahead of their time were assigned before t; they run on time anyway.)
func (r *recorder) nextDispatchAfter(ctx context.Context, obs *observer, t time.Time, limit time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var first time.Time
		for _, ru := range r.snapshot() {
			if !ru.scheduled.After(t) {
				continue
			}
			if _, at := obs.seen(ru.snapshot, ru.client); at.After(t) && (first.IsZero() || at.Before(first)) {
				first = at
			}
		}
		if !first.IsZero() {
			return first, true
		}
		sleep(ctx, 20*time.Millisecond)
	}
	return time.Time{}, false
}

// redispatched waits up to limit until every held snapshot ran on another
// client, and returns when the last of them was assigned there.
func (r *recorder) redispatched(ctx context.Context, obs *observer, held map[string]bool, dead string, limit time.Duration) (time.Time, bool) {
	if len(held) == 0 {
		return time.Time{}, false
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var last time.Time
		moved := map[string]bool{}
		for _, ru := range r.snapshot() {
			if !held[ru.snapshot] || ru.client == dead {
				continue
			}
			if _, at := obs.seen(ru.snapshot, ru.client); !at.IsZero() {
				moved[ru.snapshot] = true
				if at.After(last) {
					last = at
				}
			}
		}
		if len(moved) == len(held) {
			return last, true
		}
		sleep(ctx, 20*time.Millisecond)
	}
	return time.Time{}, false
}
