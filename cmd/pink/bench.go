package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/pink-scheduler/pink/pkg/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("bench", stderr)
	endpoints := f.string("etcd-endpoints", "", "comma-separated URLs of a plain-HTTP etcd to measure (its /metrics are read); default: an embedded one")
	schedulers := f.int("schedulers", 1, "scheduler processes")
	workers := f.int("workers", 2, "in-process workers")
	capacity := f.int("capacity", 256, "runs each worker executes at once")
	jobs := f.int("jobs", 100, "jobs to create")
	idle := f.int("idle-jobs", 0, "extra jobs that do not fire during the run (they load the leader)")
	noJobLabel := f.bool("no-job-label", false, "run the schedulers with --metrics-job-label=false")
	schedule := f.string("schedule", "* * * * * *", "schedule of every job")
	runTime := f.duration("run-time", 0, "how long each run takes (default: returns at once)")
	warmup := f.duration("warmup", 3*time.Second, "time before measuring")
	duration := f.duration("duration", 10*time.Second, "measured time")
	ttl := f.duration("session-ttl", 5*time.Second, "session and lease TTL of schedulers and workers")
	killLeader := f.duration("kill-leader-every", 0, "kill -9 the leader this often (and restart it)")
	stopLeader := f.duration("stop-leader-every", 0, "stop the leader gracefully (SIGTERM) this often (and restart it)")
	killWorker := f.duration("kill-worker-every", 0, "kill a worker this often (and start another)")
	conc := f.int("baseline-concurrency", 64, "goroutines of the etcd baseline load")
	baselineFor := f.duration("baseline-duration", 3*time.Second, "how long each etcd baseline load runs")
	runs := f.int("runs", 1, "run the benchmark this many times and report medians (misses and duplicates add up)")
	asJSON := f.bool("json", false, "print the result as JSON")
	profile := f.string("cpu-profile", "", "write a CPU profile of the measured window (workers and embedded etcd) to this file")
	lf := addLogFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	cfg := bench.Config{
		Endpoints: splitList(*endpoints), Schedulers: *schedulers, Workers: *workers, WorkerCapacity: *capacity,
		Jobs: *jobs, IdleJobs: *idle, NoJobLabel: *noJobLabel, Schedule: *schedule, RunTime: *runTime, Warmup: *warmup, Duration: *duration, SessionTTL: *ttl,
		KillLeaderEvery: *killLeader, StopLeaderEvery: *stopLeader, KillWorkerEvery: *killWorker, BaselineConcurrency: *conc, BaselineDuration: *baselineFor, CPUProfile: *profile, Logger: log,
	}
	for name, v := range map[string]int{"runs": *runs, "jobs": *jobs, "schedulers": *schedulers, "workers": *workers,
		"capacity": *capacity, "baseline-concurrency": *conc} {
		if v < 1 {
			return fmt.Errorf("%w: --%s must be at least 1", errUsage, name)
		}
	}
	if *idle < 0 {
		return fmt.Errorf("%w: --idle-jobs must not be negative", errUsage)
	}
	for name, d := range map[string]time.Duration{"duration": *duration, "warmup": *warmup, "baseline-duration": *baselineFor, "session-ttl": *ttl} {
		if d <= 0 {
			return fmt.Errorf("%w: --%s must be positive", errUsage, name)
		}
	}
	var results []*bench.Result
	for i := range *runs {
		log.Info("benchmark run", "run", i+1, "of", *runs)
		r, err := bench.Run(ctx, cfg)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	res := bench.Median(results)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	_, err = fmt.Fprint(stdout, res.Table())
	return err
}
