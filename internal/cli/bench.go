package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pink-scheduler/pink/internal/bench"
	"github.com/pink-scheduler/pink/internal/node"
)

func benchCommand(stdout, stderr io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput, lag and failover of a pink cluster",
		Long: `Start schedulers (processes of this binary) and in-process workers on an embedded etcd
(or --etcd-endpoints), create jobs, and report runs/s, misses, duplicates, schedule and
start lag, and etcd's own key throughput (docs/benchmarks.md).`,
		Example: `  pink bench --jobs 1000 --duration 30s
  pink bench --jobs 100 --schedulers 3 --kill-leader-every 10s --runs 3`,
		Args: cobra.NoArgs,
	}
	f := newFlags(c.Flags())
	endpoints := f.string("etcd-endpoints", "", "comma-separated URLs of a plain-HTTP etcd to measure (its /metrics are read); default: an embedded one")
	schedulers := f.int("schedulers", 1, "scheduler processes")
	workers := f.int("workers", 2, "in-process workers")
	capacity := f.int("capacity", 256, "runs each worker executes at once")
	jobs := f.int("jobs", 100, "jobs to create")
	idle := f.int("idle-jobs", 0, "extra jobs that do not fire during the run (they load the leader)")
	noJobLabel := f.bool("no-job-label", false, "run the schedulers with --metrics-job-label=false")
	schedules := &scheduleFlag{}
	if v, ok := os.LookupEnv(envName("schedule")); ok {
		if err := schedules.Set(v); err != nil {
			f.envErrs = append(f.envErrs, fmt.Sprintf("%s: %v", envName("schedule"), err))
		}
		schedules.fromEnv = true
	}
	f.fs.Var(schedules, "schedule", "a job schedule, or weight:schedule; repeat for a mix, the jobs shared by weight "+
		"(e.g. --schedule '9:* * * * * *' --schedule '1:@every 10s'); default every job every second (env "+envName("schedule")+": one entry)")
	runTime := f.duration("run-time", 0, "how long each run takes (default: returns at once)")
	warmup := f.duration("warmup", 3*time.Second, "time before measuring")
	duration := f.duration("duration", 10*time.Second, "measured time")
	ttl := f.duration("session-ttl", 5*time.Second, "session and lease TTL of schedulers and workers")
	lookahead := f.duration("lookahead", node.DefaultLookahead, "the schedulers' --lookahead (0: off)")
	claimAhead := addClaimAheadFlag(f)
	killLeader := f.duration("kill-leader-every", 0, "kill -9 the leader this often (and restart it)")
	stopLeader := f.duration("stop-leader-every", 0, "stop the leader gracefully (SIGTERM) this often (and restart it)")
	killWorker := f.duration("kill-worker-every", 0, "kill a worker this often (and start another)")
	conc := f.int("baseline-concurrency", 0, "goroutines of the etcd baseline load (default: pink's own write concurrency, 8 fire batches + 4 per worker)")
	valueBytes := f.int("baseline-value-bytes", 0, "size of each value the etcd baseline puts (default: the encoded size of a snapshot of the run's jobs)")
	baselineFor := f.duration("baseline-duration", 3*time.Second, "how long each etcd baseline load runs")
	runs := f.int("runs", 1, "run the benchmark this many times and report medians (misses and duplicates add up)")
	asJSON := f.bool("json", false, "print the result as JSON")
	profile := f.string("cpu-profile", "", "write a CPU profile of the measured window (workers and embedded etcd) to this file")
	memProfile := f.string("mem-profile", "", "have each scheduler write a heap profile at the window's end to this file + .bench-s<i>")
	lf := addLogFlags(f)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		log, err := lf.logger(f, stderr)
		if err != nil {
			return err
		}
		return bench1(cmd.Context(), stdout, log, bench.Config{
			Endpoints: splitList(*endpoints), Schedulers: *schedulers, Workers: *workers, WorkerCapacity: *capacity,
			Jobs: *jobs, IdleJobs: *idle, NoJobLabel: *noJobLabel, Schedules: schedules.shares, RunTime: *runTime, Warmup: *warmup, Duration: *duration, SessionTTL: *ttl, Lookahead: *lookahead, ClaimAhead: claimAhead(),
			KillLeaderEvery: *killLeader, StopLeaderEvery: *stopLeader, KillWorkerEvery: *killWorker, BaselineConcurrency: *conc, BaselineValueBytes: *valueBytes,
			BaselineDuration: *baselineFor, CPUProfile: *profile, MemProfile: *memProfile, Logger: log,
		}, *runs, *asJSON)
	}
	return c
}

// bench1 runs the benchmark cfg runs times and prints the medians.
func bench1(ctx context.Context, stdout io.Writer, log *slog.Logger, cfg bench.Config, runs int, asJSON bool) error {
	if err := checkBench(cfg, runs); err != nil {
		return err
	}
	var results []*bench.Result
	for i := range runs {
		log.Info("benchmark run", "run", i+1, "of", runs)
		r, err := bench.Run(ctx, cfg)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	res := bench.Median(results)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	_, err := fmt.Fprint(stdout, res.Table())
	return err
}

// checkBench refuses a benchmark config no run can measure.
func checkBench(cfg bench.Config, runs int) error {
	for name, v := range map[string]int{"runs": runs, "jobs": cfg.Jobs, "schedulers": cfg.Schedulers, "workers": cfg.Workers,
		"capacity": cfg.WorkerCapacity} {
		if v < 1 {
			return fmt.Errorf("%w: --%s must be at least 1", ErrUsage, name)
		}
	}
	for name, v := range map[string]int{"idle-jobs": cfg.IdleJobs, "baseline-concurrency": cfg.BaselineConcurrency, "baseline-value-bytes": cfg.BaselineValueBytes} {
		if v < 0 {
			return fmt.Errorf("%w: --%s must not be negative", ErrUsage, name)
		}
	}
	if cfg.Lookahead < 0 {
		return fmt.Errorf("%w: --lookahead must not be negative", ErrUsage)
	}
	if len(cfg.Schedules) > 0 {
		if _, err := bench.AssignSchedules(cfg.Schedules, cfg.Jobs); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
	}
	for name, d := range map[string]time.Duration{"duration": cfg.Duration, "warmup": cfg.Warmup, "baseline-duration": cfg.BaselineDuration, "session-ttl": cfg.SessionTTL} {
		if d <= 0 {
			return fmt.Errorf("%w: --%s must be positive", ErrUsage, name)
		}
	}
	return nil
}

// scheduleFlag is the repeatable --schedule: each value is a schedule or
// weight:schedule. A value from the environment is replaced by the first
// flag.
type scheduleFlag struct {
	shares  []bench.ScheduleShare
	fromEnv bool
}

func (s *scheduleFlag) String() string {
	if s == nil {
		return ""
	}
	parts := make([]string, len(s.shares))
	for i, sh := range s.shares {
		parts[i] = fmt.Sprintf("%d:%s", sh.Weight, sh.Schedule)
	}
	return strings.Join(parts, "; ")
}

func (s *scheduleFlag) Type() string { return "schedule" }

func (s *scheduleFlag) Set(v string) error {
	share, err := bench.ParseScheduleShare(v)
	if err != nil {
		return err
	}
	if s.fromEnv {
		s.shares, s.fromEnv = nil, false
	}
	s.shares = append(s.shares, share)
	return nil
}
