package alertrules

// alerts are pink's alerts in the order of the rule file: the cluster's
// (leadership, schedulers, workers), the jobs', then etcd's.
var alerts = append(append(clusterAlerts, jobAlerts...), etcdAlerts...)

// inCluster names the alert's cluster in a description, when it has one.
const inCluster = `{{ with $labels.$cluster }} in cluster {{ . }}{{ end }}`

var clusterAlerts = []rule{
	{
		comment: `Per cluster. The value is the number of scheduler nodes that report
metrics (all followers), 0 when none is scraped though Prometheus has
targets for them (or has none at all): it tells "all down" from "up but
none can lead".`,
		alert: "PinkNoLeader",
		expr: `
count by ($cluster) (pink_scheduler_leader)
  unless on ($cluster)
(max by ($cluster) (pink_scheduler_leader) >= 1)
or
max by ($cluster) (up{$scheduler}) == 0
or
absent(pink_scheduler_leader) - 1`,
		forDur:      "1m",
		severity:    "critical",
		summary:     "No pink scheduler is the leader",
		description: `No scheduler node` + inCluster + ` has led for 1 minute; {{ printf "%.0f" $value }} scheduler nodes report metrics (0: none is up or scraped). No job fires and nothing is dispatched until one leads.`,
		console:     "schedulers",
	},
	{
		alert:       "PinkMultipleLeaders",
		expr:        `sum by ($cluster) (pink_scheduler_leader) > 1`,
		forDur:      "2m",
		severity:    "warning",
		summary:     "More than one pink scheduler reports leadership",
		description: `{{ printf "%.0f" $value }} scheduler nodes` + inCluster + ` report pink_scheduler_leader=1. Fencing keeps fires exactly-once, but a node believes it leads while it cannot write.`,
		console:     "schedulers",
	},
	{
		alert:       "PinkSchedulerDown",
		expr:        `up{$scheduler} == 0`,
		forDur:      "2m",
		severity:    "warning",
		summary:     "A pink scheduler node is down",
		description: `Prometheus cannot scrape the scheduler {{ $labels.instance }}` + inCluster + ` for 2 minutes. The others keep scheduling; fewer nodes are left to take over.`,
		console:     "schedulers",
	},
	{
		alert: "PinkNoLiveClients",
		expr: `
max by ($cluster, group) (pink_clients) == 0
  and on ($cluster, group)
max by ($cluster, group) (pink_group_jobs{state="active"}) > 0`,
		forDur:      "2m",
		severity:    "critical",
		summary:     "A pink group with active jobs has no live workers",
		description: `Group {{ $labels.group }}` + inCluster + ` has active jobs but no live worker for 2 minutes; its runs wait as pending.`,
		console:     "workers",
	},
	{
		alert:       "PinkScheduleLagHigh",
		expr:        `pink:schedule_lag_seconds:p99_5m > 2`,
		forDur:      "10m",
		severity:    "warning",
		summary:     "pink writes fires late",
		description: `The 99th percentile of schedule lag` + inCluster + ` is {{ $value | humanizeDuration }} for 10 minutes: fires are written late.`,
	},
	{
		alert:       "PinkDispatchLagHigh",
		expr:        `pink:dispatch_lag_seconds:p99_5m > 10`,
		forDur:      "10m",
		severity:    "warning",
		summary:     "pink dispatches runs late",
		description: `The 99th percentile of dispatch lag` + inCluster + ` is {{ $value | humanizeDuration }} for 10 minutes: runs reach workers late.`,
	},
	{
		alert:       "PinkSnapshotsPendingTooLong",
		expr:        `max by ($cluster, group) (pink_snapshots_pending) > 0`,
		forDur:      "15m",
		severity:    "warning",
		summary:     "pink runs wait for a worker",
		description: `{{ printf "%.0f" $value }} snapshots of group {{ $labels.group }}` + inCluster + ` have been pending for 15 minutes.`,
		console:     "snapshots?group={{ $labels.group }}",
	},
	{
		comment:  `A burst of failovers is one worker's death; a storm lasts.`,
		alert:    "PinkFailoverStorm",
		expr:     `sum by ($cluster, group) (increase(pink:failovers_total:max[10m])) > 20`,
		forDur:   "5m",
		severity: "warning",
		summary:  "Many pink runs are failing over",
		description: `{{ printf "%.0f" $value }} snapshots of group {{ $labels.group }}` + inCluster +
			` were moved off dead, draining or stalled workers in the last 10 minutes, for 5 minutes.`,
		console: "snapshots?group={{ $labels.group }}",
	},
	{
		comment: `One alert per cluster, not per job: an outage loses the fires of many
jobs at once, and that is one event to be told of. Only lost fires count;
those a catch-up run covered (misfire_run_once) are not lost.`,
		alert:    "PinkFiresMissed",
		expr:     `sum by ($cluster) (pink:job_fires_lost:increase1h) > 0`,
		forDur:   "1m",
		severity: "warning",
		summary:  "pink lost fires it missed",
		description: `{{ printf "%.0f" $value }} fires` + inCluster + ` were missed in the last hour and not run (misfire policy skip, or older than the job's catchup_window).` +
			` pink:job_fires_lost:increase1h lists the jobs.`,
	},
	{
		comment: `With lookahead the leader writes a fire up to the lookahead before
its nominal time, and the worker starts it at scheduled_at by its
own clock: a worker ahead of the leader by d starts runs d early,
one behind starts them late. Past half the lookahead that is more
than the lookahead was meant to absorb. Silent while lookahead is
off (0): then a worker starts a run when it receives it.`,
		alert: "PinkWorkerClockSkew",
		expr: `
abs(pink_worker_clock_offset_seconds)
  > on ($cluster) group_left ()
(max by ($cluster) (pink_scheduler_lookahead_seconds > 0) / 2)`,
		forDur:      "5m",
		severity:    "warning",
		summary:     "A pink worker's clock is off the leader's",
		description: `The clock of worker {{ $labels.instance }}` + inCluster + ` is {{ $value | humanizeDuration }} off the leader's for 5 minutes, more than half the lookahead: it starts runs that much early or late.`,
		console:     "workers",
	},
}
