package alertrules

var etcdAlerts = []rule{
	{
		alert:       "PinkEtcdSlow",
		expr:        `max by ($cluster, op) (pink:etcd_request_duration_seconds:p99_5m) > 0.5`,
		forDur:      "10m",
		severity:    "warning",
		summary:     "pink's etcd requests are slow",
		description: `The 99th percentile of pink's etcd {{ $labels.op }} requests` + inCluster + ` is {{ $value | humanizeDuration }} for 10 minutes.`,
		console:     "schedulers",
	},
	{
		alert:       "PinkEtcdErrors",
		expr:        `pink:etcd_request_error_ratio:rate5m > 0.01`,
		forDur:      "10m",
		severity:    "warning",
		summary:     "pink's etcd requests fail",
		description: `{{ $value | humanizePercentage }} of pink's etcd requests` + inCluster + ` failed over the last 5 minutes, for 10 minutes.`,
		console:     "schedulers",
	},
	{
		comment: `Per node: the leader is one node, and its instance says whose log to
read. A node that still believes it leads after losing its session
(PinkMultipleLeaders) reports stalled too while another node of its
cluster leads and writes: then fires are written, and this alert stays
silent.`,
		alert: "PinkEtcdStalled",
		expr: `
pink_scheduler_leader_stalled == 1
  unless on ($cluster)
(pink_scheduler_leader == 1 unless pink_scheduler_leader_stalled == 1)`,
		forDur:      "30s",
		severity:    "critical",
		summary:     "The pink leader cannot reach etcd's quorum",
		description: `The leader {{ $labels.instance }}` + inCluster + ` has not reached etcd's quorum for 30 seconds: no job fires until it can. Missed fires are caught up by each job's misfire policy once it does.`,
		console:     "schedulers",
	},
	{
		comment: `Per etcd endpoint: every pink process given two or more endpoints
probes each of them, so max by endpoint is 0 only when none of them
reaches it (one process's own network trouble does not count).`,
		alert:       "PinkEtcdEndpointDown",
		expr:        `max by ($cluster, endpoint) (pink_etcd_endpoint_healthy) == 0`,
		forDur:      "5m",
		severity:    "warning",
		summary:     "An etcd member answers no pink process",
		description: `No pink process` + inCluster + ` has had a linearizable read answered by etcd at {{ $labels.endpoint }} for 5 minutes. pink sends its requests to the other members, but etcd runs with less redundancy: fewer members can fail before it loses its quorum.`,
		console:     "schedulers",
	},
	{
		comment: `etcd's database against its quota, per endpoint: every scheduler node
reports every endpoint it uses (from etcd's status API), so max by
endpoint counts each once.`,
		alert:       "PinkEtcdSpaceLow",
		expr:        `max by ($cluster, endpoint) (pink_etcd_db_size_bytes / pink_etcd_db_quota_bytes) > 0.8`,
		forDur:      "10m",
		severity:    "warning",
		summary:     "etcd's database is near its quota",
		description: `etcd at {{ $labels.endpoint }}` + inCluster + ` uses {{ $value | humanizePercentage }} of its quota for 10 minutes; at 100 % it raises NOSPACE and pink stops firing.`,
		console:     "schedulers",
	},
	{
		comment:     `No for: every write fails from the first moment.`,
		alert:       "PinkEtcdNoSpace",
		expr:        `max by ($cluster) (pink_etcd_alarm{alarm="NOSPACE"}) > 0`,
		severity:    "critical",
		summary:     "etcd is out of space and refuses every write",
		description: `etcd's NOSPACE alarm is raised` + inCluster + `: no job fires, no result is recorded and no change can be made until space is freed and the alarm disarmed.`,
		console:     "schedulers",
	},
}
