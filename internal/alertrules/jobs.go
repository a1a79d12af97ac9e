package alertrules

// jobAlerts are about one job each. PinkJobFailing is the one that speaks
// for a failing job; Alertmanager's example configuration mutes the
// others for the same job while it fires (deploy/prometheus/alertmanager.yml).
var jobAlerts = []rule{
	{
		alert: "PinkJobMissedSchedule",
		expr: `
time() - pink:job_last_success_or_update:timestamp_seconds
  > 2 * max by ($cluster, job_name, group) (pink_job_interval_seconds) + 300
and on ($cluster, job_name, group)
max by ($cluster, job_name, group) (pink_job_next_fire_timestamp_seconds)`,
		forDur:      "5m",
		severity:    "warning",
		summary:     "A pink job should have succeeded by now and has not",
		description: `Job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) has not succeeded for {{ $value | humanizeDuration }}, more than twice its interval.`,
		console:     "jobs/{{ $labels.job_name }}",
	},
	{
		alert:       "PinkJobFailing",
		expr:        `pink:job_failure_ratio:rate15m > 0.5`,
		forDur:      "15m",
		severity:    "warning",
		summary:     "Most runs of a pink job fail",
		description: `{{ $value | humanizePercentage }} of the runs of job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) failed or timed out over the last 15 minutes.`,
		console:     "jobs/{{ $labels.job_name }}",
	},
	{
		alert: "PinkJobLastRunFailed",
		expr: `
max by ($cluster, job_name, group) (pink_job_last_failure_timestamp_seconds)
  > max by ($cluster, job_name, group) (pink_job_last_success_timestamp_seconds)`,
		forDur:      "30m",
		severity:    "warning",
		summary:     "A pink job has failed and not succeeded since",
		description: `The last run of job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) failed, and no run has succeeded for 30 minutes since.`,
		console:     "jobs/{{ $labels.job_name }}",
	},
	{
		alert:       "PinkRunsTimingOut",
		expr:        `sum by ($cluster, job_name, group) (increase(pink_worker_runs_total{status="timed_out"}[30m])) > 0`,
		forDur:      "1m",
		severity:    "warning",
		summary:     "Runs of a pink job time out",
		description: `{{ printf "%.0f" $value }} runs of job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) hit their timeout in the last 30 minutes.`,
		console:     "jobs/{{ $labels.job_name }}",
	},
	{
		alert:       "PinkJobOverrunning",
		expr:        `sum by ($cluster, job_name, group) (increase(pink_fires_skipped_total{reason="concurrency_forbid"}[1h])) > 0`,
		forDur:      "1m",
		severity:    "warning",
		summary:     "A pink job runs longer than its interval",
		description: `{{ printf "%.0f" $value }} fires of job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) were skipped in the last hour because the previous run was still going (concurrency forbid).`,
		console:     "jobs/{{ $labels.job_name }}",
	},
}

// inClusterComma names the alert's cluster after a group, when it has one.
const inClusterComma = `{{ with $labels.$cluster }}, cluster {{ . }}{{ end }}`
