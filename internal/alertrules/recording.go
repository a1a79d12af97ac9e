package alertrules

// recordingRules come first in the group, so the alerts after them see the
// values of the same evaluation.
var recordingRules = []rule{
	{
		comment: `The later of a job's last success and its last change (creation, edit,
pause, resume): the point from which a "should have run" clock starts.`,
		record: "pink:job_last_success_or_update:timestamp_seconds",
		expr: `
max by ($cluster, job_name, group) (pink_job_last_success_timestamp_seconds)
  > max by ($cluster, job_name, group) (pink_job_updated_timestamp_seconds)
or
max by ($cluster, job_name, group) (pink_job_updated_timestamp_seconds)`,
	},
	{
		record: "pink:job_runs:rate15m",
		expr:   `sum by ($cluster, job_name, group, status) (rate(pink_worker_runs_total[15m]))`,
	},
	{
		comment: `Failed and timed-out runs as a share of finished runs (canceled runs
were replaced on purpose and do not count).`,
		record: "pink:job_failure_ratio:rate15m",
		expr: `
sum by ($cluster, job_name, group) (pink:job_runs:rate15m{status=~"failed|timed_out"})
  / sum by ($cluster, job_name, group) (pink:job_runs:rate15m{status=~"succeeded|failed|timed_out"})`,
	},
	{
		comment: `The leader-only counters, one series per cluster across leader changes.
They are kept in etcd, so every leader exports the same values, but each
leader's series is its own (its instance) and starts at what etcd holds:
increase() over a new leader's series misses what changed at the takeover
itself — the fires a catch-up skipped, the work moved off workers that died
with the old leader. The recorded series lives on through the change and
sees the jump.`,
		record: "pink:fires_skipped_total:max",
		expr:   `max by ($cluster, job_name, group, reason) (pink_fires_skipped_total)`,
	},
	{
		record: "pink:failovers_total:max",
		expr:   `max by ($cluster, group, reason) (pink_failovers_total)`,
	},
	{
		comment: `Fires lost in the last hour, per job: missed and not run, because the
job's misfire policy is skip or they were older than its catchup_window.
Fires a catch-up run covered (reason misfire_run_once) are not lost.`,
		record: "pink:job_fires_lost:increase1h",
		expr:   `sum by ($cluster, job_name, group) (increase(pink:fires_skipped_total:max{reason=~"misfire_skip|misfire_window"}[1h]))`,
	},
	{
		comment: `Lag and latency quantiles over 5 minutes: the alerts use the p99s, the
Pink / Overview dashboard draws the p50s and p99s.`,
		record: "pink:schedule_lag_seconds:p50_5m",
		expr:   `histogram_quantile(0.5, sum by ($cluster, le) (rate(pink_schedule_lag_seconds_bucket[5m])))`,
	},
	{
		record: "pink:schedule_lag_seconds:p99_5m",
		expr:   `histogram_quantile(0.99, sum by ($cluster, le) (rate(pink_schedule_lag_seconds_bucket[5m])))`,
	},
	{
		record: "pink:dispatch_lag_seconds:p50_5m",
		expr:   `histogram_quantile(0.5, sum by ($cluster, le) (rate(pink_dispatch_lag_seconds_bucket[5m])))`,
	},
	{
		record: "pink:dispatch_lag_seconds:p99_5m",
		expr:   `histogram_quantile(0.99, sum by ($cluster, le) (rate(pink_dispatch_lag_seconds_bucket[5m])))`,
	},
	{
		comment: `Run duration quantiles per job across workers and statuses, for the
Pink / Job dashboard (the raw histogram has job x status x 23 series
on every worker).`,
		record: "pink:job_run_duration_seconds:p50_5m",
		expr:   `histogram_quantile(0.5, sum by ($cluster, le, job_name, group) (rate(pink_worker_run_duration_seconds_bucket[5m])))`,
	},
	{
		record: "pink:job_run_duration_seconds:p90_5m",
		expr:   `histogram_quantile(0.9, sum by ($cluster, le, job_name, group) (rate(pink_worker_run_duration_seconds_bucket[5m])))`,
	},
	{
		record: "pink:job_run_duration_seconds:p99_5m",
		expr:   `histogram_quantile(0.99, sum by ($cluster, le, job_name, group) (rate(pink_worker_run_duration_seconds_bucket[5m])))`,
	},
	{
		record: "pink:etcd_request_duration_seconds:p99_5m",
		expr:   `histogram_quantile(0.99, sum by ($cluster, le, op) (rate(pink_etcd_request_duration_seconds_bucket[5m])))`,
	},
	{
		record: "pink:etcd_request_error_ratio:rate5m",
		expr: `
sum by ($cluster) (rate(pink_etcd_request_errors_total[5m]))
  / sum by ($cluster) (rate(pink_etcd_request_duration_seconds_count[5m]))`,
	},
}
