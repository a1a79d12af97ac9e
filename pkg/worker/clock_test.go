package worker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// clockOffset reads a worker's offset gauges: ok is false until the first
// measurement.
func clockOffset(t *testing.T, reg *telemetry.Registry) (offset, bound time.Duration, ok bool) {
	t.Helper()
	g := reg.Prometheus()
	if pinktest.Series(t, g, "pink_worker_clock_offset_seconds", nil) == 0 {
		return 0, 0, false
	}
	sec := func(name string) time.Duration {
		return time.Duration(pinktest.Metric(t, g, name, nil) * float64(time.Second))
	}
	return sec("pink_worker_clock_offset_seconds"), sec("pink_worker_clock_offset_error_seconds"), true
}

// TestClockOffsetFromLeader: a worker measures its clock against a real
// leader's: here they share one clock, so the true offset, 0, is within
// the error bound of the estimate, and the bound is a few milliseconds.
// There is no offset series before the first measurement. The leader
// exports the lookahead it fires with.
func TestClockOffsetFromLeader(t *testing.T) {
	c := pinktest.NewCluster(t)
	reg, sreg := telemetry.NewRegistry(), telemetry.NewRegistry()
	c.StartWorker(t, "g", ok, func(cfg *worker.Config) { cfg.Registerer = reg })
	if _, _, measured := clockOffset(t, reg); measured {
		t.Error("an offset before any leader published its clock")
	}
	c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) { o.Registerer = sreg })
	var offset, bound time.Duration
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		var measured bool
		offset, bound, measured = clockOffset(t, reg)
		return measured, "no clock offset measured"
	})
	t.Logf("offset %v ± %v", offset, bound)
	if offset.Abs() > bound || bound > 100*time.Millisecond {
		t.Errorf("offset %v ± %v: want 0 within the bound, and a bound under 100ms", offset, bound)
	}
	if n := pinktest.Series(t, sreg.Prometheus(), "pink_scheduler_lookahead_seconds", nil); n != 1 {
		t.Errorf("%d pink_scheduler_lookahead_seconds series on the leader, want 1", n)
	}
}

// TestClockOffsetSkewed: against a leader whose clock is 400ms ahead, a
// worker measures -400ms, within its error bound; a deposed leader cannot
// publish its clock.
func TestClockOffsetSkewed(t *testing.T) {
	const skew = 400 * time.Millisecond
	c := pinktest.NewCluster(t)
	st := store.New(c.Etcd.Client, c.Root)
	reg := telemetry.NewRegistry()
	c.StartWorker(t, "g", ok, func(cfg *worker.Config) { cfg.Registerer = reg })
	sess, key, rev := pinktest.Campaign(t, c.Etcd.Client, st.ElectionPrefix(), "fake-leader")
	fence := store.Fence{Key: key, Rev: rev}
	ctx := context.Background()
	var prev *store.ClockWrite
	measured := 0
	for range 20 {
		start, sent := time.Now(), time.Now().Add(skew)
		if err := st.PublishClock(ctx, fence, store.ClockStamp{Leader: "fake-leader", SentAt: sent, Prev: prev}); err != nil {
			t.Fatal(err)
		}
		prev = &store.ClockWrite{SentAt: sent, RTT: time.Since(start)}
		time.Sleep(50 * time.Millisecond)
		offset, bound, ok := clockOffset(t, reg)
		if !ok {
			continue
		}
		measured++
		if (offset+skew).Abs() > bound || bound > 100*time.Millisecond {
			t.Errorf("offset %v ± %v, want %v within the bound, and a bound under 100ms", offset, bound, -skew)
		}
	}
	offset, bound, _ := clockOffset(t, reg)
	t.Logf("offset %v ± %v after %d measurements", offset, bound, measured)
	if measured < 10 {
		t.Errorf("%d measurements of 20 stamps", measured)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	err := st.PublishClock(ctx, fence, store.ClockStamp{Leader: "fake-leader", SentAt: time.Now()})
	if !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("a deposed leader published its clock: %v", err)
	}
}
