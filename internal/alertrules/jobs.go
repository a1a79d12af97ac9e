package alertrules

// jobAlerts are about one job each. PinkJobFailing is the one that speaks
// for a failing job, after as many failed fires in a row as the job's
// threshold (label pink_alert_failures, default 3), not after one;
// Alertmanager's example configuration mutes the others for the same job
// while it fires (deploy/prometheus/alertmanager.yml). PinkGroupJobsFailing
// counts the same per group where the job label is off.
var jobAlerts = []rule{
	{
		comment: `A job that has not succeeded because its fires fail is PinkJobFailing's
(after the job's threshold): this one speaks for a job whose fires do not
run or do not finish, so that a failing hourly job is one notification.`,
		alert: "PinkJobMissedSchedule",
		expr: `
time() - pink:job_last_success_or_update:timestamp_seconds
  > 2 * max by ($cluster, job_name, group) (pink_job_interval_seconds) + 300
and on ($cluster, job_name, group)
max by ($cluster, job_name, group) (pink_job_next_fire_timestamp_seconds)
unless on ($cluster, job_name, group)
max by ($cluster, job_name, group) (pink_job_consecutive_failures) > 0`,
		forDur:      "5m",
		severity:    "warning",
		summary:     "A pink job should have succeeded by now and has not",
		description: `Job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) has not succeeded for {{ $value | humanizeDuration }}, more than twice its interval.`,
		console:     "jobs/{{ $labels.job_name }}",
	},
	{
		comment: `PinkJobMissedSchedule for fleets without the job label: the leader
counts the overdue jobs of each group by the same rule. Silent where the
per-job series exist.`,
		alert: "PinkGroupJobsOverdue",
		expr: `
max by ($cluster, group) (pink_group_jobs_overdue) > 0
  unless on ($cluster, group)
max by ($cluster, group) (pink_job_interval_seconds)`,
		forDur:      "5m",
		severity:    "warning",
		summary:     "Jobs of a pink group should have succeeded by now and have not",
		description: `{{ printf "%.0f" $value }} jobs of group {{ $labels.group }}` + inCluster + ` have not succeeded for more than twice their interval; the console's jobs list of the group shows each one's last run.`,
		console:     "jobs?group={{ $labels.group }}",
	},
	{
		comment: `A minute of for: a failed attempt whose retry is due counts until the
retry has run.`,
		alert: "PinkJobFailing",
		expr: `
max by ($cluster, job_name, group) (pink_job_consecutive_failures)
  >= on ($cluster, job_name, group)
max by ($cluster, job_name, group) (pink_job_alert_failures)`,
		forDur:      "1m",
		severity:    "warning",
		summary:     "A pink job's fires fail in a row",
		description: `Job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) failed {{ printf "%.0f" $value }} fire(s) in a row, after their retries: its threshold (label pink_alert_failures, default 3) or more.`,
		console:     "jobs/{{ $labels.job_name }}",
	},
	{
		comment: `For fleets without the job label (--metrics-job-label=false), where the
per-job series are gone: the leader counts the failing jobs of each group.
Silent where the per-job alert can speak.`,
		alert: "PinkGroupJobsFailing",
		expr: `
max by ($cluster, group) (pink_group_jobs_failing) > 0
  unless on ($cluster, group)
max by ($cluster, group) (pink_job_alert_failures)`,
		forDur:      "1m",
		severity:    "warning",
		summary:     "Jobs of a pink group fail in a row",
		description: `{{ printf "%.0f" $value }} jobs of group {{ $labels.group }}` + inCluster + ` failed as many fires in a row as their threshold; pink jobs list --group {{ $labels.group }} --failing names them.`,
		console:     "jobs?group={{ $labels.group }}&failing=true",
	},
	{
		comment: `Timeouts now and then, among runs that succeed: a pattern (three in an
hour), not one event. Timeouts in a row are failures PinkJobFailing counts.`,
		alert:       "PinkRunsTimingOut",
		expr:        `sum by ($cluster, job_name, group) (increase(pink_worker_runs_total{status="timed_out"}[1h])) > 2`,
		forDur:      "1m",
		severity:    "warning",
		summary:     "Runs of a pink job time out",
		description: `{{ printf "%.0f" $value }} runs of job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) hit their timeout in the last hour.`,
		console:     "jobs/{{ $labels.job_name }}",
	},
	{
		alert:       "PinkJobOverrunning",
		expr:        `sum by ($cluster, job_name, group) (increase(pink:fires_skipped_total:max{reason="concurrency_forbid"}[1h])) > 0`,
		forDur:      "1m",
		severity:    "warning",
		summary:     "A pink job runs longer than its interval",
		description: `{{ printf "%.0f" $value }} fires of job {{ $labels.job_name }} (group {{ $labels.group }}` + inClusterComma + `) were skipped in the last hour because the previous run was still going (concurrency forbid).`,
		console:     "jobs/{{ $labels.job_name }}",
	},
}

// inClusterComma names the alert's cluster after a group, when it has one.
const inClusterComma = `{{ with $labels.$cluster }}, cluster {{ . }}{{ end }}`
