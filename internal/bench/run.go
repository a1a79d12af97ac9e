package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/internal/etcdembed"
	"github.com/pink-scheduler/pink/internal/profiling"
	"github.com/pink-scheduler/pink/internal/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Run runs one benchmark: it sets up etcd and the jobs, starts the workers
// and the schedulers, measures one window (with the chaos asked for), counts
// the window's runs, and then measures etcd's own limit with pink stopped.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	b, err := setUp(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer b.tearDown(ctx)
	res, err := b.start(ctx)
	if err != nil {
		return nil, err
	}
	t0, t1, counts, err := b.window(ctx, res)
	if err != nil {
		return nil, err
	}
	if err := b.count(ctx, res, t0, t1, counts); err != nil {
		return nil, err
	}
	return res, b.baselines(ctx, res)
}

// bench is one benchmark run's cluster: etcd, the root its keys live
// under, the recorder of runs, the observer of etcd, the workers and the
// scheduler processes, and what tears them down.
type bench struct {
	cfg       Config
	log       *slog.Logger
	endpoints []string
	tmp       string
	root      string
	admin     *clientv3.Client
	st        *store.Store
	created   time.Time
	rec       *recorder
	obs       *observer
	workers   *fleet
	procs     *schedulers
	space     *spaceWatch
	closers   []func()
}

// setUp starts an embedded etcd unless endpoints were given, and creates
// the run's jobs under a fresh root.
func setUp(ctx context.Context, cfg Config) (*bench, error) {
	b := &bench{cfg: cfg, log: cfg.Logger, endpoints: cfg.Endpoints}
	if len(b.endpoints) == 0 {
		tmp, err := os.MkdirTemp("", "pink-bench-")
		if err != nil {
			return nil, err
		}
		b.tmp = tmp
		b.closers = append(b.closers, func() { os.RemoveAll(tmp) })
		srv, err := etcdembed.Start(ctx, etcdembed.Config{Dir: filepath.Join(tmp, "etcd"), ClientAddr: "127.0.0.1:0", PeerAddr: "127.0.0.1:0"})
		if err != nil {
			b.tearDown(ctx)
			return nil, err
		}
		b.closers = append(b.closers, srv.Close)
		b.endpoints = srv.Endpoints()
	}
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	b.root = "/pink-bench-" + hex.EncodeToString(rb[:])
	admin, err := newClient(b.endpoints)
	if err != nil {
		b.tearDown(ctx)
		return nil, err
	}
	b.admin = admin
	b.closers = append(b.closers, func() { admin.Close() }, func() {
		// Leave an external etcd as it was found.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = admin.Delete(dctx, b.root+"/", clientv3.WithPrefix())
	})
	b.st = store.New(admin, b.root)
	b.log.Info("creating jobs", "jobs", cfg.Jobs, "schedule", describeMix(cfg.Schedules), "idle_jobs", cfg.IdleJobs)
	b.created = time.Now().UTC()
	if err := createJobs(ctx, b.st, cfg, b.created); err != nil {
		b.tearDown(ctx)
		return nil, err
	}
	return b, nil
}

// tearDown stops and removes everything setUp and start made, last first.
func (b *bench) tearDown(context.Context) {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
	b.closers = nil
}

// start starts the workers and the schedulers and waits for the first fire.
func (b *bench) start(ctx context.Context) (*Result, error) {
	cfg := b.cfg
	b.rec = newRecorder(cfg.RunTime)
	etcdDir := ""
	if b.tmp != "" {
		etcdDir = filepath.Join(b.tmp, "etcd")
	}
	b.space = watchSpace(ctx, b.admin, etcdDir, b.log)
	b.closers = append(b.closers, b.space.stop)
	octx, stopObserving := context.WithCancel(ctx)
	b.closers = append(b.closers, stopObserving)
	b.obs = observe(octx, b.admin, b.root, 0)
	b.workers = newFleet(ctx, b.endpoints, b.root, cfg, b.rec)
	b.closers = append(b.closers, b.workers.stopAll)
	for i := 0; i < cfg.Workers; i++ {
		if err := b.workers.start(); err != nil {
			return nil, err
		}
	}
	b.procs = newSchedulers(b.endpoints, b.root, cfg, b.tmp)
	b.closers = append(b.closers, b.procs.stopAll)
	spawned := time.Now()
	for i := 0; i < cfg.Schedulers; i++ {
		if err := b.procs.start(i); err != nil {
			return nil, err
		}
	}
	firstFire, err := b.rec.waitFirst(ctx, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("no fire within a minute of starting the schedulers: %w", err)
	}
	res := &Result{Runs: 1, Jobs: cfg.Jobs, IdleJobs: cfg.IdleJobs, Schedulers: cfg.Schedulers, Workers: cfg.Workers,
		Schedule: describeMix(cfg.Schedules), ScheduleMix: cfg.Schedules,
		LeaderReadySeconds: firstFire.Sub(spawned).Seconds(), LeaderFailoverSeconds: []float64{}, LeaderResignSeconds: []float64{}, WorkerFailoverSeconds: []float64{}}
	b.log.Info("first fire", "after_seconds", res.LeaderReadySeconds)
	return res, nil
}

// windowCounts are etcd's write counts at the ends of the window.
type windowCounts struct{ w0, w1 etcdCounts }

// window waits out the warm-up, then measures one window of cfg.Duration
// with the leader or worker kills asked for; it returns the window's ends.
func (b *bench) window(ctx context.Context, res *Result) (t0, t1 time.Time, wc windowCounts, err error) {
	cfg := b.cfg
	sleep(ctx, cfg.Warmup)
	if wc.w0, err = etcdWrites(ctx, b.endpoints); err != nil {
		return t0, t1, wc, err
	}
	cpu0 := b.procs.cpuSeconds()
	stopProfile, err := profiling.StartCPU(cfg.CPUProfile)
	if err != nil {
		return t0, t1, wc, err
	}
	t0 = time.Now()
	wctx, endWindow := context.WithTimeout(ctx, cfg.Duration)
	chaos := b.chaos(wctx, ctx, res)
	<-wctx.Done()
	endWindow()
	t1 = time.Now()
	if wc.w1, err = etcdWrites(ctx, b.endpoints); err != nil {
		return t0, t1, wc, err
	}
	cpu1 := b.procs.cpuSeconds()
	res.SchedulerRSSBytes = b.procs.maxRSS()
	res.SchedulerPeakRSSBytes = b.procs.peakRSS()
	if err := stopProfile(); err != nil {
		return t0, t1, wc, err
	}
	// A failover measured at the window's end finishes after it.
	chaos.Wait()
	b.space.finish(res)
	if ctx.Err() != nil {
		return t0, t1, wc, ctx.Err()
	}
	window := t1.Sub(t0).Seconds()
	res.Windows = []Window{{Start: t0.UTC(), End: t1.UTC()}}
	res.WindowSeconds = window
	res.SchedulerCPUCores = (cpu1 - cpu0) / window
	res.EtcdTxnPerSecond = (wc.w1.requests - wc.w0.requests) / window
	return t0, t1, wc, nil
}

// chaos starts the leader and worker kills of the window wctx; the wait
// group ends when they have.
func (b *bench) chaos(wctx, ctx context.Context, res *Result) *sync.WaitGroup {
	cfg := b.cfg
	var chaos sync.WaitGroup
	if cfg.KillLeaderEvery > 0 {
		chaos.Go(func() {
			res.LeaderFailoverSeconds = killLeaders(wctx, ctx, b.st, b.procs, b.rec, b.obs, cfg.KillLeaderEvery, false, b.log)
		})
	}
	if cfg.StopLeaderEvery > 0 {
		chaos.Go(func() {
			res.LeaderResignSeconds = killLeaders(wctx, ctx, b.st, b.procs, b.rec, b.obs, cfg.StopLeaderEvery, true, b.log)
		})
	}
	if cfg.KillWorkerEvery > 0 {
		chaos.Go(func() {
			res.WorkerFailoverSeconds = killWorkers(wctx, ctx, b.st, b.workers, b.rec, b.obs, cfg.KillWorkerEvery, b.log)
		})
	}
	return &chaos
}

// count counts the runs of the window's fires (waiting for the last ones)
// into res, and profiles the schedulers' heaps.
func (b *bench) count(ctx context.Context, res *Result, t0, t1 time.Time, wc windowCounts) error {
	expected, err := expectedFires(b.cfg.Schedules, b.created, t0, t1)
	if err != nil {
		return err
	}
	// Give the runs of the window's last fires time to finish.
	b.rec.waitFor(ctx, expected, 15*time.Second)
	if err := b.obs.err(); err != nil {
		return fmt.Errorf("the lags are incomplete: %w", err)
	}
	analyze(res, b.rec, b.obs, expected, t0, t1)
	if res.FiresRan > 0 {
		res.EtcdWritesPerRun = (wc.w1.requests - wc.w0.requests) / float64(res.FiresRan)
		res.EtcdKeysPerRun = (wc.w1.keys - wc.w0.keys) / float64(res.FiresRan)
	}
	// The heap is profiled with the load of the window still on, after its
	// runs were counted (the profile's GC must not delay them).
	return b.procs.heapProfiles(ctx)
}

// baselines measures etcd's own limit with pink stopped, single and batched
// writes of a snapshot's size, and how close pink came to it.
func (b *bench) baselines(ctx context.Context, res *Result) error {
	cfg := b.cfg
	if cfg.BaselineValueBytes <= 0 {
		var err error
		cfg.BaselineValueBytes, err = snapshotBytes(ctx, b.st, cfg, b.workers.anyID())
		if err != nil {
			return err
		}
	}
	res.EtcdBaselineConcurrency, res.EtcdBaselineValueBytes = cfg.BaselineConcurrency, cfg.BaselineValueBytes
	b.procs.stopAll()
	b.workers.stopAll()
	b.log.Info("measuring etcd's own limit", "concurrency", cfg.BaselineConcurrency, "value_bytes", cfg.BaselineValueBytes)
	single, err := baseline(ctx, b.endpoints, b.root, cfg.BaselineConcurrency, 2, cfg.BaselineValueBytes, cfg.BaselineDuration)
	if err != nil {
		return err
	}
	res.EtcdBaselineTxnPerSec = single
	if res.EtcdWritesPerRun > 0 && res.EtcdBaselineTxnPerSec > 0 {
		res.EtcdLimitRatio = res.RunsPerSecond / (res.EtcdBaselineTxnPerSec / res.EtcdWritesPerRun)
	}
	batched, err := baseline(ctx, b.endpoints, b.root, cfg.BaselineConcurrency, baselineBatchPuts, cfg.BaselineValueBytes, cfg.BaselineDuration)
	if err != nil {
		return err
	}
	res.EtcdBaselineKeysPerSecond = batched * baselineBatchPuts
	if res.EtcdKeysPerRun > 0 && res.EtcdBaselineKeysPerSecond > 0 {
		res.EtcdKeysLimitRatio = res.RunsPerSecond / (res.EtcdBaselineKeysPerSecond / res.EtcdKeysPerRun)
	}
	return nil
}
