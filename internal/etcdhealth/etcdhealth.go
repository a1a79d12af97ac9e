// Package etcdhealth keeps a pink process's etcd client on the members that
// answer. clientv3 spreads requests over every endpoint it is given and
// notices a dead member only when its connection breaks; a member that is
// frozen (SIGSTOP, a stalled disk, a GC pause) or cut off from its leader
// keeps its connection up and holds every request sent to it, and gRPC's
// keepalive, at its 10 s minimum, takes longer than etcd needs to elect a
// new leader. A Checker probes each member on its own connection and
// gives the client only the ones that answered.
package etcdhealth

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/telemetry"
)

// Probe timing: a probe is a linearizable read, which a healthy member
// answers in milliseconds (it asks the leader for its commit index); one
// that takes ProbeTimeout is as good as gone for pink's requests, whose
// own deadlines are 1–2 s.
const (
	ProbeEvery   = 500 * time.Millisecond
	ProbeTimeout = time.Second
)

// Checker probes the endpoints of a client and sets the client's endpoints
// to the healthy ones. A round in which none answers changes nothing: the
// cluster has no leader then, and the members that answered last are as
// good as any.
type Checker struct {
	log     *slog.Logger
	cli     *clientv3.Client
	all     []string
	probes  []*clientv3.Client
	key     string
	metrics *telemetry.EtcdEndpoints

	mu      sync.Mutex
	healthy []bool
	changed chan struct{}
}

// New returns a Checker for cli, whose config is cfg (the probes connect
// with its credentials and TLS), probing key (count only, so the value
// does not matter). It returns nil, and probes nothing, for fewer than two
// endpoints: with one, there is nowhere else to go.
func New(log *slog.Logger, cli *clientv3.Client, cfg clientv3.Config, key string, metrics *telemetry.EtcdEndpoints) (*Checker, error) {
	if len(cfg.Endpoints) < 2 {
		return nil, nil
	}
	c := &Checker{log: log, cli: cli, all: slices.Clone(cfg.Endpoints), key: key, metrics: metrics,
		healthy: make([]bool, len(cfg.Endpoints)), changed: make(chan struct{})}
	for i, ep := range c.all {
		pc := cfg
		pc.Endpoints = []string{ep}
		pc.DialTimeout = 0 // connect in the background: the member may be down now
		probe, err := clientv3.New(pc)
		if err != nil {
			c.closeProbes()
			return nil, fmt.Errorf("etcd endpoint checker for %s: %w", ep, err)
		}
		c.probes = append(c.probes, probe)
		c.healthy[i] = true // as the client starts: with every endpoint
	}
	return c, nil
}

// Changed returns a channel that is closed at the next change of the
// client's endpoints; nil (never closed) on a nil Checker.
func (c *Checker) Changed() <-chan struct{} {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// Run probes every ProbeEvery until ctx ends, then closes the probes'
// connections.
func (c *Checker) Run(ctx context.Context) {
	defer c.closeProbes()
	tick := time.NewTicker(ProbeEvery)
	defer tick.Stop()
	for {
		c.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check probes every endpoint at once and applies the result.
func (c *Checker) check(ctx context.Context) {
	ok := make([]bool, len(c.probes))
	errs := make([]error, len(c.probes))
	var wg sync.WaitGroup
	for i, probe := range c.probes {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), ProbeTimeout)
			defer cancel()
			_, errs[i] = probe.Get(pctx, c.key, clientv3.WithCountOnly())
			ok[i] = errs[i] == nil
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	c.apply(ok, errs)
}

// apply records one round of probes and, if the healthy set changed, gives
// the client its new endpoints and tells the watches.
func (c *Checker) apply(ok []bool, errs []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(ok, true) {
		// No member answers: the cluster has no leader (an election, or
		// its quorum is lost), which is no member's fault. Changing the
		// endpoints now would only reopen every watch into the election;
		// the next round, once a leader is there, tells the members apart.
		for i, ep := range c.all {
			c.metrics.SetHealthy(ep, false)
			if c.healthy[i] {
				c.log.Debug("etcd endpoint does not answer, nor does any other; endpoints kept", "endpoint", ep, "err", errs[i])
			}
		}
		return
	}
	changed := false
	for i, ep := range c.all {
		c.metrics.SetHealthy(ep, ok[i])
		if ok[i] == c.healthy[i] {
			continue
		}
		changed = true
		if ok[i] {
			c.log.Info("etcd endpoint answers again; pink uses it", "endpoint", ep)
		} else {
			c.log.Warn("etcd endpoint does not answer; pink stops using it until it does", "endpoint", ep, "err", errs[i])
		}
	}
	if !changed {
		return
	}
	copy(c.healthy, ok)
	use := c.use()
	c.cli.SetEndpoints(use...)
	close(c.changed)
	c.changed = make(chan struct{})
	c.log.Debug("etcd endpoints in use", "endpoints", use)
}

// use is the endpoints the client should use: the healthy ones, or all.
func (c *Checker) use() []string {
	var use []string
	for i, ep := range c.all {
		if c.healthy[i] {
			use = append(use, ep)
		}
	}
	if len(use) == 0 {
		return slices.Clone(c.all)
	}
	return use
}

func (c *Checker) closeProbes() {
	for _, p := range c.probes {
		p.Close()
	}
}

// Start creates the Checker of cli (see New) and runs it until stop is
// called; stop waits for it. With fewer than two endpoints the Checker is
// nil and stop does nothing.
func Start(log *slog.Logger, cli *clientv3.Client, cfg clientv3.Config, key string, metrics *telemetry.EtcdEndpoints) (c *Checker, stop func(), err error) {
	c, err = New(log, cli, cfg, key, metrics)
	if err != nil || c == nil {
		return nil, func() {}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	return c, func() { cancel(); <-done }, nil
}
