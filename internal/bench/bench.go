// Package bench measures a pink cluster: it runs real `pink scheduler`
// processes and in-process workers against etcd (embedded, or given), fires
// a configurable number of jobs, and reports throughput, lags, etcd cost,
// scheduler CPU and memory, missed and duplicate fires, failover times, and
// how close the throughput comes to what the same etcd allows.
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
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
	// ClaimAhead is the workers' worker.Config.ClaimAhead.
	ClaimAhead time.Duration
	Jobs       int
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
	RunTime    time.Duration
	Warmup     time.Duration
	Duration   time.Duration
	SessionTTL time.Duration
	// Lookahead is the schedulers' --lookahead (0: off).
	Lookahead       time.Duration
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
