package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// compactSteps is how many marks the leader notes per compaction interval:
// etcd keeps between one interval of history and one interval and a step.
const compactSteps = 5

// compaction compacts etcd while this node leads, as the Kubernetes API
// server does: without it etcd keeps every revision of every key forever
// and reaches its quota in days. Every cfg.CompactEvery/compactSteps it
// writes a fenced mark and compacts to the newest mark at least
// cfg.CompactEvery old, so etcd always keeps the last interval of history
// (watches that far behind resume without a re-list). While etcd is more
// than half full (cfg.SpacePressure) it keeps only one step, so a burst of
// writes cannot run it out of space before the interval is up.
func (t *term) compaction(ctx context.Context) {
	if t.cfg.CompactEvery < 0 {
		return
	}
	step := max(t.cfg.CompactEvery/compactSteps, 100*time.Millisecond)
	tick := time.NewTicker(step)
	defer tick.Stop()
	c := &compactor{keep: t.cfg.CompactEvery, step: step}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := t.compact(ctx, c); err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrNotLeader) {
			t.log.Warn("etcd compaction failed; retrying on the next tick", "err", err)
		}
	}
}

// compactor is the compaction goroutine's state: the marks it has noted
// (oldest first) and the revision it last compacted to.
type compactor struct {
	keep, step time.Duration
	marks      []store.CompactionMark
	compacted  int64
	pressure   bool
}

// target is the newest mark at least keep old at now (0 if none), and
// drops the marks older than it.
func (c *compactor) target(now time.Time, keep time.Duration) int64 {
	i := -1
	for j, m := range c.marks {
		if !m.At.After(now.Add(-keep)) {
			i = j
		}
	}
	if i < 0 {
		return 0
	}
	rev := c.marks[i].Rev
	c.marks = c.marks[i:]
	return rev
}

// compact notes a mark and compacts to the newest one old enough.
func (t *term) compact(ctx context.Context, c *compactor) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	now := t.cfg.Now()
	prev, cur, err := t.st.MarkCompaction(ctx, t.fence, now)
	if err != nil {
		return err
	}
	if len(c.marks) == 0 && prev.Rev > 0 && !prev.At.IsZero() {
		c.marks = append(c.marks, prev) // the previous leader's last mark
	}
	c.marks = append(c.marks, cur)
	keep := c.keep
	if pressure := t.cfg.SpacePressure(); pressure != c.pressure {
		c.pressure = pressure
		if pressure {
			t.log.Warn("etcd is more than half full: compacting to keep only the last step of history", "keep", c.step)
		} else {
			t.log.Info("etcd is below half full again: compaction keeps the whole interval", "keep", c.keep)
		}
	}
	if c.pressure {
		keep = c.step
	}
	rev := c.target(now, keep)
	if rev <= c.compacted {
		return nil
	}
	start := time.Now()
	err = t.st.Compact(ctx, rev)
	took := time.Since(start)
	t.cfg.Space.Compacted(rev, took, err)
	if err != nil {
		return err
	}
	c.compacted = rev
	t.log.Info("etcd compacted", "revision", rev, "kept", keep, "took", took.Round(time.Millisecond))
	return nil
}
