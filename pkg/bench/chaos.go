package bench

import (
	"context"
	"log/slog"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/store"
)

// killLeaders SIGKILLs the leading scheduler every interval until ctx ends
// and returns, per kill, the time until the next dispatch of any snapshot.
func killLeaders(ctx context.Context, st *store.Store, procs *schedulers, rec *recorder, every time.Duration, log *slog.Logger) []float64 {
	var out []float64
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
		leader, err := st.Leader(ctx)
		if err != nil || leader == "" {
			continue
		}
		killed := time.Now()
		if err := procs.kill(leader); err != nil {
			log.Warn("kill leader", "err", err)
			continue
		}
		log.Info("killed the leader", "node", leader)
		if next, ok := rec.nextDispatchAfter(ctx, killed, every); ok {
			out = append(out, next.Sub(killed).Seconds())
		}
	}
}

// killWorkers kills a worker every interval until ctx ends (and starts a new
// one), and returns, per kill, the time until the last of the snapshots it
// held was dispatched elsewhere.
func killWorkers(ctx context.Context, st *store.Store, f *fleet, rec *recorder, every time.Duration, log *slog.Logger) []float64 {
	var out []float64
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
		id := f.kill()
		killed := time.Now()
		if id == "" {
			continue
		}
		held := map[string]bool{}
		if live, err := st.ListLive(ctx, "bench", ""); err == nil {
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
		if last, ok := rec.redispatched(ctx, held, id, every); ok {
			out = append(out, last.Sub(killed).Seconds())
		}
	}
}

// nextDispatchAfter waits up to limit for a run dispatched after t.
func (r *recorder) nextDispatchAfter(ctx context.Context, t time.Time, limit time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var first time.Time
		for _, ru := range r.snapshot() {
			if ru.dispatched.After(t) && (first.IsZero() || ru.dispatched.Before(first)) {
				first = ru.dispatched
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
// client, and returns when the last of them was dispatched there.
func (r *recorder) redispatched(ctx context.Context, held map[string]bool, dead string, limit time.Duration) (time.Time, bool) {
	if len(held) == 0 {
		return time.Time{}, false
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var last time.Time
		moved := map[string]bool{}
		for _, ru := range r.snapshot() {
			if held[ru.snapshot] && ru.client != dead {
				moved[ru.snapshot] = true
				if ru.dispatched.After(last) {
					last = ru.dispatched
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
