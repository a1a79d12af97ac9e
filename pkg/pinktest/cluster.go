package pinktest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/scheduler"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// Cluster is a pink cluster inside a test: a real etcd embedded in the test
// process, and the scheduler nodes and Go SDK workers the test starts on
// it. Everything it starts stops when the test ends. It runs your handlers
// exactly as production does:
//
//	c := pinktest.NewCluster(t)
//	c.StartScheduler(t, "node-1")
//	c.StartWorker(t, "billing", map[string]worker.Handler{"send-invoices": sendInvoices})
//	c.CreateJob(t, job.Spec{Name: "invoices", Group: "billing", Schedule: "* * * * * *", Target: "send-invoices"})
//	runs := pinktest.RequireRuns(t, c, "invoices", 3, snapshot.StatusSucceeded)
//	pinktest.RequireNoDuplicates(t, runs)
type Cluster struct {
	// Etcd is the cluster's etcd.
	Etcd *Etcd
	// Root is the cluster's key prefix.
	Root string
	st   *store.Store
}

// NewCluster starts a fresh etcd for a cluster under the default root.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	e := StartEtcd(t)
	return &Cluster{Etcd: e, Root: store.DefaultRoot, st: store.New(e.Client, "")}
}

// TestTTL is the session and lease TTL of the nodes and workers a Cluster
// starts unless told otherwise: short, so that failover tests are quick.
const TestTTL = 2 * time.Second

// SchedulerOptions adjust a scheduler node a Cluster starts; zero fields
// take the defaults of `pink scheduler` (SessionTTL: TestTTL).
type SchedulerOptions struct {
	SessionTTL       time.Duration
	MisfireThreshold time.Duration
	// Lookahead is how far ahead the leader writes fires (0: the default,
	// negative: off), as `pink scheduler --lookahead` (where 0 is off).
	Lookahead         time.Duration
	HistoryLimit      int
	HistoryMaxAge     time.Duration
	HistoryMaxBytes   int64
	RetentionInterval time.Duration
	// Registerer receives the node's metrics, its etcd request metrics
	// included; nil keeps them private.
	Registerer prometheus.Registerer
	// NoJobLabel exports the node's metrics the way a large fleet does
	// (pink scheduler --metrics-job-label=false): no job label, no per-job
	// gauges.
	NoJobLabel bool
	// JobInfoLabels are the job label keys pink_job_info exports (with
	// Registerer).
	JobInfoLabels  []string
	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
}

// Scheduler is a scheduler node a Cluster started.
type Scheduler struct {
	s    *scheduler.Scheduler
	stop func()
}

// NodeID is the node's id.
func (s *Scheduler) NodeID() string { return s.s.NodeID() }

// IsLeader reports whether the node leads right now.
func (s *Scheduler) IsLeader() bool { return s.s.IsLeader() }

// Stop stops the node (it resigns, so another takes over at once) and
// waits for it. It is safe to call twice.
func (s *Scheduler) Stop() { s.stop() }

// StartScheduler starts a scheduler node named id; it runs until Stop or
// the end of the test.
func (c *Cluster) StartScheduler(t testing.TB, id string, opts ...func(*SchedulerOptions)) *Scheduler {
	t.Helper()
	o := SchedulerOptions{SessionTTL: TestTTL}
	for _, f := range opts {
		f(&o)
	}
	cfg := scheduler.Config{Store: c.st, NodeID: id, SessionTTL: o.SessionTTL, MisfireThreshold: o.MisfireThreshold,
		Lookahead: o.Lookahead, HistoryLimit: o.HistoryLimit, HistoryMaxAge: o.HistoryMaxAge, HistoryMaxBytes: o.HistoryMaxBytes,
		RetentionInterval: o.RetentionInterval, Logger: o.Logger}
	if o.Registerer != nil {
		cfg.Store = store.New(c.Etcd.Client, c.Root, store.WithObserver(telemetry.NewEtcd(o.Registerer).Observe))
		cfg.Metrics = telemetry.NewScheduler(o.Registerer, telemetry.Options{NoJobLabel: o.NoJobLabel, JobInfoLabels: o.JobInfoLabels})
		cfg.Space = telemetry.NewEtcdSpace(o.Registerer)
	}
	if o.TracerProvider != nil {
		cfg.Tracer = telemetry.Tracer(o.TracerProvider)
	}
	s := scheduler.New(cfg)
	return &Scheduler{s: s, stop: runUntilStopped(t, s.Run)}
}

// Worker is a Go SDK worker a Cluster started.
type Worker struct {
	*worker.Worker
	stop func()
}

// Stop drains the worker (as on SIGTERM) and waits for it. It is safe to
// call twice.
func (w *Worker) Stop() { w.stop() }

// StartWorker starts a worker of group with handlers by target, and waits
// until it has registered. opts adjust its config (Client, Root, Group and
// LeaseTTL are set: TestTTL; its Logger discards and its Registerer is a
// registry of its own, not the process's defaults). It runs until Stop or
// the end of the test.
func (c *Cluster) StartWorker(t testing.TB, group string, handlers map[string]worker.Handler, opts ...func(*worker.Config)) *Worker {
	t.Helper()
	cfg := worker.Config{Client: c.Etcd.Client, Root: c.Root, Group: group, LeaseTTL: TestTTL,
		Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()}
	for _, f := range opts {
		f(&cfg)
	}
	w := worker.New(cfg)
	for target, h := range handlers {
		w.Handle(target, h)
	}
	stop := runUntilStopped(t, w.Run)
	Eventually(t, 10*time.Second, func() (bool, string) { return w.ID() != "", "worker not registered" })
	return &Worker{Worker: w, stop: stop}
}

// runUntilStopped runs run in a goroutine until the returned stop is
// called or the test ends.
func runUntilStopped(t testing.TB, run func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return stop
}

// CreateGroup creates a group if it does not exist yet.
func (c *Cluster) CreateGroup(t testing.TB, name string) {
	t.Helper()
	if err := c.st.EnsureGroup(context.Background(), cluster.Group{Name: name}); err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
}

// CreateJob creates a job as the API does (defaults applied, validated,
// created now), and its group if needed. It returns the stored spec.
func (c *Cluster) CreateJob(t testing.TB, spec job.Spec) job.Spec {
	t.Helper()
	c.CreateGroup(t, spec.Group)
	spec.ApplyDefaults()
	if err := spec.Validate(); err != nil {
		t.Fatalf("job %s: %v", spec.Name, err)
	}
	spec.CreatedAt = time.Now().UTC()
	out, err := c.st.CreateJob(context.Background(), spec)
	if err != nil {
		t.Fatalf("create job %s: %v", spec.Name, err)
	}
	return out
}

// Trigger runs a job now, as `pink jobs trigger` does, and returns the
// snapshot written.
func (c *Cluster) Trigger(t testing.TB, spec job.Spec) snapshot.Snapshot {
	t.Helper()
	now := time.Now()
	snap := snapshot.ForJob(&spec, snapshot.ManualID(spec.Name, now), snapshot.TriggerManual, now, now)
	if err := c.st.CreatePending(context.Background(), []snapshot.Snapshot{snap}, nil, false); err != nil {
		t.Fatalf("trigger %s: %v", spec.Name, err)
	}
	return snap
}

// Runs returns up to 1000 runs of a job's history, newest first.
func (c *Cluster) Runs(t testing.TB, jobName string) []snapshot.Run {
	t.Helper()
	page, err := c.st.ListRuns(context.Background(), jobName, "", 1000, "")
	if err != nil {
		t.Fatalf("runs of %s: %v", jobName, err)
	}
	return page.Runs
}
