package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
)

// errNotLeader ends a term: a fenced write found that this node no longer
// holds the election.
var errNotLeader = errors.New("fenced write refused: no longer the leader")

// requestTimeout bounds each etcd request of the leader, so one stuck
// request cannot stall the fire loop: a request that hangs went to an etcd
// member that died, froze or lost its leader, and the loop's retry goes to
// one that answers (the endpoint checker takes the bad one out). A fire
// batch commits in milliseconds on a healthy etcd and etcd elects a new
// leader in about a second, so 2 s outlasts a slow commit and an election
// without leaving the fires of the seconds after them waiting.
const requestTimeout = 2 * time.Second

// term is one period of leadership: it owns the fence every write carries,
// the view of the cluster, the queue of jobs by next fire, and the timers
// of what else is due; its actions (fire, dispatch, failover, backfill,
// summaries) turn the view into fenced writes. A single goroutine (run)
// applies the mirrors' deliveries and acts on them, so no state is shared
// and no lock is needed.
type term struct {
	cfg    *Config
	st     *store.Store
	fence  store.Fence
	log    *slog.Logger
	view   *view
	counts *counters
	queue  fireQueue
	in     chan batch
	// reachable hears from watchQuorum each time etcd's quorum answered:
	// a loop waiting out a retry delay after etcd errors tries at once.
	reachable chan struct{}
	// etcdBack is when (unix ns, the term's clock) etcd answered the
	// quorum check again after failing it; 0 if it never failed.
	etcdBack atomic.Int64

	// retryAt is when to retry after an etcd error; zero if none. Until
	// then the loop does nothing, even for work that is due: etcd refused
	// it a moment ago (down, or out of space), and asking again at once
	// would only hammer it. retryDelay doubles with each failed step.
	retryAt    time.Time
	retryDelay time.Duration
	// nextDue is the earliest time a pending retry may be dispatched.
	nextDue time.Time
	// nextResume is the earliest paused_until of a paused job.
	nextResume time.Time
	// nextStallCheck is when findStalled looks again (stall.go).
	nextStallCheck time.Time
	// targets is the list of jobs retention trims, published from the view
	// (see publishTargets); targetsDirty says jobs changed since.
	targets      atomic.Pointer[[]trimTarget]
	targetsDirty bool
	targetsAt    time.Time
	// budgetKept is the runs per job retention last reported (its goroutine
	// only).
	budgetKept int
	// manualFires holds the traceparent of the pink.fire span of a manual
	// trigger's fire, by fire id, until all its shards are dispatched.
	manualFires map[string]*manualFire
	// pendingNotice says when fires wait for a worker, once a minute per
	// group.
	pendingNotice pendingNotice
	// streaks recounts jobs' failure streaks off the loop (streaks.go);
	// failing is the last count of failing jobs per group.
	streaks *streakCounter
	failing map[string]int
	// overdue is the last count of overdue jobs per group, taken at most
	// every overdueEvery (overdue.go).
	overdue   map[string]int
	overdueAt time.Time
}

func newTerm(cfg *Config, log *slog.Logger, fence store.Fence) *term {
	log = log.With("term", fence.Rev)
	v := newView(cfg.Metrics, log, cfg.Now, cfg.Store)
	return &term{cfg: cfg, st: cfg.Store, fence: fence, log: log, view: v, counts: v.counts,
		in: make(chan batch, 64), reachable: make(chan struct{}, 1), manualFires: map[string]*manualFire{}, streaks: newStreakCounter()}
}

// run leads until ctx ends or a fenced write shows leadership is gone.
func (t *term) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	t.startMirrors(ctx, &wg)
	wg.Add(4)
	go func() {
		defer wg.Done()
		t.retention(ctx)
	}()
	go func() {
		defer wg.Done()
		t.countStreaks(ctx)
	}()
	go func() {
		defer wg.Done()
		t.watchQuorum(ctx)
	}()
	go func() {
		defer wg.Done()
		t.compaction(ctx)
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b := <-t.in:
			t.apply(b)
			// Take what else has arrived before acting, so a burst of
			// events costs one pass.
			for drained := false; !drained; {
				select {
				case b := <-t.in:
					t.apply(b)
				default:
					drained = true
				}
			}
		case <-timer.C:
		case <-t.reachable:
			if t.retryAt.IsZero() {
				continue
			}
			t.retryAt = time.Time{}
		case c := <-t.streaks.done:
			// A count changes gauges, not what the leader does next.
			t.view.setStreak(c)
			if t.view.ready && t.view.failingDirty {
				t.updateGauges()
			}
			continue
		}
		if !t.view.ready {
			continue
		}
		if now := t.cfg.Now(); now.Before(t.retryAt) {
			timer.Reset(t.retryAt.Sub(now))
			continue
		}
		if err := t.step(ctx); err != nil {
			return err
		}
		timer.Reset(t.untilNextWake())
	}
}

// apply folds one mirror delivery into the view and requeues the jobs it
// changed.
func (t *term) apply(b batch) {
	b.apply(t.view)
	if s := t.view.takeStreaks(); len(s) > 0 {
		t.streaks.request(s)
	}
	if b.source == "jobs" || b.synced {
		t.targetsDirty = true
	}
	if b.synced {
		t.view.markSynced(b.source, len(sources))
	}
	for js := range t.view.takeReschedule() {
		if t.view.jobs[js.spec.Name] == js {
			t.reschedule(js)
		} else {
			t.queue.remove(js)
		}
	}
}

// reschedule queues js at its next fire, or takes it out of the queue while
// it has none, and exports when that is.
func (t *term) reschedule(js *jobState) {
	js.next = t.view.nextFire(js)
	js.writeAt = js.next
	next := js.next // the next nominal time to run, for the gauge
	if t.writesAhead(js) && !js.next.IsZero() {
		js.writeAt = js.next.Add(-t.cfg.Lookahead)
		// js.next is the next fire to write; those before it are written
		// already and run first.
		if soonest := js.sched.Next(t.cfg.Now()); soonest.Before(next) {
			next = soonest
		}
	}
	if js.next.IsZero() {
		t.queue.remove(js)
	} else {
		t.queue.set(js)
	}
	t.cfg.Metrics.SetJob(js.spec.Name, js.spec.Group, next, js.interval)
}

// untilNextWake is how long the loop may sleep: until the next fire, a
// pending retry, or a periodic check; after an error, until the retry.
func (t *term) untilNextWake() time.Duration {
	now := t.cfg.Now()
	if !t.retryAt.IsZero() {
		return max(t.retryAt.Sub(now), 0)
	}
	wake := now.Add(time.Minute)
	if js := t.queue.peek(); js != nil && js.writeAt.Before(wake) {
		wake = js.writeAt
	}
	for _, at := range []time.Time{t.retryAt, t.nextDue, t.nextResume, t.nextStallCheck} {
		if !at.IsZero() && at.Before(wake) {
			wake = at
		}
	}
	return max(wake.Sub(now), 0)
}

// step does everything that is due: fires, failovers, dispatch of pending
// snapshots, summaries of sharded fires, and gauges. Transient etcd errors
// are retried shortly; only loss of leadership or ctx ends the term.
func (t *term) step(ctx context.Context) error {
	t.retryAt = time.Time{}
	var errs []error
	for _, f := range []func(context.Context) error{t.autoResume, t.settleStale, t.fireDue, t.findStalled, t.failover, t.runBackfills, t.dispatchPending, t.summarize} {
		err := f(ctx)
		if errors.Is(err, errNotLeader) || ctx.Err() != nil {
			if err == nil {
				err = ctx.Err()
			}
			return err
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		t.retryDelay = 0
	} else {
		t.retryDelay = min(max(2*t.retryDelay, firstRetryDelay), maxRetryDelay)
		t.retryAt = t.cfg.Now().Add(t.retryDelay)
		for _, err := range errs {
			t.log.Warn("etcd request failed; retrying", "err", err, "in", t.retryDelay)
		}
	}
	t.updateGauges()
	t.publishTargets()
	return nil
}

// Retry delays after failed steps: the first is short (a lost connection
// comes back at once), later ones double up to a bound that keeps a
// recovered etcd from waiting long for the leader.
const (
	firstRetryDelay = 250 * time.Millisecond
	maxRetryDelay   = 2 * time.Second
)

// autoResume resumes paused jobs whose paused_until has passed.
func (t *term) autoResume(ctx context.Context) error {
	now := t.cfg.Now()
	t.nextResume = time.Time{}
	for _, js := range t.view.resumable {
		until := js.spec.PausedUntil
		if !js.spec.Paused || until == nil || js.staleRev == js.spec.Revision {
			continue
		}
		if until.After(now) {
			if t.nextResume.IsZero() || until.Before(t.nextResume) {
				t.nextResume = *until
			}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		resumed, err := t.st.AutoResume(rctx, t.fence, js.spec, now)
		cancel()
		if err != nil {
			return fmt.Errorf("auto-resume %s: %w", js.spec.Name, err)
		}
		if resumed {
			t.log.Info("pause expired; job resumed", "job_name", js.spec.Name, "paused_until", until)
		}
		// Either way the job's watch event brings its new state.
		js.staleRev = js.spec.Revision
	}
	return nil
}

func (t *term) updateGauges() {
	m := t.cfg.Metrics
	m.SetJobs(len(t.view.jobs)-t.view.paused, t.view.paused)
	if t.view.failingDirty {
		t.failing, t.view.failingDirty = t.view.failingByGroup(), false
	}
	if now := t.cfg.Now(); !now.Before(t.overdueAt) {
		t.overdue, t.overdueAt = t.view.overdueByGroup(now), now.Add(overdueEvery)
	}
	for name, g := range t.view.groups {
		paused := t.view.groupPaused[name]
		m.SetGroup(name, telemetry.GroupState{Clients: len(g.clients), Pending: len(g.pending), Inflight: len(g.assigned),
			Active: t.view.groupJobs[name] - paused, Paused: paused, Failing: t.failing[name], Overdue: t.overdue[name]})
	}
}
