package worker

import (
	"context"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// watchClock measures this worker's clock offset from the leader's and
// exports it (pink_worker_clock_offset_seconds and its error bound). The
// leader publishes its wall time every few seconds; each stamp gives one
// sample (see clockSample). A worker starts a run at its scheduled time by
// its own clock, so an offset of d starts runs d early. The returned func
// stops it and waits for it.
func (w *Worker) watchClock(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var est clockEstimate
		err := w.st.WatchClock(ctx, func(stamp store.ClockStamp, received time.Time) {
			rctx, rcancel := context.WithTimeout(ctx, reportTimeout)
			_, err := w.st.ClockRoundTrip(rctx)
			rcancel()
			if err != nil {
				est.forget()
				return
			}
			// Timed from the arrival, not from the read's start: a backlog
			// in this process between the two delayed the arrival too.
			rtt := time.Since(received)
			if offset, bound, ok := est.observe(stamp, received, rtt); ok {
				w.clock.Set(offset, bound)
			}
		})
		if err != nil && ctx.Err() == nil {
			w.log.Error("clock watch stopped; pink_worker_clock_offset_seconds may be stale", "err", err)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// clockSample is what one stamp tells: this worker's clock minus the
// leader's is at most hi and at least hi - width.
//
// The leader read its clock (SentAt) before it sent the write, and the
// watch event arrived after etcd committed it: so when the event arrived
// the leader's clock read SentAt or later, and the offset is at most
// received - SentAt, whatever the delays. The write was committed at most
// its round trip (which the leader's next stamp tells) after SentAt, and,
// assumed, its event took at most two of this worker's round trips to etcd
// to arrive: width is their sum. One round trip, the cost of the event's
// one-way trip, was not enough under load (1 sample in 12 on two busy
// cores): a watch event takes more hops than a read, etcd's watch send
// queue and the client's dispatch goroutine, each a wake-up on a busy CPU.
type clockSample struct{ hi, width time.Duration }

// clockWindow is how many samples an estimate keeps: half a minute of
// stamps, over which clocks drift by microseconds.
const clockWindow = 6

// clockEstimate estimates the offset from the last clockWindow samples of
// one leader (its successor's clock is another reference). It uses the
// sample with the smallest hi: the stamp that traveled fastest, least
// inflated by a slow etcd, a GC pause or a watch that fell behind.
type clockEstimate struct {
	leader  string
	samples []clockSample
	// last is the latest stamp, waiting for the next one to tell its
	// write's round trip.
	last *lastStamp
}

type lastStamp struct {
	leader string
	sentAt time.Time
	hi     time.Duration
	rtt    time.Duration // this worker's round trip after it arrived
}

// observe takes a stamp that arrived at received, followed by a round trip
// of rtt to etcd. With the stamp before it, whose write's round trip it
// carries, it makes a sample and returns the estimate (ok).
func (e *clockEstimate) observe(stamp store.ClockStamp, received time.Time, rtt time.Duration) (offset, bound time.Duration, ok bool) {
	prev := e.last
	e.last = &lastStamp{leader: stamp.Leader, sentAt: stamp.SentAt, hi: received.Sub(stamp.SentAt), rtt: rtt}
	if prev == nil || stamp.Prev == nil || prev.leader != stamp.Leader || !prev.sentAt.Equal(stamp.Prev.SentAt) {
		return 0, 0, false
	}
	offset, bound = e.add(stamp.Leader, clockSample{hi: prev.hi, width: stamp.Prev.RTT + 2*prev.rtt})
	return offset, bound, true
}

// forget drops the latest stamp: this worker could not time its round
// trip after it.
func (e *clockEstimate) forget() { e.last = nil }

// add records a sample of leader's clock and returns the estimate: the
// midpoint of the best sample's bounds, and half their width.
func (e *clockEstimate) add(leader string, s clockSample) (offset, bound time.Duration) {
	if leader != e.leader {
		e.leader, e.samples = leader, e.samples[:0]
	}
	if len(e.samples) == clockWindow {
		e.samples = append(e.samples[:0], e.samples[1:]...)
	}
	e.samples = append(e.samples, s)
	best := e.samples[0]
	for _, c := range e.samples[1:] {
		if c.hi < best.hi {
			best = c
		}
	}
	return best.hi - best.width/2, best.width / 2
}
