// Package worker is pink's Go SDK for running jobs: a Worker registers as a
// client of a group, receives the snapshots the leader assigns to it, runs
// each with the handler registered for its target, and reports the result.
//
//	w := worker.New(worker.Config{Client: etcdClient, Group: "billing"})
//	w.Handle("send-invoices", func(ctx context.Context, r worker.Run) (string, error) {
//		return "", sendInvoices(ctx, r.ScheduledAt)
//	})
//	err := w.Run(ctx) // until ctx ends; then drains
//
// A worker needs only an etcd client of the pink cluster; it logs to the
// Logger it is given, registers its metrics on the Registerer it is given,
// traces with the TracerProvider it is given, and exports every run it
// records as a log record through the LoggerProvider it is given — by
// default the process's: slog.Default(), prometheus.DefaultRegisterer and
// OpenTelemetry's global providers, so an embedded worker feeds the same
// logs, dashboards and alerts as a pink worker.
//
// Execution is at-least-once: a run whose worker dies is retried elsewhere
// (as attempt+1), and a handler should be idempotent on Run.SnapshotID.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
)

// Run is what a handler gets to know about the run it executes.
type Run struct {
	// SnapshotID is the same for every attempt of one fire: an idempotency
	// key.
	SnapshotID  string
	Job         string
	Group       string
	Target      string
	Attempt     int
	Trigger     string
	ScheduledAt time.Time
	// FiredAt is when the snapshot was written, DispatchedAt when it was
	// assigned to this worker: with ScheduledAt they tell how late a run is.
	FiredAt      time.Time
	DispatchedAt time.Time
	ShardIndex   int
	ShardTotal   int
	// Params are the job's params, a JSON object.
	Params json.RawMessage
	// Client is the id of the worker running it.
	Client string
}

// Handler runs one snapshot. Its context ends at the job's timeout. The
// output (at most 64 KiB are kept) and the error go to the run's history.
type Handler func(ctx context.Context, run Run) (output string, err error)

// Config configures a Worker. Only Client and Group are required.
type Config struct {
	// Client is an etcd client of the pink cluster; Root is the cluster's
	// key prefix ("" for the default, /pink).
	Client *clientv3.Client
	Root   string
	// EndpointsChanged, if set, returns a channel that is closed the next
	// time Client's endpoints change; the worker then reopens its watches on
	// the endpoints in use. A watch lives on one etcd member and hangs with
	// it when the member freezes, so whatever takes a frozen member out of
	// the client's endpoints should say so here (pink's own processes set it
	// from their endpoint checker).
	EndpointsChanged func() <-chan struct{}
	// Group is the group whose jobs this worker runs.
	Group string
	// Name prefixes the client id (default host-pid); every registration
	// gets a unique id from it.
	Name string
	// Capacity is how many runs execute at once (default 8).
	Capacity int
	// LeaseTTL is how long after a crash the leader notices (default 5s).
	LeaseTTL time.Duration
	// ClaimAhead is how long before its nominal time the worker claims a
	// fire the leader wrote ahead (default 300ms; negative: at its nominal
	// time). A fire claimed ahead starts at its nominal time after one
	// start transaction for everything due then, which writes one key
	// (its start mark), not after its claim; an edit of the job before
	// then still keeps it from running as the old job, and if this worker
	// dies first the leader moves it as unstarted. It holds an execution
	// slot from its claim.
	ClaimAhead time.Duration
	// DrainTimeout is how long Run waits, after ctx ends, for running
	// handlers before it cancels them (default 30s).
	DrainTimeout time.Duration
	// Addr is advertised in the registration (the worker's /metrics).
	Addr    string
	Version string
	// Via is set by pink's scheduler nodes on the workers they run for
	// remote clients (the HTTP worker protocol): the node's id, so that
	// other nodes forward the client's requests to it. An SDK worker
	// leaves it empty.
	Via string
	// Logger receives the worker's log lines; nil logs to slog.Default(),
	// the process's logger, so an embedded worker says what it does where
	// the rest of the program does. Give slog.New(slog.DiscardHandler) to
	// silence it.
	Logger *slog.Logger
	// Registerer receives the worker's metrics (pink_worker_*, and
	// pink_etcd_request_* of its etcd requests); nil registers them on
	// prometheus.DefaultRegisterer, which promhttp.Handler() serves, so an
	// SDK worker feeds pink's dashboards and alerts like a pink worker.
	// Workers of several groups may share one registerer (their series
	// differ by group); two workers of one group on one registerer share
	// their series, and the gauges show the last one's values. Give
	// prometheus.NewRegistry() to keep them private.
	Registerer prometheus.Registerer
	// NoJobLabel drops the job label from the worker's metrics, for fleets
	// with very many jobs.
	NoJobLabel bool
	// TracerProvider makes the pink.execute, pink.report and pink.retry
	// spans, which continue the trace of each run's fire; nil uses the
	// global provider (otel.GetTracerProvider).
	TracerProvider trace.TracerProvider
	// Reported, if set, is called after each run's result transaction: with
	// nil once the result is recorded, with ErrRefused when the run had been
	// moved or canceled while it ran (the result is dropped, as a zombie's
	// must be), or with the error that kept it from being written (the
	// leader then records the run lost once this registration ends). A
	// handler that hands runs to another process, as pink's HTTP worker
	// protocol does, tells that process the outcome with it.
	Reported func(run Run, err error)
	// Admit, if set, bounds how many of the n runs the worker could start
	// now (its free slots) it starts: the rest stay assigned and unclaimed,
	// for the leader to move if they wait too long. A worker that hands its
	// runs to another process admits only what that process asked for
	// (pink's HTTP worker protocol: what its polls want), and calls Wake
	// when that changes. Use it with a negative ClaimAhead: fires claimed
	// ahead are not asked.
	Admit func(n int) int
	// LoggerProvider receives one log record (event pink.run) for every run
	// this worker writes to history, once it is written, with the run's
	// pink.execute span: etcd keeps only a bounded window of history, a log
	// backend keeps the records as long as it is told to. nil uses the
	// global provider (otel.GetLoggerProvider), which exports nothing until
	// a program sets one; pink's own processes set it when OTLP logs are
	// configured.
	LoggerProvider otellog.LoggerProvider
}

// Defaults for Config fields left zero.
const (
	DefaultCapacity     = 8
	DefaultLeaseTTL     = 5 * time.Second
	DefaultDrainTimeout = 30 * time.Second
	DefaultClaimAhead   = 300 * time.Millisecond
)

// Worker is one client process of a group.
type Worker struct {
	cfg     Config
	st      *store.Store
	metrics *telemetry.Worker
	clock   *telemetry.Clock
	tracer  trace.Tracer
	runLog  *telemetry.RunLog
	log     *slog.Logger

	mu       sync.Mutex
	handlers map[string]Handler
	id       string // current registration's client id
	running  int
	tasks    sync.WaitGroup
	// cancels stops a running handler by snapshot id (overlap replace).
	cancels map[string]runCancel
	// reports carries finished runs' results to the reporters.
	reports chan *report
	// wake asks the session loop to look at its work again (Wake).
	wake chan struct{}
}

// New returns a worker; register handlers with Handle, then call Run.
func New(cfg Config) *Worker {
	cfg.Capacity = positive(cfg.Capacity, DefaultCapacity)
	cfg.LeaseTTL = positive(cfg.LeaseTTL, DefaultLeaseTTL)
	cfg.DrainTimeout = positive(cfg.DrainTimeout, DefaultDrainTimeout)
	if cfg.ClaimAhead == 0 {
		cfg.ClaimAhead = DefaultClaimAhead
	}
	if cfg.Name == "" {
		cfg.Name = cluster.ProcessName()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	lp := cfg.LoggerProvider
	if lp == nil {
		lp = otel.GetLoggerProvider()
	}
	opts := []store.Option{store.WithObserver(telemetry.NewEtcd(reg).Observe)}
	if cfg.EndpointsChanged != nil {
		opts = append(opts, store.WithEndpointChanges(cfg.EndpointsChanged))
	}
	return &Worker{cfg: cfg, log: cfg.Logger.With("group", cfg.Group),
		st:      store.New(cfg.Client, cfg.Root, opts...),
		metrics: telemetry.NewWorker(reg, telemetry.Options{NoJobLabel: cfg.NoJobLabel}), tracer: telemetry.Tracer(tp),
		clock:    telemetry.NewClock(reg),
		runLog:   telemetry.NewRunLog(lp),
		handlers: map[string]Handler{}, cancels: map[string]runCancel{}, reports: make(chan *report), wake: make(chan struct{}, 1)}
}

// positive is v, or def when v is not positive.
func positive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Handle registers h for target. Call it before Run: the worker's
// registration advertises the targets it has handlers for, and the leader
// gives it runs of those only (a fire of a target no live worker of the
// group advertises waits as pending). A worker with no handler at all
// advertises none, which the leader takes as "runs anything".
func (w *Worker) Handle(target string, h Handler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers[target] = h
}

// ID returns the client id of the current registration ("" before the
// first one).
func (w *Worker) ID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.id
}

func (w *Worker) targets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.handlers))
}

func (w *Worker) handler(target string) (Handler, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, ok := w.handlers[target]
	return h, ok
}

// Run registers the worker and executes what it is assigned until ctx ends.
// Then it stops taking work, lets running handlers finish for up to
// DrainTimeout (cancelling the rest, which the leader then retries), and
// releases its registration so unstarted work moves to other clients at
// once.
func (w *Worker) Run(ctx context.Context) error {
	w.metrics.SetGroup(w.cfg.Group, w.cfg.Capacity)
	stopJobs := w.watchJobs(ctx)
	defer stopJobs()
	defer w.watchClock(ctx)()
	// The last summary counts the runs the drain below waits for.
	defer w.logSummaries()()
	// Handlers run under runCtx, which outlives ctx by the drain timeout.
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	stopReporters := make(chan struct{})
	waitReporters := w.startReporters(runCtx, stopReporters)
	defer func() {
		// Runs of a registration lost before ctx ended may still be going.
		w.drain(w.log, cancelRuns)
		close(stopReporters)
		waitReporters()
	}()
	slots := make(chan struct{}, w.cfg.Capacity)
	cluster.KeepRegistered(ctx, w.log, "worker registration lost; registering again", func(ctx context.Context) error {
		return w.session(ctx, runCtx, cancelRuns, slots)
	})
	return nil
}

// session is one registration: its lease, its inbox, its claims.
func (w *Worker) session(ctx, runCtx context.Context, cancelRuns context.CancelFunc, slots chan struct{}) error {
	sess, err := cluster.NewSession(ctx, w.log, w.st.Client(), w.cfg.LeaseTTL)
	if err != nil {
		return err
	}
	defer sess.Close()
	me, err := w.register(ctx, sess)
	if err != nil {
		return err
	}
	log := w.log.With("client", me.ID)
	log.Info("worker registered", "capacity", me.Capacity, "targets", me.Targets)

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ib := newInbox(w.cancelRun, w.cfg.ClaimAhead)
	defer ib.stop()
	claiming := make(chan struct{}, claimers)
	ahead := w.startAheadLoop(runCtx, sctx, log, me)
	mirrorDone := make(chan struct{})
	go func() {
		defer close(mirrorDone)
		if err := w.st.MirrorClientAssignments(sctx, me.Group, me.ID, ib.update); err != nil && sctx.Err() == nil {
			log.Error("assignment watch stopped", "err", err)
		}
	}()
	defer func() { cancel(); <-mirrorDone }()

	for {
		select {
		case <-sess.Done():
			return fmt.Errorf("lease %x expired", sess.Lease())
		case <-ctx.Done():
			// Take no more work, tell the leader (it moves what this
			// client has not started), finish what runs, then release the
			// registration (deferred sess.Close).
			cancel()
			<-mirrorDone
			w.markDraining(ctx, log, sess, me)
			w.drain(log, cancelRuns)
			return nil
		case <-ib.ready:
		case <-w.wake:
		}
		// Start as many waiting snapshots as there are free slots, claimed
		// together. At most `claimers` claims are in flight: what arrives
		// meanwhile waits to go in the next one. A finished claim and a
		// freed slot signal ib.ready again. Only this loop takes slots, so
		// the free ones stay free until it does.
		select {
		case claiming <- struct{}{}:
		default:
			continue
		}
		batch := ib.takeDue(w.admit(cap(slots) - len(slots)))
		if len(batch) == 0 {
			<-claiming
			continue
		}
		for range batch {
			slots <- struct{}{}
		}
		w.tasks.Add(len(batch))
		go w.start(runCtx, log, me, batch, starter{
			claimed:  func() { <-claiming; ib.signal() },
			freeSlot: func() { <-slots; ib.signal() },
			forget:   ib.forget,
			hold:     ahead.hold,
		})
	}
}

// register writes this process's registration under sess's lease, with a
// fresh client id, and returns it with its create revision.
func (w *Worker) register(ctx context.Context, sess *cluster.Session) (cluster.Client, error) {
	me := cluster.Client{
		ID: cluster.NewClientID(w.cfg.Name), Group: w.cfg.Group, Host: cluster.Host(), PID: os.Getpid(), Capacity: w.cfg.Capacity,
		Targets: w.targets(), Version: w.cfg.Version, Addr: w.cfg.Addr, Via: w.cfg.Via, StartedAt: time.Now().UTC(),
	}
	rev, err := w.st.RegisterClient(ctx, sess.Lease(), me)
	if err != nil {
		return me, err
	}
	me.CreateRevision = rev
	w.mu.Lock()
	w.id = me.ID
	w.mu.Unlock()
	return me, nil
}

// markDraining tells the leader that this client takes no new work, so it
// moves what the client has not started.
func (w *Worker) markDraining(ctx context.Context, log *slog.Logger, sess *cluster.Session, me cluster.Client) {
	me.Draining = true
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := w.st.RegisterClient(dctx, sess.Lease(), me); err != nil {
		log.Warn("could not mark the registration draining", "err", err)
	}
}

// errReplaced is the cause of a run canceled by the leader (overlap policy
// replace).
var errReplaced = errors.New("replaced by a newer run of the job")

// cancelRun stops the handler running snapshot id, if any.
func (w *Worker) cancelRun(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rc, ok := w.cancels[id]; ok {
		w.log.DebugContext(rc.ctx, "canceling run at the leader's request", "snapshot_id", id, "job_name", rc.job)
		rc.cancel(errReplaced)
	}
}

// runCancel stops one running handler; ctx (its pink.execute span) and job
// are for the log line.
type runCancel struct {
	cancel context.CancelCauseFunc
	ctx    context.Context
	job    string
}

// drain waits for running handlers, up to the drain timeout, then cancels
// them. A canceled run is not reported: its snapshot stays running on this
// client, and when the registration is released the leader records it lost
// and retries it.
func (w *Worker) drain(log *slog.Logger, cancelRuns context.CancelFunc) {
	done := make(chan struct{})
	go func() { w.tasks.Wait(); close(done) }()
	w.mu.Lock()
	n := w.running
	w.mu.Unlock()
	if n > 0 {
		log.Info("draining: waiting for running handlers", "running", n, "timeout", w.cfg.DrainTimeout)
	}
	select {
	case <-done:
	case <-time.After(w.cfg.DrainTimeout):
		log.Warn("drain timeout: canceling running handlers; the leader will retry them")
		cancelRuns()
		<-done
	}
}
