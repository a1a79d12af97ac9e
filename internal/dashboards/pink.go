package dashboards

import "fmt"

// query is one PromQL expression of a panel.
type query struct {
	expr, legend string
	instant      bool
	heatmap      bool
}

// panel is the short form of a panel that build expands.
type panel struct {
	typ, title, desc, unit string
	queries                []query
	w, h                   int
	// exemplars shows exemplars (trace links) of histogram queries.
	exemplars bool
	// mappings show values as text.
	mappings []any
}

// never shows a timestamp panel's 0 (pink's "never") as the word: the
// job an on-call opens is often the one that never succeeded.
func never(p panel) panel {
	p.mappings = []any{map[string]any{"type": "value", "options": map[string]any{"0": map[string]any{"text": "never", "index": 0}}}}
	return p
}

func q(expr, legend string) query { return query{expr: expr, legend: legend} }

func stat(title, desc, unit string, qs ...query) panel {
	for i := range qs {
		qs[i].instant = true
	}
	return panel{typ: "stat", title: title, desc: desc, unit: unit, queries: qs, w: 6, h: 4}
}

func graph(title, desc, unit string, qs ...query) panel {
	return panel{typ: "timeseries", title: title, desc: desc, unit: unit, queries: qs, w: 12, h: 8}
}

func lagGraph(title, desc, metric, filter string) panel {
	p := graph(title, desc, "s",
		q(fmt.Sprintf(`histogram_quantile(0.5, sum by (le) (rate(%s_bucket%s[$__rate_interval])))`, metric, filter), "p50"),
		q(fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (rate(%s_bucket%s[$__rate_interval])))`, metric, filter), "p99"))
	p.exemplars = true
	return p
}

// recordedLagGraph draws the p50 and p99 of a lag histogram from the
// recording rules pink:<name>:p50_5m and pink:<name>:p99_5m of
// alerts/pink-alerts.yml: a fixed 5-minute window, computed once per
// evaluation instead of on every refresh. Recorded series carry no
// exemplars.
func recordedLagGraph(title, desc, name string) panel {
	return graph(title, desc, "s",
		q("pink:"+name+":p50_5m", "p50"),
		q("pink:"+name+":p99_5m", "p99"))
}

// build lays panels out left to right in rows of Grafana's 24 columns. The
// dashboards are not editable in Grafana: they are code, and an edit there
// would be lost at the next provisioning.
func build(uid, title, desc string, vars []Variable, notes Annotations, specs []panel) Dashboard {
	d := Dashboard{
		UID: uid, Title: title, Description: desc, Tags: []string{"pink"}, Editable: false, GraphTooltip: 1,
		Refresh: "30s", SchemaVersion: 39, Version: 1, Time: TimeRange{From: "now-3h", To: "now"}, Timezone: "browser",
		Templating: Templating{List: append([]Variable{{Name: "datasource", Label: "Data source", Type: "datasource",
			Query: "prometheus", Current: Current{}}, clusterVar, scrapeVar, instanceVar}, vars...)},
		Annotations: notes,
		Links:       []Link{{Title: "Pink dashboards", Type: "dashboards", Tags: []string{"pink"}, AsDropdown: true, IncludeVars: true, KeepTime: true}},
	}
	x, y, rowH := 0, 0, 0
	for i, s := range specs {
		if x+s.w > 24 {
			x, y, rowH = 0, y+rowH, 0
		}
		p := Panel{ID: i + 1, Type: s.typ, Title: s.title, Description: s.desc, Datasource: Datasource,
			GridPos: GridPos{H: s.h, W: s.w, X: x, Y: y}, FieldConfig: FieldConfig{Defaults: FieldDefaults{Unit: s.unit, Mappings: s.mappings}, Overrides: []any{}}}
		switch s.typ {
		case "stat":
			p.Options = map[string]any{"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
				"colorMode": "value", "graphMode": "none", "textMode": "auto", "justifyMode": "auto", "orientation": "auto"}
		case "heatmap":
			p.Options = map[string]any{"calculate": false, "cellGap": 1, "yAxis": map[string]any{"unit": s.unit},
				"color": map[string]any{"mode": "scheme", "scheme": "Oranges", "steps": 64}, "exemplars": map[string]any{"color": "rgba(255,0,255,0.7)"},
				"legend": map[string]any{"show": true}, "tooltip": map[string]any{"mode": "single", "yHistogram": true}}
		default:
			p.Options = map[string]any{"legend": map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": true},
				"tooltip": map[string]any{"mode": "multi", "sort": "desc"}}
			min := 0
			p.FieldConfig.Defaults.Min = &min
		}
		for j, qq := range s.queries {
			t := Target{RefID: string(rune('A' + j)), Datasource: Datasource, Expr: scope(qq.expr), LegendFormat: qq.legend,
				Instant: qq.instant, Range: !qq.instant, Exemplar: s.exemplars}
			if qq.heatmap {
				t.Format = "heatmap"
			}
			p.Targets = append(p.Targets, t)
		}
		d.Panels = append(d.Panels, p)
		x += s.w
		rowH = max(rowH, s.h)
	}
	return d
}

func queryVar(name, label, query string, multi bool) Variable {
	v := Variable{Name: name, Label: label, Type: "query", Datasource: &Datasource, Definition: query, Refresh: 2, Sort: 1,
		Query:      map[string]any{"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
		IncludeAll: true, Multi: multi, AllValue: ".*", Current: Current{Text: "All", Value: "$__all"}}
	return v
}

// All returns pink's dashboards by file name.
func All() map[string]Dashboard {
	return map[string]Dashboard{
		"pink-overview.json": Overview(),
		"pink-job.json":      Job(),
		"pink-workers.json":  Workers(),
	}
}

var groupVar = queryVar("group", "Group", `label_values(pink_clients{cluster=~"$cluster"}, group)`, true)

// Overview is the cluster at a glance.
func Overview() Dashboard {
	g := `{group=~"$group"}`
	return build("pink-overview", "Pink / Overview",
		"The pink cluster at a glance: leadership, throughput, success, lag, backlog and failovers.",
		[]Variable{groupVar}, annotations(g), []panel{
			stat("Leader", "The scheduler node that leads (instance). Empty means no leader: nothing fires.", "none",
				q(`max by (instance) (pink_scheduler_leader) == 1`, "{{instance}}")),
			stat("Scheduler nodes", "Scheduler nodes reporting metrics.", "none", q(`count(pink_scheduler_leader)`, "nodes")),
			stat("Active jobs", "Jobs that fire (not paused).", "none", q(`max(pink_jobs{state="active"})`, "active")),
			stat("Paused jobs", "Jobs that are paused.", "none", q(`max(pink_jobs{state="paused"})`, "paused")),
			graph("Live workers by group", "Workers registered in each group. A group with jobs and no workers leaves its runs pending.", "short",
				q(`max by (group) (pink_clients`+g+`)`, "{{group}}")),
			graph("Fires by trigger", "Snapshots entering execution per second: cron fires, catch-ups after downtime, manual triggers, retries and failovers.", "ops",
				q(`sum by (trigger) (rate(pink_fires_total`+g+`[$__rate_interval]))`, "{{trigger}}")),
			graph("Success ratio", "Share of finished runs that succeeded over 15 minutes (recording rule pink:job_runs:rate15m); canceled runs, replaced on purpose, do not count.", "percentunit",
				q(`sum(pink:job_runs:rate15m{group=~"$group",status="succeeded"}) / sum(pink:job_runs:rate15m{group=~"$group",status=~"succeeded|failed|timed_out"})`, "succeeded")),
			graph("Runs by status", "Finished runs per second by status, averaged over 15 minutes (recording rule pink:job_runs:rate15m).", "ops",
				q(`sum by (status) (pink:job_runs:rate15m`+g+`)`, "{{status}}")),
			recordedLagGraph("Schedule lag", "Nominal fire time to snapshot written, over 5 minutes (recording rules). Seconds after a leader change; milliseconds otherwise. Exemplars: Pink / Job → Schedule lag.", "schedule_lag_seconds"),
			recordedLagGraph("Dispatch lag", "Nominal fire time to snapshot assigned to a worker, over 5 minutes (recording rules); grows while a group has no workers. Exemplars: Pink / Job → Dispatch lag.", "dispatch_lag_seconds"),
			graph("Pending snapshots", "Snapshots waiting for a worker of their group.", "short",
				q(`max by (group) (pink_snapshots_pending`+g+`)`, "{{group}}")),
			graph("In-flight snapshots", "Snapshots assigned to workers (dispatched or running).", "short",
				q(`max by (group) (pink_snapshots_inflight`+g+`)`, "{{group}}")),
			graph("Failovers", "Snapshots moved off workers that died (client_lost), shut down (client_draining) or stopped claiming (client_stalled); from the recording rule pink:failovers_total:max, which sees the moves a leader change makes.", "short",
				q(`sum by (group, reason) (increase(pink:failovers_total:max`+g+`[$__rate_interval]))`, "{{group}} {{reason}}")),
			graph("Skipped fires by reason", "Nominal fires that did not run: misfire policies after downtime, or overlap (concurrency_forbid); from the recording rule pink:fires_skipped_total:max, which sees the fires a new leader's catch-up skips.", "short",
				q(`sum by (reason) (increase(pink:fires_skipped_total:max`+g+`[$__rate_interval]))`, "{{reason}}")),
			graph("etcd request latency p99", "99th percentile latency of the etcd requests pink makes, by operation, over 5 minutes (recording rule, as PinkEtcdSlow sees it).", "s",
				q(`pink:etcd_request_duration_seconds:p99_5m`, "{{op}}")),
			graph("etcd request errors", "Failed etcd requests per second, by operation.", "ops",
				q(`sum by (op) (rate(pink_etcd_request_errors_total[$__rate_interval]))`, "{{op}}")),
			graph("etcd database", "Each etcd member's database file, the part in use (the rest are free pages a defragmentation returns) and its quota, past which etcd refuses writes (PinkEtcdSpaceLow, PinkEtcdNoSpace).", "bytes",
				q(`max by (endpoint) (pink_etcd_db_size_bytes)`, "{{endpoint}} size"),
				q(`max by (endpoint) (pink_etcd_db_size_in_use_bytes)`, "{{endpoint}} in use"),
				q(`max by (endpoint) (pink_etcd_db_quota_bytes)`, "{{endpoint}} quota")),
			graph("History kept", "Runs each job keeps in etcd under --history-limit and --history-max-bytes, and rows retention deletes per second; older runs live in the log backend.", "short",
				q(`max(pink_history_runs_per_job)`, "runs per job"),
				q(`sum(rate(pink_history_runs_deleted_total[$__rate_interval]))`, "deleted per second")),
		})
}

// Job is one job's runs, timing and health.
func Job() Dashboard {
	sel := `{group=~"$group",job_name=~"$job_name"}`
	// The pink job is $job_name: $job is the scrape job, as on every
	// dashboard of the Prometheus ecosystem.
	jobVar := queryVar("job_name", "Job", `label_values(pink_job_interval_seconds{cluster=~"$cluster",group=~"$group"}, job_name)`, false)
	jobVar.IncludeAll = false
	jobVar.AllValue = ""
	jobVar.Current = Current{}
	heat := panel{typ: "heatmap", title: "Run duration heatmap", unit: "s", w: 12, h: 8, exemplars: true,
		desc:    "Distribution of run durations over time; exemplars link to the run's trace.",
		queries: []query{{expr: `sum by (le) (increase(pink_worker_run_duration_seconds_bucket` + sel + `[$__rate_interval]))`, legend: "{{le}}", heatmap: true}}}
	pct := graph("Run duration percentiles", "Run duration (start to result) of the job over 5 minutes, across workers and statuses (recording rules). The heatmap has the exemplars that link to traces.", "s",
		q(`max(pink:job_run_duration_seconds:p50_5m`+sel+`)`, "p50"),
		q(`max(pink:job_run_duration_seconds:p90_5m`+sel+`)`, "p90"),
		q(`max(pink:job_run_duration_seconds:p99_5m`+sel+`)`, "p99"))
	return build("pink-job", "Pink / Job", "One job: its runs, durations, health against its schedule, retries and skips.",
		[]Variable{groupVar, jobVar}, annotations(sel), []panel{
			stat("Next fire", "When the job fires next (absent while paused).", "dateTimeFromNow",
				q(`max(pink_job_next_fire_timestamp_seconds`+sel+`) * 1000`, "next fire")),
			never(stat("Last success", "When the job last succeeded; never if it has not.", "dateTimeFromNow",
				q(`max(pink_job_last_success_timestamp_seconds`+sel+`) * 1000`, "last success"))),
			never(stat("Last failure", "When the job last failed, timed out or was lost; never if it has not.", "dateTimeFromNow",
				q(`max(pink_job_last_failure_timestamp_seconds`+sel+`) * 1000`, "last failure"))),
			stat("Interval", "Nominal time between fires.", "s", q(`max(pink_job_interval_seconds`+sel+`)`, "interval")),
			graph("Runs by status", "Finished runs per second by status.", "ops",
				q(`sum by (status) (rate(pink_worker_runs_total`+sel+`[$__rate_interval]))`, "{{status}}")),
			graph("Failure ratio", "Failed and timed-out runs as a share of finished runs over 15 minutes (recording rule pink:job_failure_ratio:rate15m). PinkJobFailing counts failed fires in a row instead (Consecutive failures).", "percentunit",
				q(`max(pink:job_failure_ratio:rate15m`+sel+`)`, "failed or timed out")),
			graph("Consecutive failures", "The job's newest fires that failed in a row, after their retries, and its threshold (label pink_alert_failures, default 3): PinkJobFailing fires when the first line reaches the second.", "short",
				q(`max(pink_job_consecutive_failures`+sel+`)`, "failed in a row"),
				q(`max(pink_job_alert_failures`+sel+`)`, "threshold")),
			graph("Time since last success vs. interval", "Time since the job last succeeded or, if later or it never did, was last changed: the clock PinkJobMissedSchedule reads (recording rule pink:job_last_success_or_update:timestamp_seconds). When it climbs well above the interval, the job should have run and did not.", "s",
				q(`time() - max(pink:job_last_success_or_update:timestamp_seconds`+sel+`)`, "since last success or change"),
				q(`max(pink_job_interval_seconds`+sel+`)`, "interval")),
			pct,
			heat,
			graph("Fires by trigger", "Snapshots of the job entering execution, by trigger.", "short",
				q(`sum by (trigger) (increase(pink_fires_total`+sel+`[$__rate_interval]))`, "{{trigger}}")),
			graph("Retries, timeouts and lost runs", "New attempts after failures and failovers, runs that timed out, and runs lost with their worker.", "short",
				q(`sum by (trigger) (increase(pink_fires_total{group=~"$group",job_name=~"$job_name",trigger=~"retry|failover"}[$__rate_interval]))`, "{{trigger}}"),
				q(`sum(increase(pink_worker_runs_total{group=~"$group",job_name=~"$job_name",status="timed_out"}[$__rate_interval]))`, "timed out"),
				q(`sum(increase(pink_runs_lost_total`+sel+`[$__rate_interval]))`, "lost")),
			graph("Skipped fires", "Nominal fires of the job that did not run, by reason.", "short",
				q(`sum by (reason) (increase(pink:fires_skipped_total:max`+sel+`[$__rate_interval]))`, "{{reason}}")),
			lagGraph("Schedule lag", "Nominal fire time to snapshot written, for the jobs of the job's group (lag is labeled by group, not by job), over the zoom's rate interval. Exemplars link to traces.", "pink_schedule_lag_seconds", `{group=~"$group"}`),
			lagGraph("Dispatch lag", "Nominal fire time to snapshot assigned to a worker, for the jobs of the job's group (lag is labeled by group, not by job), over the zoom's rate interval. Exemplars link to traces.", "pink_dispatch_lag_seconds", `{group=~"$group"}`),
		})
}

// Workers is the worker fleet: load, queueing, throughput and failures.
func Workers() Dashboard {
	sel := `{group=~"$group"}`
	return build("pink-workers", "Pink / Workers", "Workers by group and instance: running vs. capacity, queueing, throughput, failures.",
		[]Variable{groupVar}, annotations(sel), []panel{
			graph("Running vs. capacity", "Runs executing on each worker and its capacity.", "short",
				q(`sum by (instance) (pink_worker_running`+sel+`)`, "{{instance}} running"),
				q(`sum by (instance) (pink_worker_capacity`+sel+`)`, "{{instance}} capacity")),
			graph("Utilization", "Running runs as a share of capacity.", "percentunit",
				q(`sum by (instance) (pink_worker_running`+sel+`) / sum by (instance) (pink_worker_capacity`+sel+`)`, "{{instance}}")),
			graph("Queue wait p99", "Time from assignment to start on the worker: waiting for a free slot.", "s",
				q(`histogram_quantile(0.99, sum by (le, instance) (rate(pink_worker_queue_seconds_bucket`+sel+`[$__rate_interval])))`, "{{instance}}")),
			graph("Runs per second", "Runs finished per second by worker.", "ops",
				q(`sum by (instance) (rate(pink_worker_runs_total`+sel+`[$__rate_interval]))`, "{{instance}}")),
			graph("Failures per second", "Runs that failed, timed out or were canceled, by worker and status.", "ops",
				q(`sum by (instance, status) (rate(pink_worker_runs_total{group=~"$group",status!="succeeded"}[$__rate_interval]))`, "{{instance}} {{status}}")),
			graph("Refused results", "Results a worker reported after its run had been moved or canceled (fenced zombies); expect these only around failures.", "short",
				q(`sum by (instance) (increase(pink_worker_results_refused_total`+sel+`[$__rate_interval]))`, "{{instance}}")),
			graph("Live workers by group", "Workers registered in each group, as the leader sees them.", "short",
				q(`max by (group) (pink_clients{group=~"$group"})`, "{{group}}")),
			graph("Pending snapshots", "Snapshots waiting for a worker of the group.", "short",
				q(`max by (group) (pink_snapshots_pending{group=~"$group"})`, "{{group}}")),
			graph("Clock offset vs. leader", "Each worker's clock minus the leader's (positive: ahead, it starts runs early; negative: late), with its error bound, and plus or minus half the lookahead, beyond which PinkWorkerClockSkew fires.", "s",
				q(`max by (instance) (pink_worker_clock_offset_seconds)`, "{{instance}}"),
				q(`max by (instance) (pink_worker_clock_offset_error_seconds)`, "{{instance}} error bound"),
				q(`max(pink_scheduler_lookahead_seconds) / 2`, "lookahead / 2"),
				q(`-max(pink_scheduler_lookahead_seconds) / 2`, "-lookahead / 2")),
		})
}
