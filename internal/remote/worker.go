package remote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// Run is a run handed to a remote worker: claimed for it (state running),
// with the token its result must carry.
type Run struct {
	worker.Run
	Claim       string
	Deadline    time.Time
	TraceParent string
}

// Result is what a remote worker reports of a run.
type Result struct {
	Succeeded     bool
	Output, Error string
}

// call is one run between its handler (which waits) and the client.
type call struct {
	run      Run
	result   chan Result // the client's, once
	reported chan error  // the result transaction's outcome (worker.Config.Reported)
}

// remoteWorker is one registered client: the Go worker that holds its
// lease and claims, and the runs waiting for its polls and results.
type remoteWorker struct {
	r      *Registry
	group  string
	id     string
	ttl    time.Duration
	w      *worker.Worker
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	lastSeen time.Time
	polling  int
	// wanted is how many runs the polls in progress ask for: the Go worker
	// claims no more than that (admit), so that runs its client does not
	// ask for stay unclaimed and move elsewhere (at once when it drains).
	wanted  int
	queue   []*call          // handed by the worker, not polled yet
	calls   map[string]*call // by snapshot id, until reported
	arrived chan struct{}    // a signal: the queue grew
}

func newRemoteWorker(r *Registry, group string, reg Registration) *remoteWorker {
	ctx, cancel := context.WithCancel(r.ctx)
	rw := &remoteWorker{r: r, group: group, ttl: reg.TTL, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		lastSeen: r.cfg.Now(), calls: map[string]*call{}, arrived: make(chan struct{}, 1)}
	name := reg.Name
	if name == "" {
		name = "remote"
	}
	rw.w = worker.New(worker.Config{Client: r.cfg.Client, Root: r.cfg.Root, Group: group, Name: name, Capacity: reg.Capacity,
		// A stopped worker's running runs may report for a TTL: its client
		// drains before it finishes them. It claims what its client's polls
		// ask for, at the nominal time (no claim ahead).
		LeaseTTL: reg.TTL, DrainTimeout: reg.TTL, ClaimAhead: -1, Version: r.cfg.Version, Via: r.cfg.NodeID, Logger: r.cfg.Logger,
		Registerer: r.cfg.Registerer, TracerProvider: r.cfg.TracerProvider, EndpointsChanged: r.cfg.EndpointsChanged,
		Reported: rw.reported, Admit: rw.admit})
	for _, t := range slices.Compact(slices.Sorted(slices.Values(reg.Targets))) {
		rw.w.Handle(t, rw.handle)
	}
	return rw
}

// stop ends the worker (a drain in which its running runs may report for
// a TTL; a dead client reports nothing, and they are lost after it) and
// waits for it.
func (rw *remoteWorker) stop() {
	rw.cancel()
	<-rw.done
}

// touch records a sign of life of the client.
func (rw *remoteWorker) touch() {
	rw.mu.Lock()
	rw.lastSeen = rw.r.cfg.Now()
	rw.mu.Unlock()
}

// dead says why the client counts as gone, or "" while it lives: it has
// polled or heartbeated within its TTL (a poll in progress counts), and
// its registration is the one it registered (a lost lease makes the Go
// worker register again, under another id the client does not know).
func (rw *remoteWorker) dead(now time.Time) string {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if id := rw.w.ID(); id != rw.id {
		return "its registration ended (lease lost)"
	}
	if rw.polling == 0 && now.Sub(rw.lastSeen) > rw.ttl {
		return fmt.Sprintf("no poll or heartbeat for %s", now.Sub(rw.lastSeen).Round(time.Millisecond))
	}
	return ""
}

// admit is how many of n runs the Go worker may claim: what the polls in
// progress ask for beyond what waits for them already.
func (rw *remoteWorker) admit(n int) int {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return min(n, max(rw.wanted-len(rw.queue), 0))
}

// handle is the Go worker's handler of every target: it hands the run to
// the client's poll and waits for its result, the job's timeout (ctx) or
// the worker's end.
func (rw *remoteWorker) handle(ctx context.Context, run worker.Run) (string, error) {
	deadline, _ := ctx.Deadline()
	c := &call{run: Run{Run: run, Claim: claimToken(), Deadline: deadline, TraceParent: telemetry.TraceParent(ctx)},
		result: make(chan Result, 1), reported: make(chan error, 1)}
	rw.mu.Lock()
	rw.queue = append(rw.queue, c)
	rw.calls[run.SnapshotID] = c
	rw.mu.Unlock()
	select {
	case rw.arrived <- struct{}{}:
	default:
	}
	select {
	case res := <-c.result:
		if res.Succeeded {
			return res.Output, nil
		}
		if res.Error == "" {
			res.Error = "the worker reported failure"
		}
		return res.Output, errors.New(res.Error)
	case <-ctx.Done():
		rw.mu.Lock()
		rw.queue = slices.DeleteFunc(rw.queue, func(q *call) bool { return q == c })
		delete(rw.calls, run.SnapshotID)
		rw.mu.Unlock()
		return "", ctx.Err()
	}
}

// reported hands a result transaction's outcome to the result request
// that waits for it.
func (rw *remoteWorker) reported(run worker.Run, err error) {
	rw.mu.Lock()
	c := rw.calls[run.SnapshotID]
	delete(rw.calls, run.SnapshotID)
	rw.mu.Unlock()
	if c != nil {
		c.reported <- err
	}
}

// poll returns up to max runs handed to the client, waiting up to wait for
// the first one.
func (rw *remoteWorker) poll(ctx context.Context, max int, wait time.Duration) []Run {
	rw.mu.Lock()
	rw.polling++
	rw.wanted += max
	rw.mu.Unlock()
	rw.w.Wake()
	defer func() {
		rw.mu.Lock()
		rw.polling--
		rw.wanted -= max
		rw.lastSeen = rw.r.cfg.Now()
		rw.mu.Unlock()
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		rw.mu.Lock()
		n := min(max, len(rw.queue))
		taken := rw.queue[:n:n]
		rw.queue = slices.Clone(rw.queue[n:])
		rw.mu.Unlock()
		if n > 0 {
			out := make([]Run, n)
			for i, c := range taken {
				out[i] = c.run
			}
			return out
		}
		select {
		case <-rw.arrived:
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		case <-rw.done:
			return nil
		}
	}
}

// result delivers the client's result of run snapshotID and waits for its
// transaction's outcome.
func (rw *remoteWorker) result(ctx context.Context, snapshotID, claim string, res Result) error {
	rw.mu.Lock()
	c := rw.calls[snapshotID]
	rw.mu.Unlock()
	if c == nil || c.run.Claim != claim {
		return ErrClaimLost
	}
	select {
	case c.result <- res:
	default:
		return ErrClaimLost // reported already
	}
	wait, cancel := context.WithTimeout(ctx, reportWait)
	defer cancel()
	select {
	case err := <-c.reported:
		if errors.Is(err, worker.ErrRefused) {
			return ErrClaimLost
		}
		return err
	case <-wait.Done():
		return fmt.Errorf("the result of %s: %w", snapshotID, wait.Err())
	}
}
