// Package scheduler runs a scheduler node: it campaigns for leadership and,
// while it leads, turns cron schedules into snapshots (the fire loop),
// dispatches them to clients, and moves the work of clients that died.
package scheduler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a scheduler node.
type Config struct {
	Store *store.Store
	// NodeID names this node; unique in the cluster.
	NodeID string
	// Addr is the API address other people reach this node at.
	Addr string
	// URL is the base URL other nodes reach this node's API at.
	URL     string
	Version string
	// SessionTTL is the lease TTL of the node's election session: how long
	// a dead leader keeps its leadership before a follower takes over.
	SessionTTL time.Duration
	// MisfireThreshold is how late a fire may be written and still count as
	// on time; later fires are misfires handled by the job's misfire policy.
	MisfireThreshold time.Duration
	// Lookahead is how far ahead of its nominal time the leader writes the
	// next fire of a job that allows overlap (see writesAhead): its worker
	// holds it and starts it on time, so a burst of fires no longer queues
	// through etcd at its nominal second. Zero means DefaultLookahead; a
	// negative value turns it off (every fire is written when it is due).
	// The leader exports it as pink_scheduler_lookahead_seconds.
	Lookahead time.Duration
	// HistoryLimit is how many runs per job history keeps when the job
	// does not say (default 100); HistoryMaxAge drops older runs (default
	// 30 days); RetentionInterval is how often a batch of jobs is trimmed.
	HistoryLimit      int
	HistoryMaxAge     time.Duration
	RetentionInterval time.Duration
	// HistoryMaxBytes bounds all run history in etcd (default
	// DefaultHistoryMaxBytes): each job keeps fewer runs than its limit when
	// that is what fits (historyKeep).
	HistoryMaxBytes int64
	// CompactEvery is how much history the leader's compaction keeps in
	// etcd: it compacts every fifth of it, to the revision of an interval
	// ago (default DefaultCompactEvery). A negative value turns compaction
	// off, for an etcd that compacts itself (--auto-compaction-retention).
	CompactEvery time.Duration
	// SpacePressure reports whether etcd is more than half full (from an
	// etcdspace.Monitor); then compaction keeps only a fifth of the
	// interval. Nil means never.
	SpacePressure func() bool
	Logger        *slog.Logger
	Metrics       *telemetry.Scheduler
	// Space receives the compaction metrics.
	Space *telemetry.EtcdSpace
	// Tracer records the leader's spans (pink.fire, pink.dispatch,
	// pink.failover); nil means no tracing.
	Tracer trace.Tracer
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Defaults for Config fields left zero.
const (
	DefaultSessionTTL       = 5 * time.Second
	DefaultMisfireThreshold = 5 * time.Second
	// DefaultLookahead outlasts a leader failover: the default session
	// TTL (the longest a dead leader's lease lives on) plus a new leader's
	// start, with a second to spare, so that when a leader dies the fires
	// of the seconds its successor needs are already on workers, which
	// claim and start them without a leader (docs/guarantees.md). The half
	// second matters: schedules fire on whole seconds, so the leader
	// writes each burst half a second away from the instant the workers
	// start the one before it (a whole second puts both bursts on one
	// instant: start lag p99 400 ms against 140 ms at 1,000 jobs a second,
	// docs/benchmarks.md).
	DefaultLookahead     = 6500 * time.Millisecond
	DefaultHistoryLimit  = 100
	DefaultHistoryMaxAge = 30 * 24 * time.Hour
	// DefaultCompactEvery is Kubernetes' API server's interval: etcd keeps
	// 5 to 6 minutes of history, enough for any watch to catch up.
	DefaultCompactEvery = 5 * time.Minute
)

// Scheduler is one scheduler node.
type Scheduler struct {
	cfg     Config
	log     *slog.Logger
	leading atomic.Bool
}

// defaultRetentionInterval is how often a batch of jobs is trimmed.
const defaultRetentionInterval = 10 * time.Second

// New returns a scheduler node; Run starts it.
func New(cfg Config) *Scheduler {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&cfg.SessionTTL, DefaultSessionTTL}, {&cfg.MisfireThreshold, DefaultMisfireThreshold},
		{&cfg.HistoryMaxAge, DefaultHistoryMaxAge}, {&cfg.RetentionInterval, defaultRetentionInterval},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	switch {
	case cfg.Lookahead == 0:
		cfg.Lookahead = DefaultLookahead
	case cfg.Lookahead < 0:
		cfg.Lookahead = 0
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = DefaultHistoryLimit
	}
	if cfg.HistoryMaxBytes <= 0 {
		cfg.HistoryMaxBytes = DefaultHistoryMaxBytes
	}
	if cfg.CompactEvery == 0 {
		cfg.CompactEvery = DefaultCompactEvery
	}
	if cfg.SpacePressure == nil {
		cfg.SpacePressure = func() bool { return false }
	}
	if cfg.Space == nil {
		cfg.Space = telemetry.NewEtcdSpace(prometheus.NewRegistry())
	}
	cfg.NodeID = cmp.Or(cfg.NodeID, cluster.ProcessName())
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Metrics == nil {
		cfg.Metrics = telemetry.NewScheduler(prometheus.NewRegistry(), telemetry.Options{})
	}
	if cfg.Tracer == nil {
		cfg.Tracer = telemetry.NoopTracer()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Scheduler{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID)}
}

// NodeID returns the node's id.
func (s *Scheduler) NodeID() string { return s.cfg.NodeID }

// IsLeader reports whether this node leads right now.
func (s *Scheduler) IsLeader() bool { return s.leading.Load() }

// Run campaigns and leads until ctx ends, then resigns so that a follower
// takes over at once instead of after the session TTL.
func (s *Scheduler) Run(ctx context.Context) error {
	defer s.logSummaries()()
	cluster.KeepRegistered(ctx, s.log, "scheduler session ended; starting a new one", s.session)
	return nil
}

// session runs one etcd session: register the node, campaign, lead.
func (s *Scheduler) session(ctx context.Context) error {
	sess, err := cluster.NewSession(ctx, s.log, s.cfg.Store.Client(), s.cfg.SessionTTL)
	if err != nil {
		return err
	}
	defer sess.Close()

	node := cluster.Node{ID: s.cfg.NodeID, Addr: s.cfg.Addr, URL: s.cfg.URL, Version: s.cfg.Version, Host: cluster.Host(), PID: os.Getpid(), StartedAt: s.cfg.Now().UTC()}
	if err := s.cfg.Store.RegisterNode(ctx, sess.Lease(), node); err != nil {
		return err
	}

	// Everything below ends when the session dies or ctx ends.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-sctx.Done():
		}
	}()

	el, err := sess.Election(s.cfg.Store.ElectionPrefix())
	if err != nil {
		return err
	}
	if err := el.Campaign(sctx, s.cfg.NodeID); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	fence := store.Fence{Key: el.Key(), Rev: el.Rev()}
	s.log.Info("became leader", "election_key", fence.Key, "revision", fence.Rev)
	s.leading.Store(true)
	s.cfg.Metrics.SetLeader(true)
	s.cfg.Metrics.SetLookahead(s.cfg.Lookahead)
	stopClock := s.publishClock(sctx, fence)
	// Every request of the term requires the member it reaches to have a
	// leader: one cut off from its cluster fails it at once instead of
	// holding it until the deadline.
	termErr := newTerm(&s.cfg, s.log, fence).run(clientv3.WithRequireLeader(sctx))
	stopClock()
	s.leading.Store(false)
	s.cfg.Metrics.SetLeader(false)
	s.cfg.Metrics.Reset()

	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer rcancel()
	if err := el.Resign(rctx); err != nil {
		s.log.Warn("resign failed; followers take over when the session expires", "err", err)
	}
	if errors.Is(termErr, context.Canceled) && ctx.Err() == nil {
		termErr = errors.New("session lost")
	}
	s.log.Info("stopped leading", "reason", termErr)
	return termErr
}
