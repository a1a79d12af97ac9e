// Package bench measures a pink cluster: it runs real `pink scheduler`
// processes and in-process workers against etcd (embedded, or given), fires
// a configurable number of jobs, and reports throughput, lags, etcd cost,
// scheduler CPU and memory, missed and duplicate fires, failover times, and
// how close the throughput comes to what the same etcd allows.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/etcdembed"
	"github.com/pink-scheduler/pink/internal/profiling"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// Config shapes a benchmark run.
type Config struct {
	// Endpoints of an etcd to use; empty starts an embedded one.
	Endpoints []string
	// Binary is the pink binary the scheduler processes run (default: this
	// executable).
	Binary         string
	Schedulers     int
	Workers        int
	WorkerCapacity int
	Jobs           int
	// IdleJobs are extra jobs that do not fire during the run (once a
	// year): they load the leader, as a large installation would.
	IdleJobs int
	// NoJobLabel runs the schedulers with --metrics-job-label=false, and
	// the workers likewise.
	NoJobLabel bool
	// Schedules is the schedule mix: each entry's share of the jobs fires
	// on its schedule (default: every job every second).
	Schedules []ScheduleShare
	// RunTime is how long each run's handler takes (default: returns at once).
	RunTime         time.Duration
	Warmup          time.Duration
	Duration        time.Duration
	SessionTTL      time.Duration
	KillLeaderEvery time.Duration
	// StopLeaderEvery stops the leader gracefully (SIGTERM: it resigns).
	StopLeaderEvery time.Duration
	KillWorkerEvery time.Duration
	// BaselineConcurrency is how many goroutines load etcd for the
	// baseline (default: PinkConcurrency(Workers), pink's own).
	BaselineConcurrency int
	// BaselineValueBytes is the size of each value the baseline puts
	// (default: the encoded size of a snapshot of the run's first job).
	BaselineValueBytes int
	// BaselineDuration is how long each baseline load runs (default 3s).
	BaselineDuration time.Duration
	// CPUProfile, if set, is where a CPU profile of this process (workers,
	// embedded etcd) over the measured window is written; scheduler i
	// writes its whole life's profile to CPUProfile.bench-s<i>.
	CPUProfile string
	// MemProfile, if set, is where each live scheduler i writes a heap
	// profile (MemProfile.bench-s<i>) at the end of the measured window.
	MemProfile string
	Logger     *slog.Logger
}

func (c *Config) defaults() error {
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the pink binary: %w", err)
		}
		c.Binary = exe
	}
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setInt(&c.Schedulers, 1)
	setInt(&c.Workers, 2)
	setInt(&c.WorkerCapacity, 256)
	setInt(&c.Jobs, 100)
	setInt(&c.BaselineConcurrency, PinkConcurrency(c.Workers))
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur(&c.Warmup, 3*time.Second)
	setDur(&c.Duration, 10*time.Second)
	setDur(&c.SessionTTL, 5*time.Second)
	setDur(&c.BaselineDuration, 3*time.Second)
	if len(c.Schedules) == 0 {
		c.Schedules = []ScheduleShare{{Weight: 1, Schedule: DefaultSchedule}}
	}
	for _, s := range c.Schedules {
		if s.Weight < 1 {
			return fmt.Errorf("schedule %q: the weight must be at least 1", s.Schedule)
		}
		if _, err := job.ParseSchedule(s.Schedule, "UTC"); err != nil {
			return err
		}
	}
	mix, err := AssignSchedules(c.Schedules, c.Jobs)
	if err != nil {
		return err
	}
	c.Schedules = mix
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// The batched baseline writes like pink's batches (a fire batch is up to
// 120 operations, a claim up to 100 snapshots): about a hundred keys per
// transaction, from as many goroutines as the request baseline.
const baselineBatchPuts = 100

// Result holds the figures of a run. Durations are seconds.
type Result struct {
	// Runs is how many runs the figures are the median of.
	Runs       int `json:"runs"`
	Jobs       int `json:"jobs"`
	IdleJobs   int `json:"idle_jobs"`
	Schedulers int `json:"schedulers"`
	Workers    int `json:"workers"`
	// Schedule is the mix as flags give it: a bare schedule, or
	// "weight:schedule" entries separated by "; ".
	Schedule    string          `json:"schedule"`
	ScheduleMix []ScheduleShare `json:"schedule_mix"`
	// Windows are the measured windows, one per run: the fires expected
	// are the nominal times in [start, end).
	Windows       []Window `json:"windows"`
	WindowSeconds float64  `json:"window_seconds"`
	RunsPerSecond float64  `json:"runs_per_second"`
	FiresExpected int      `json:"fires_expected"`
	FiresRan      int      `json:"fires_ran"`
	Missed        int      `json:"missed"`
	Duplicates    int      `json:"duplicates"`
	// Retried counts runs of attempt 2 and later: work of a killed worker
	// run again, as at-least-once execution means.
	Retried        int     `json:"retried"`
	ScheduleLagP50 float64 `json:"schedule_lag_p50"`
	ScheduleLagP99 float64 `json:"schedule_lag_p99"`
	ScheduleLagMax float64 `json:"schedule_lag_max"`
	DispatchLagP99 float64 `json:"dispatch_lag_p99"`
	StartLagP50    float64 `json:"start_lag_p50"`
	StartLagP99    float64 `json:"start_lag_p99"`
	// EtcdWritesPerRun counts write requests (a transaction is one).
	EtcdWritesPerRun      float64 `json:"etcd_writes_per_run"`
	EtcdTxnPerSecond      float64 `json:"etcd_txn_per_second"`
	EtcdBaselineTxnPerSec float64 `json:"etcd_baseline_txn_per_second"`
	// The baseline's shape: goroutines (transactions in flight) and the
	// size of each value put.
	EtcdBaselineConcurrency int `json:"etcd_baseline_concurrency"`
	EtcdBaselineValueBytes  int `json:"etcd_baseline_value_bytes"`
	// EtcdLimitRatio is runs/s ÷ (baseline txn/s ÷ writes per run).
	EtcdLimitRatio float64 `json:"etcd_limit_ratio"`
	// The same by keys written (puts and deletes), against a baseline of
	// batched transactions: the fairer measure once writes are batched.
	EtcdKeysPerRun            float64 `json:"etcd_keys_per_run"`
	EtcdBaselineKeysPerSecond float64 `json:"etcd_baseline_keys_per_second"`
	EtcdKeysLimitRatio        float64 `json:"etcd_keys_limit_ratio"`
	SchedulerCPUCores         float64 `json:"scheduler_cpu_cores"`
	// SchedulerRSSBytes is the largest scheduler RSS at the window's end;
	// SchedulerPeakRSSBytes the largest high-water mark (VmHWM) of any
	// scheduler process of the run, over its whole life.
	SchedulerRSSBytes     int64     `json:"scheduler_rss_bytes"`
	SchedulerPeakRSSBytes int64     `json:"scheduler_peak_rss_bytes"`
	LeaderReadySeconds    float64   `json:"leader_ready_seconds"`
	LeaderFailoverSeconds []float64 `json:"leader_failover_seconds"`
	LeaderResignSeconds   []float64 `json:"leader_resign_seconds"`
	WorkerFailoverSeconds []float64 `json:"worker_failover_seconds"`
	// Spread is, per figure that is a median of several runs (by its JSON
	// key), the smallest and the largest of those runs.
	Spread map[string][2]float64 `json:"spread"`
}

// Window is one measured window.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Run runs one benchmark.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	endpoints := cfg.Endpoints
	var tmp string
	if len(endpoints) == 0 {
		var err error
		tmp, err = os.MkdirTemp("", "pink-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		srv, err := etcdembed.Start(ctx, etcdembed.Config{Dir: filepath.Join(tmp, "etcd"), ClientAddr: "127.0.0.1:0", PeerAddr: "127.0.0.1:0"})
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		endpoints = srv.Endpoints()
	}
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	root := "/pink-bench-" + hex.EncodeToString(rb[:])
	admin, err := newClient(endpoints)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	defer func() {
		// Leave an external etcd as it was found.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = admin.Delete(dctx, root+"/", clientv3.WithPrefix())
	}()
	st := store.New(admin, root)

	log.Info("creating jobs", "jobs", cfg.Jobs, "schedule", describeMix(cfg.Schedules), "idle_jobs", cfg.IdleJobs)
	created := time.Now().UTC()
	if err := createJobs(ctx, st, cfg, created); err != nil {
		return nil, err
	}
	rec := newRecorder(cfg.RunTime)
	octx, stopObserving := context.WithCancel(ctx)
	defer stopObserving()
	obs := observe(octx, admin, root, 0)
	workers := newFleet(ctx, endpoints, root, cfg, rec)
	defer workers.stopAll()
	for i := 0; i < cfg.Workers; i++ {
		if err := workers.start(); err != nil {
			return nil, err
		}
	}
	procs := newSchedulers(endpoints, root, cfg, tmp)
	defer procs.stopAll()
	spawned := time.Now()
	for i := 0; i < cfg.Schedulers; i++ {
		if err := procs.start(i); err != nil {
			return nil, err
		}
	}
	firstFire, err := rec.waitFirst(ctx, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("no fire within a minute of starting the schedulers: %w", err)
	}
	res := &Result{Runs: 1, Jobs: cfg.Jobs, IdleJobs: cfg.IdleJobs, Schedulers: cfg.Schedulers, Workers: cfg.Workers,
		Schedule: describeMix(cfg.Schedules), ScheduleMix: cfg.Schedules,
		LeaderReadySeconds: firstFire.Sub(spawned).Seconds(), LeaderFailoverSeconds: []float64{}, LeaderResignSeconds: []float64{}, WorkerFailoverSeconds: []float64{}}
	log.Info("first fire", "after_seconds", res.LeaderReadySeconds)

	sleep(ctx, cfg.Warmup)
	w0, err := etcdWrites(ctx, endpoints)
	if err != nil {
		return nil, err
	}
	cpu0 := procs.cpuSeconds()
	stopProfile, err := profiling.StartCPU(cfg.CPUProfile)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	var chaos sync.WaitGroup
	wctx, endWindow := context.WithTimeout(ctx, cfg.Duration)
	if cfg.KillLeaderEvery > 0 {
		chaos.Add(1)
		go func() {
			defer chaos.Done()
			res.LeaderFailoverSeconds = killLeaders(wctx, ctx, st, procs, rec, obs, cfg.KillLeaderEvery, false, log)
		}()
	}
	if cfg.StopLeaderEvery > 0 {
		chaos.Add(1)
		go func() {
			defer chaos.Done()
			res.LeaderResignSeconds = killLeaders(wctx, ctx, st, procs, rec, obs, cfg.StopLeaderEvery, true, log)
		}()
	}
	if cfg.KillWorkerEvery > 0 {
		chaos.Add(1)
		go func() {
			defer chaos.Done()
			res.WorkerFailoverSeconds = killWorkers(wctx, ctx, st, workers, rec, obs, cfg.KillWorkerEvery, log)
		}()
	}
	<-wctx.Done()
	endWindow()
	t1 := time.Now()
	w1, err := etcdWrites(ctx, endpoints)
	if err != nil {
		return nil, err
	}
	cpu1 := procs.cpuSeconds()
	res.SchedulerRSSBytes = procs.maxRSS()
	res.SchedulerPeakRSSBytes = procs.peakRSS()
	if err := stopProfile(); err != nil {
		return nil, err
	}
	// A failover measured at the window's end finishes after it.
	chaos.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	window := t1.Sub(t0).Seconds()
	res.Windows = []Window{{Start: t0.UTC(), End: t1.UTC()}}
	res.WindowSeconds = window
	res.SchedulerCPUCores = (cpu1 - cpu0) / window
	res.EtcdTxnPerSecond = (w1.requests - w0.requests) / window

	expected, err := expectedFires(cfg.Schedules, created, t0, t1)
	if err != nil {
		return nil, err
	}
	// Give the runs of the window's last fires time to finish.
	rec.waitFor(ctx, expected, 15*time.Second)
	analyze(res, rec, obs, expected, t0, t1)
	if res.FiresRan > 0 {
		res.EtcdWritesPerRun = (w1.requests - w0.requests) / float64(res.FiresRan)
		res.EtcdKeysPerRun = (w1.keys - w0.keys) / float64(res.FiresRan)
	}

	// The heap is profiled with the load of the window still on, after its
	// runs were counted (the profile's GC must not delay them).
	if err := procs.heapProfiles(ctx); err != nil {
		return nil, err
	}
	if cfg.BaselineValueBytes <= 0 {
		cfg.BaselineValueBytes, err = snapshotBytes(ctx, st, cfg, workers.anyID())
		if err != nil {
			return nil, err
		}
	}
	res.EtcdBaselineConcurrency, res.EtcdBaselineValueBytes = cfg.BaselineConcurrency, cfg.BaselineValueBytes

	// etcd's own limit is measured with pink stopped.
	procs.stopAll()
	workers.stopAll()
	log.Info("measuring etcd's own limit", "concurrency", cfg.BaselineConcurrency, "value_bytes", cfg.BaselineValueBytes)
	res.EtcdBaselineTxnPerSec, err = baseline(ctx, endpoints, root, cfg.BaselineConcurrency, 2, cfg.BaselineValueBytes, cfg.BaselineDuration)
	if err != nil {
		return nil, err
	}
	if res.EtcdWritesPerRun > 0 && res.EtcdBaselineTxnPerSec > 0 {
		res.EtcdLimitRatio = res.RunsPerSecond / (res.EtcdBaselineTxnPerSec / res.EtcdWritesPerRun)
	}
	batched, err := baseline(ctx, endpoints, root, cfg.BaselineConcurrency, baselineBatchPuts, cfg.BaselineValueBytes, cfg.BaselineDuration)
	if err != nil {
		return nil, err
	}
	res.EtcdBaselineKeysPerSecond = batched * baselineBatchPuts
	if res.EtcdKeysPerRun > 0 && res.EtcdBaselineKeysPerSecond > 0 {
		res.EtcdKeysLimitRatio = res.RunsPerSecond / (res.EtcdBaselineKeysPerSecond / res.EtcdKeysPerRun)
	}
	return res, nil
}

func newClient(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		MaxCallRecvMsgSize: 256 << 20})
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// idleSchedule fires once a year, at a time no benchmark runs across.
const idleSchedule = "0 0 0 1 1 *"

// createJobs creates the run's jobs, the mix's shares in blocks in order
// (bench-000000 ...), and the idle ones, all created (their cursor) at now.
func createJobs(ctx context.Context, st *store.Store, cfg Config, now time.Time) error {
	if err := st.EnsureGroup(ctx, cluster.Group{Name: "bench", Description: "pink bench"}); err != nil {
		return err
	}
	specs := make([]job.Spec, 0, cfg.Jobs+cfg.IdleJobs)
	add := func(name, schedule string) {
		s := job.Spec{Name: name, Group: "bench", Schedule: schedule, Target: "noop",
			Misfire: job.MisfireRunAll, Retries: 1, CreatedAt: now, UpdatedAt: now}
		s.ApplyDefaults()
		specs = append(specs, s)
	}
	i := 0
	for _, s := range cfg.Schedules {
		for range s.Jobs {
			add(jobName(i), s.Schedule)
			i++
		}
	}
	for i := range cfg.IdleJobs {
		add(fmt.Sprintf("idle-%07d", i), idleSchedule)
	}
	_, err := st.CreateJobs(ctx, specs)
	return err
}

// analyze folds the runs of nominal times in [t0, t1) into res. A fire's
// lags are its first run's. A duplicate is a second snapshot of one fire or
// a second run of one attempt; a retry after a worker died (attempt 2) is
// neither, and is counted as retried.
func analyze(res *Result, rec *recorder, obs *observer, expected map[string][]time.Time, t0, t1 time.Time) {
	type fire struct {
		job string
		at  time.Time
	}
	firstRun := map[fire]run{}
	snapshots := map[fire]map[string]bool{}
	attempts := map[string]int{}
	for _, r := range rec.snapshot() {
		if r.scheduled.Before(t0) || !r.scheduled.Before(t1) {
			continue
		}
		k := fire{r.job, r.scheduled}
		if snapshots[k] == nil {
			snapshots[k] = map[string]bool{}
		}
		snapshots[k][r.snapshot] = true
		attempts[fmt.Sprintf("%s#%d", r.snapshot, r.attempt)]++
		if r.attempt > 1 {
			res.Retried++
		}
		if f, ok := firstRun[k]; !ok || r.started.Before(f.started) {
			firstRun[k] = r
		}
	}
	for _, ids := range snapshots {
		res.Duplicates += len(ids) - 1
	}
	for _, n := range attempts {
		res.Duplicates += n - 1
	}
	var sched, disp, start []float64
	for _, r := range firstRun {
		fired, dispatched := obs.seen(r.snapshot, r.client)
		if !fired.IsZero() {
			sched = append(sched, fired.Sub(r.scheduled).Seconds())
		}
		if !dispatched.IsZero() {
			disp = append(disp, dispatched.Sub(r.scheduled).Seconds())
		}
		start = append(start, r.started.Sub(r.scheduled).Seconds())
	}
	for name, times := range expected {
		res.FiresExpected += len(times)
		for _, at := range times {
			if _, ok := firstRun[fire{name, at}]; !ok {
				res.Missed++
			}
		}
	}
	res.FiresRan = len(firstRun)
	res.RunsPerSecond = float64(res.FiresRan) / t1.Sub(t0).Seconds()
	res.ScheduleLagP50, res.ScheduleLagP99, res.ScheduleLagMax = quantile(sched, .5), quantile(sched, .99), quantile(sched, 1)
	res.DispatchLagP99 = quantile(disp, .99)
	res.StartLagP50, res.StartLagP99 = quantile(start, .5), quantile(start, .99)
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[min(i, len(s)-1)]
}

// run is what a worker's handler records of one call.
type run struct {
	job, snapshot, client string
	attempt               int
	scheduled, fired      time.Time
	dispatched, started   time.Time
}

// recorder is the benchmark's no-op handler and its memory.
type recorder struct {
	mu    sync.Mutex
	runs  []run
	first chan time.Time
	once  sync.Once
	work  time.Duration
}

func newRecorder(work time.Duration) *recorder {
	return &recorder{first: make(chan time.Time, 1), work: work}
}

func (r *recorder) handle(ctx context.Context, w worker.Run) (string, error) {
	now := time.Now()
	r.mu.Lock()
	r.runs = append(r.runs, run{job: w.Job, snapshot: w.SnapshotID, client: w.Client, attempt: w.Attempt,
		scheduled: w.ScheduledAt.UTC(), fired: w.FiredAt, dispatched: w.DispatchedAt, started: now})
	r.mu.Unlock()
	r.once.Do(func() { r.first <- w.FiredAt })
	if r.work > 0 {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(r.work):
		}
	}
	return "", nil
}

func (r *recorder) snapshot() []run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]run(nil), r.runs...)
}

func (r *recorder) waitFirst(ctx context.Context, limit time.Duration) (time.Time, error) {
	select {
	case t := <-r.first:
		return t, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-time.After(limit):
		return time.Time{}, errors.New("timed out")
	}
}

// waitFor waits until every expected fire has a run, or limit passes.
func (r *recorder) waitFor(ctx context.Context, expected map[string][]time.Time, limit time.Duration) {
	want := 0
	for _, ts := range expected {
		want += len(ts)
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		got := map[string]bool{}
		for _, ru := range r.snapshot() {
			if ts, ok := expected[ru.job]; ok && len(ts) > 0 && !ru.scheduled.Before(ts[0]) && !ru.scheduled.After(ts[len(ts)-1]) {
				got[ru.job+"@"+ru.scheduled.String()] = true
			}
		}
		if len(got) >= want {
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// describe renders a result as a two-column table.
func (r *Result) describe() [][2]string {
	f := func(v float64) string { return fmt.Sprintf("%.4g", v) }
	ms := func(v float64) string { return fmt.Sprintf("%.1f ms", v*1000) }
	list := func(v []float64) string {
		var s []string
		for _, x := range v {
			s = append(s, fmt.Sprintf("%.2fs", x))
		}
		if len(s) == 0 {
			return "-"
		}
		return strings.Join(s, " ")
	}
	return [][2]string{
		{"jobs × schedule", mixTable(r) + fmt.Sprintf(" (+ %d idle)", r.IdleJobs)},
		{"schedulers / workers", fmt.Sprintf("%d / %d", r.Schedulers, r.Workers)},
		{"runs (figures are medians)", fmt.Sprint(r.Runs)},
		{"window", fmt.Sprintf("%.1fs", r.WindowSeconds)},
		{"runs per second", f(r.RunsPerSecond)},
		{"fires expected / ran", fmt.Sprintf("%d / %d", r.FiresExpected, r.FiresRan)},
		{"missed / duplicates / retried", fmt.Sprintf("%d / %d / %d", r.Missed, r.Duplicates, r.Retried)},
		{"schedule lag p50 / p99 / max", ms(r.ScheduleLagP50) + " / " + ms(r.ScheduleLagP99) + " / " + ms(r.ScheduleLagMax)},
		{"dispatch lag p99", ms(r.DispatchLagP99)},
		{"start lag p50 / p99", ms(r.StartLagP50) + " / " + ms(r.StartLagP99)},
		{"etcd writes per run", f(r.EtcdWritesPerRun)},
		{"etcd writes per second", f(r.EtcdTxnPerSecond)},
		{"etcd baseline: goroutines, value size", fmt.Sprintf("%d, %d B", r.EtcdBaselineConcurrency, r.EtcdBaselineValueBytes)},
		{"etcd baseline txn per second", f(r.EtcdBaselineTxnPerSec)},
		{"share of etcd's limit (by requests)", fmt.Sprintf("%.1f%%", r.EtcdLimitRatio*100)},
		{"etcd keys written per run", f(r.EtcdKeysPerRun)},
		{"etcd baseline keys per second (batched)", f(r.EtcdBaselineKeysPerSecond)},
		{"share of etcd's limit (by keys)", fmt.Sprintf("%.1f%%", r.EtcdKeysLimitRatio*100)},
		{"scheduler CPU (cores)", f(r.SchedulerCPUCores)},
		{"scheduler RSS at the end / peak", fmt.Sprintf("%.1f / %.1f MiB", float64(r.SchedulerRSSBytes)/(1<<20), float64(r.SchedulerPeakRSSBytes)/(1<<20))},
		{"leader ready (start → first fire)", fmt.Sprintf("%.2fs", r.LeaderReadySeconds)},
		{"leader failover (kill -9 → next dispatch)", list(r.LeaderFailoverSeconds)},
		{"leader resign (SIGTERM → next dispatch)", list(r.LeaderResignSeconds)},
		{"worker failover (kill → work re-dispatched)", list(r.WorkerFailoverSeconds)},
	}
}

// mixTable renders the jobs of each schedule: 15 × "* * * * * *" + ...
func mixTable(r *Result) string {
	if len(r.ScheduleMix) == 0 {
		return fmt.Sprintf("%d × %q", r.Jobs, r.Schedule)
	}
	parts := make([]string, len(r.ScheduleMix))
	for i, s := range r.ScheduleMix {
		parts[i] = fmt.Sprintf("%d × %q", s.Jobs, s.Schedule)
	}
	return strings.Join(parts, " + ")
}

// Table renders the result for people.
func (r *Result) Table() string {
	var b strings.Builder
	for _, row := range r.describe() {
		fmt.Fprintf(&b, "%-44s %s\n", row[0], row[1])
	}
	return b.String()
}
