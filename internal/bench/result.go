package bench

import (
	"fmt"
	"strings"
	"time"
)

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
	// EtcdSpace samples etcd's space over the run (every 15 s); the
	// maxima are over those samples, EtcdNoSpace whether any saw NOSPACE.
	EtcdSpace         []SpaceSample `json:"etcd_space"`
	EtcdDBMaxBytes    int64         `json:"etcd_db_max_bytes"`
	EtcdInUseMaxBytes int64         `json:"etcd_in_use_max_bytes"`
	EtcdDirMaxBytes   int64         `json:"etcd_dir_max_bytes"`
	EtcdNoSpace       bool          `json:"etcd_nospace"`
	// Spread is, per figure that is a median of several runs (by its JSON
	// key), the smallest and the largest of those runs.
	Spread map[string][2]float64 `json:"spread"`
}

// Window is one measured window.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
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
		{"etcd database max: file / in use / data dir", fmt.Sprintf("%.1f / %.1f / %.1f MiB", mb(r.EtcdDBMaxBytes), mb(r.EtcdInUseMaxBytes), mb(r.EtcdDirMaxBytes))},
		{"etcd NOSPACE seen", fmt.Sprint(r.EtcdNoSpace)},
	}
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

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
