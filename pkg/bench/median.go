package bench

import "slices"

// Median folds the results of repeated runs of one benchmark into one:
// each figure is the median of the runs, except the correctness counts
// (fires, missed, duplicates, retried), which add up — a miss in any run
// counts — and the failover times, which are all kept.
func Median(rs []*Result) *Result {
	if len(rs) == 0 {
		return nil
	}
	out := *rs[0]
	out.Runs = len(rs)
	med := func(f func(*Result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return quantile(v, .5)
	}
	out.WindowSeconds = med(func(r *Result) float64 { return r.WindowSeconds })
	out.RunsPerSecond = med(func(r *Result) float64 { return r.RunsPerSecond })
	out.ScheduleLagP50 = med(func(r *Result) float64 { return r.ScheduleLagP50 })
	out.ScheduleLagP99 = med(func(r *Result) float64 { return r.ScheduleLagP99 })
	out.ScheduleLagMax = med(func(r *Result) float64 { return r.ScheduleLagMax })
	out.DispatchLagP99 = med(func(r *Result) float64 { return r.DispatchLagP99 })
	out.StartLagP50 = med(func(r *Result) float64 { return r.StartLagP50 })
	out.StartLagP99 = med(func(r *Result) float64 { return r.StartLagP99 })
	out.EtcdWritesPerRun = med(func(r *Result) float64 { return r.EtcdWritesPerRun })
	out.EtcdTxnPerSecond = med(func(r *Result) float64 { return r.EtcdTxnPerSecond })
	out.EtcdBaselineTxnPerSec = med(func(r *Result) float64 { return r.EtcdBaselineTxnPerSec })
	out.EtcdLimitRatio = med(func(r *Result) float64 { return r.EtcdLimitRatio })
	out.EtcdKeysPerRun = med(func(r *Result) float64 { return r.EtcdKeysPerRun })
	out.EtcdBaselineKeysPerSecond = med(func(r *Result) float64 { return r.EtcdBaselineKeysPerSecond })
	out.EtcdKeysLimitRatio = med(func(r *Result) float64 { return r.EtcdKeysLimitRatio })
	out.SchedulerCPUCores = med(func(r *Result) float64 { return r.SchedulerCPUCores })
	out.SchedulerRSSBytes = int64(med(func(r *Result) float64 { return float64(r.SchedulerRSSBytes) }))
	out.LeaderReadySeconds = med(func(r *Result) float64 { return r.LeaderReadySeconds })
	out.FiresExpected, out.FiresRan, out.Missed, out.Duplicates, out.Retried = 0, 0, 0, 0, 0
	out.LeaderFailoverSeconds, out.LeaderResignSeconds, out.WorkerFailoverSeconds = []float64{}, []float64{}, []float64{}
	for _, r := range rs {
		out.FiresExpected += r.FiresExpected
		out.FiresRan += r.FiresRan
		out.Missed += r.Missed
		out.Duplicates += r.Duplicates
		out.Retried += r.Retried
		out.LeaderFailoverSeconds = append(out.LeaderFailoverSeconds, r.LeaderFailoverSeconds...)
		out.LeaderResignSeconds = append(out.LeaderResignSeconds, r.LeaderResignSeconds...)
		out.WorkerFailoverSeconds = append(out.WorkerFailoverSeconds, r.WorkerFailoverSeconds...)
	}
	slices.Sort(out.LeaderFailoverSeconds)
	slices.Sort(out.LeaderResignSeconds)
	slices.Sort(out.WorkerFailoverSeconds)
	return &out
}
