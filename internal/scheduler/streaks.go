package scheduler

import (
	"context"
	"sync"
	"time"
)

// A job's failure streak is how many of its newest fires failed in a row
// (store.FailureStreak). The view asks for a recount each time a job's last
// failure passes its last success (todo.streaks); a success ends the
// streak at once. The counting reads history, so it runs off the term's
// loop, in countStreaks, which hands each count back through done.

// streakCount is one recount's result.
type streakCount struct {
	job string
	n   int
}

// streakCounter is the queue between the view and countStreaks: the jobs
// to recount, coalesced (a job that fails again while it waits is counted
// once).
type streakCounter struct {
	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
	done    chan streakCount
}

func newStreakCounter() *streakCounter {
	return &streakCounter{pending: map[string]bool{}, wake: make(chan struct{}, 1), done: make(chan streakCount, 64)}
}

// request queues the jobs for a recount.
func (c *streakCounter) request(jobs map[string]bool) {
	c.mu.Lock()
	for j := range jobs {
		c.pending[j] = true
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *streakCounter) take() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending
	c.pending = map[string]bool{}
	return p
}

// countStreaks recounts the requested jobs' streaks until ctx ends. A read
// that fails is tried again a second later.
func (t *term) countStreaks(ctx context.Context) {
	c := t.streaks
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		for name := range c.take() {
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			n, err := t.st.FailureStreak(rctx, name)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				t.log.Warn("cannot count a job's failed fires from its history; trying again", "job_name", name, "err", err)
				c.request(map[string]bool{name: true})
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				continue
			}
			select {
			case c.done <- streakCount{job: name, n: n}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// noteStreak follows a change of the job's last success or failure.
func (v *view) noteStreak(name string) {
	l := v.last[name]
	if l != nil && l.failure.After(l.success) {
		v.todo.streaks[name] = true
		return
	}
	delete(v.todo.streaks, name)
	if l != nil {
		l.streak = 0
	}
	v.exportStreak(name)
}

// setStreak takes a recount, unless a success came since it was asked for.
func (v *view) setStreak(c streakCount) {
	l := v.last[c.job]
	if l == nil || !l.failure.After(l.success) {
		return
	}
	l.streak = c.n
	v.exportStreak(c.job)
}

// exportStreak sets a known job's streak and threshold gauges, and notes
// whether the job counts among its group's failing jobs.
func (v *view) exportStreak(name string) {
	js := v.jobs[name]
	if js == nil {
		return
	}
	n := 0
	if l := v.last[name]; l != nil {
		n = l.streak
	}
	v.metrics.SetJobFailures(name, js.spec.Group, n, js.spec.AlertFailures())
	v.setFailing(name, js.spec.Group, n > 0 && n >= js.spec.AlertFailures())
}

// setFailing counts the job among group's failing jobs or not, and marks
// the groups' failing counts for export only when that changes: most runs
// leave it as it was, and the export walks every failing job.
func (v *view) setFailing(name, group string, failing bool) {
	g, was := v.failing[name]
	switch {
	case failing && (!was || g != group):
		v.failing[name] = group
	case !failing && was:
		delete(v.failing, name)
	default:
		return
	}
	v.failingDirty = true
}

// takeStreaks returns the jobs to recount and forgets them.
func (v *view) takeStreaks() map[string]bool {
	s := v.todo.streaks
	v.todo.streaks = map[string]bool{}
	return s
}

// failingByGroup counts, per group, the jobs whose streak reached their
// alert threshold.
func (v *view) failingByGroup() map[string]int {
	out := map[string]int{}
	for _, group := range v.failing {
		out[group]++
	}
	return out
}
