// Package remote is the scheduler node's side of pink's HTTP worker
// protocol: a process that is not written in Go, or has no etcd client,
// registers as a worker of a group through a scheduler node, long-polls for
// its runs and reports their results. For each such worker the node runs a
// pkg/worker Worker of the group — with the same lease, claims, timeouts,
// retries, fencing, metrics and traces as any Go worker — whose handlers
// hand each run to the remote worker's poll and wait for its result. When
// the remote worker stops polling and heartbeating for its TTL, the node
// stops that Worker as a crashed process stops: its running runs are
// recorded lost and retried, its unstarted ones move at once.
package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
)

// Errors of the protocol, each an answer a client acts on.
var (
	// ErrGone: the worker id is not (or no longer) registered here: its
	// lease ended and its runs moved; the client registers again.
	ErrGone = errors.New("remote: worker gone")
	// ErrClaimLost: the result's run is not this worker's to report (it
	// was moved, retried elsewhere, timed out, or reported already).
	ErrClaimLost = errors.New("remote: claim lost")
	// ErrInvalid: the request's values are not ones the protocol takes.
	ErrInvalid = errors.New("remote: invalid")
)

// Bounds of what a client may ask for.
const (
	MaxCapacity = 256
	MinTTL      = 2 * time.Second
	MaxTTL      = 5 * time.Minute
	DefaultTTL  = 10 * time.Second
	MaxWait     = time.Minute
	// reportWait bounds how long a result waits for its transaction.
	reportWait = 10 * time.Second
)

// Config is what every remote worker of a node shares.
type Config struct {
	Client         *clientv3.Client
	Root           string
	Registerer     prometheus.Registerer
	TracerProvider trace.TracerProvider
	Logger         *slog.Logger
	Version        string
	// NodeID is the id of the scheduler node serving the protocol, written
	// in each remote worker's registration (cluster.Client.Via) so that
	// other nodes forward its requests here.
	NodeID string
	// EndpointsChanged is worker.Config's: the etcd endpoints the node's
	// client uses changed.
	EndpointsChanged func() <-chan struct{}
	// Now is the clock of the liveness checks (tests); nil is time.Now.
	Now func() time.Time
}

// Registration is what a client registers with.
type Registration struct {
	Name     string
	Capacity int
	Targets  []string
	TTL      time.Duration
}

// Registry holds a node's remote workers.
type Registry struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	workers map[string]*remoteWorker
}

// New starts a registry; Close stops it and every remote worker in it.
func New(cfg Config) *Registry {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Registry{cfg: cfg, ctx: ctx, cancel: cancel, workers: map[string]*remoteWorker{}}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.watch(ctx)
	}()
	return r
}

// Close stops every remote worker (as a drain) and waits for them.
func (r *Registry) Close() {
	r.cancel()
	r.wg.Wait()
}

// Register starts a remote worker of group and returns its id once it is
// registered in etcd (a client of the group like any other).
func (r *Registry) Register(ctx context.Context, group string, reg Registration) (string, time.Duration, error) {
	if err := validate(group, &reg); err != nil {
		return "", 0, err
	}
	// As pink worker does: a worker's group exists from its first worker.
	st := store.New(r.cfg.Client, r.cfg.Root)
	if err := st.EnsureGroup(ctx, cluster.Group{Name: group, Description: "created by a remote worker",
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}); err != nil {
		return "", 0, fmt.Errorf("create group %s: %w", group, err)
	}
	rw := newRemoteWorker(r, group, reg)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(rw.done)
		_ = rw.w.Run(rw.ctx)
		r.forget(rw)
	}()
	for {
		if id := rw.w.ID(); id != "" {
			r.mu.Lock()
			rw.id = id
			r.workers[id] = rw
			r.mu.Unlock()
			r.cfg.Logger.Info("remote worker registered", "group", group, "client", id, "name", reg.Name, "capacity", reg.Capacity,
				"targets", reg.Targets, "ttl", reg.TTL)
			return id, reg.TTL, nil
		}
		select {
		case <-ctx.Done():
			rw.stop()
			return "", 0, fmt.Errorf("register a remote worker of %s: %w", group, ctx.Err())
		case <-rw.done:
			return "", 0, fmt.Errorf("register a remote worker of %s: its worker stopped", group)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func validate(group string, reg *Registration) error {
	if err := job.CheckName("group", group); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if reg.Capacity == 0 {
		reg.Capacity = 1
	}
	if reg.Capacity < 1 || reg.Capacity > MaxCapacity {
		return fmt.Errorf("%w: capacity must be 1 to %d, got %d", ErrInvalid, MaxCapacity, reg.Capacity)
	}
	if len(reg.Targets) == 0 {
		return fmt.Errorf("%w: targets must name the targets this worker runs (its handlers)", ErrInvalid)
	}
	for _, t := range reg.Targets {
		if !job.ValidTarget(t) {
			return fmt.Errorf("%w: target %q: use 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':', '/', '-'", ErrInvalid, t)
		}
	}
	if reg.TTL == 0 {
		reg.TTL = DefaultTTL
	}
	if reg.TTL < MinTTL || reg.TTL > MaxTTL {
		return fmt.Errorf("%w: ttl must be %s to %s, got %s", ErrInvalid, MinTTL, MaxTTL, reg.TTL)
	}
	if len(reg.Name) > 64 {
		return fmt.Errorf("%w: name longer than 64 bytes", ErrInvalid)
	}
	return nil
}

// get returns the registered remote worker id (of group, unless group is
// "").
func (r *Registry) get(group, id string) (*remoteWorker, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rw := r.workers[id]
	if rw == nil || (group != "" && rw.group != group) {
		return nil, ErrGone
	}
	return rw, nil
}

// forget takes a stopped remote worker out.
func (r *Registry) forget(rw *remoteWorker) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.workers[rw.id] == rw {
		delete(r.workers, rw.id)
	}
}

// watch stops the remote workers whose client went silent for their TTL
// (or whose registration was replaced after its lease ended) until ctx
// ends, then stops them all.
func (r *Registry) watch(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			all := make([]*remoteWorker, 0, len(r.workers))
			for _, rw := range r.workers {
				all = append(all, rw)
			}
			r.workers = map[string]*remoteWorker{}
			r.mu.Unlock()
			for _, rw := range all {
				rw.stop()
			}
			return
		case <-tick.C:
		}
		now := r.cfg.Now()
		r.mu.Lock()
		var dead []*remoteWorker
		for _, rw := range r.workers {
			if rw.ctx.Err() != nil {
				continue // draining: it ends by itself
			}
			if why := rw.dead(now); why != "" {
				dead = append(dead, rw)
				r.cfg.Logger.Warn("remote worker gone; its running runs will be retried", "group", rw.group, "client", rw.id, "why", why)
			}
		}
		r.mu.Unlock()
		for _, rw := range dead {
			// Its worker drains and then forgets itself; a dead client
			// reports nothing, so its running runs are lost after the drain.
			rw.cancel()
		}
	}
}

// claimToken is a fresh token a result must carry.
func claimToken() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // cannot happen on Linux
	}
	return hex.EncodeToString(b[:])
}

// Poll returns up to max of the runs handed to worker id of group,
// waiting up to wait (at most MaxWait) for the first: a long
// poll, which counts as a heartbeat while it lasts. A draining worker is
// handed nothing more (ErrGone).
func (r *Registry) Poll(ctx context.Context, group, id string, max int, wait time.Duration) ([]Run, error) {
	rw, err := r.get(group, id)
	if err != nil {
		return nil, err
	}
	if rw.ctx.Err() != nil {
		return nil, ErrGone
	}
	if max < 1 || wait < 0 || wait > MaxWait {
		return nil, fmt.Errorf("%w: max must be at least 1 and wait 0 to %s", ErrInvalid, MaxWait)
	}
	return rw.poll(ctx, max, wait), nil
}

// Heartbeat records that worker id of group lives (ErrGone once it
// drains: only its results are taken then).
func (r *Registry) Heartbeat(group, id string) error {
	rw, err := r.get(group, id)
	if err != nil {
		return err
	}
	if rw.ctx.Err() != nil {
		return ErrGone
	}
	rw.touch()
	return nil
}

// Report delivers worker id's result of a run it was handed, with the
// run's claim, and returns once the result is recorded — ErrClaimLost when
// the run is no longer its to report (moved, retried, timed out, reported
// already: the fencing of every worker).
func (r *Registry) Report(ctx context.Context, id, snapshotID, claim string, res Result) error {
	rw, err := r.get("", id)
	if err != nil {
		// Its runs moved when it went: the result is a zombie's.
		return ErrClaimLost
	}
	rw.touch()
	return rw.result(ctx, snapshotID, claim, res)
}

// Drain starts draining worker id of group and returns: it is handed no
// more runs, the runs assigned to it that it was not handed go back to the
// group at once, and those it runs may still be reported for its TTL (then
// they are recorded lost and retried). A client drains first, then
// finishes and reports what it runs.
func (r *Registry) Drain(group, id string) error {
	rw, err := r.get(group, id)
	if err != nil {
		return err
	}
	if rw.ctx.Err() != nil {
		return ErrGone
	}
	rw.cancel()
	r.cfg.Logger.Info("remote worker draining", "group", rw.group, "client", rw.id)
	return nil
}

// NodeID is the id of the node this registry serves on (Config.NodeID).
func (r *Registry) NodeID() string { return r.cfg.NodeID }

// Holds reports whether worker id is registered here (draining or not):
// a request for a worker this node does not hold may be another node's.
func (r *Registry) Holds(id string) bool {
	_, err := r.get("", id)
	return err == nil
}

// GroupOf returns the group of registered worker id.
func (r *Registry) GroupOf(id string) (string, bool) {
	rw, err := r.get("", id)
	if err != nil {
		return "", false
	}
	return rw.group, true
}
