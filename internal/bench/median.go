package bench

import "slices"

// Median folds the results of repeated runs of one benchmark into one:
// each figure is the median of the runs, except the correctness counts
// (fires, missed, duplicates, retried), which add up — a miss in any run
// counts — the failover times and windows, which are all kept, and the
// etcd space maxima, which are the largest of the runs. Spread
// holds the smallest and largest of the runs behind each median.
func Median(rs []*Result) *Result {
	if len(rs) == 0 {
		return nil
	}
	out := *rs[0]
	out.Runs = len(rs)
	out.Spread = map[string][2]float64{}
	med := func(key string, f func(*Result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		out.Spread[key] = [2]float64{slices.Min(v), slices.Max(v)}
		return quantile(v, .5)
	}
	out.WindowSeconds = med("window_seconds", func(r *Result) float64 { return r.WindowSeconds })
	out.RunsPerSecond = med("runs_per_second", func(r *Result) float64 { return r.RunsPerSecond })
	out.ScheduleLagP50 = med("schedule_lag_p50", func(r *Result) float64 { return r.ScheduleLagP50 })
	out.ScheduleLagP99 = med("schedule_lag_p99", func(r *Result) float64 { return r.ScheduleLagP99 })
	out.ScheduleLagMax = med("schedule_lag_max", func(r *Result) float64 { return r.ScheduleLagMax })
	out.DispatchLagP99 = med("dispatch_lag_p99", func(r *Result) float64 { return r.DispatchLagP99 })
	out.StartLagP50 = med("start_lag_p50", func(r *Result) float64 { return r.StartLagP50 })
	out.StartLagP99 = med("start_lag_p99", func(r *Result) float64 { return r.StartLagP99 })
	out.EtcdWritesPerRun = med("etcd_writes_per_run", func(r *Result) float64 { return r.EtcdWritesPerRun })
	out.EtcdTxnPerSecond = med("etcd_txn_per_second", func(r *Result) float64 { return r.EtcdTxnPerSecond })
	out.EtcdBaselineTxnPerSec = med("etcd_baseline_txn_per_second", func(r *Result) float64 { return r.EtcdBaselineTxnPerSec })
	out.EtcdLimitRatio = med("etcd_limit_ratio", func(r *Result) float64 { return r.EtcdLimitRatio })
	out.EtcdKeysPerRun = med("etcd_keys_per_run", func(r *Result) float64 { return r.EtcdKeysPerRun })
	out.EtcdBaselineKeysPerSecond = med("etcd_baseline_keys_per_second", func(r *Result) float64 { return r.EtcdBaselineKeysPerSecond })
	out.EtcdKeysLimitRatio = med("etcd_keys_limit_ratio", func(r *Result) float64 { return r.EtcdKeysLimitRatio })
	out.SchedulerCPUCores = med("scheduler_cpu_cores", func(r *Result) float64 { return r.SchedulerCPUCores })
	out.SchedulerRSSBytes = int64(med("scheduler_rss_bytes", func(r *Result) float64 { return float64(r.SchedulerRSSBytes) }))
	out.SchedulerPeakRSSBytes = int64(med("scheduler_peak_rss_bytes", func(r *Result) float64 { return float64(r.SchedulerPeakRSSBytes) }))
	out.EtcdBaselineConcurrency = int(med("etcd_baseline_concurrency", func(r *Result) float64 { return float64(r.EtcdBaselineConcurrency) }))
	out.EtcdBaselineValueBytes = int(med("etcd_baseline_value_bytes", func(r *Result) float64 { return float64(r.EtcdBaselineValueBytes) }))
	out.LeaderReadySeconds = med("leader_ready_seconds", func(r *Result) float64 { return r.LeaderReadySeconds })
	out.FiresExpected, out.FiresRan, out.Missed, out.Duplicates, out.Retried = 0, 0, 0, 0, 0
	out.LeaderFailoverSeconds, out.LeaderResignSeconds, out.WorkerFailoverSeconds = []float64{}, []float64{}, []float64{}
	out.Windows = []Window{}
	for _, r := range rs {
		out.Windows = append(out.Windows, r.Windows...)
		out.FiresExpected += r.FiresExpected
		out.FiresRan += r.FiresRan
		out.Missed += r.Missed
		out.Duplicates += r.Duplicates
		out.Retried += r.Retried
		out.LeaderFailoverSeconds = append(out.LeaderFailoverSeconds, r.LeaderFailoverSeconds...)
		out.LeaderResignSeconds = append(out.LeaderResignSeconds, r.LeaderResignSeconds...)
		out.WorkerFailoverSeconds = append(out.WorkerFailoverSeconds, r.WorkerFailoverSeconds...)
		// Space: the largest of any run, and NOSPACE in any; the samples
		// are the first run's.
		out.EtcdDBMaxBytes, out.EtcdInUseMaxBytes = max(out.EtcdDBMaxBytes, r.EtcdDBMaxBytes), max(out.EtcdInUseMaxBytes, r.EtcdInUseMaxBytes)
		out.EtcdDirMaxBytes, out.EtcdNoSpace = max(out.EtcdDirMaxBytes, r.EtcdDirMaxBytes), out.EtcdNoSpace || r.EtcdNoSpace
	}
	slices.Sort(out.LeaderFailoverSeconds)
	slices.Sort(out.LeaderResignSeconds)
	slices.Sort(out.WorkerFailoverSeconds)
	return &out
}
