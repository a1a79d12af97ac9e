package e2e

import (
	"encoding/json"
	"testing"
)

// benchFields are the keys every pink bench JSON report has, and the kind
// of value each holds.
var benchFields = map[string]string{
	"runs": "number", "jobs": "number", "idle_jobs": "number", "schedulers": "number", "workers": "number", "schedule": "string", "window_seconds": "number",
	"runs_per_second": "number", "fires_expected": "number", "fires_ran": "number", "missed": "number",
	"duplicates": "number", "retried": "number", "schedule_lag_p50": "number", "schedule_lag_p99": "number",
	"schedule_lag_max": "number", "dispatch_lag_p99": "number", "start_lag_p50": "number", "start_lag_p99": "number",
	"etcd_writes_per_run": "number", "etcd_txn_per_second": "number", "etcd_baseline_txn_per_second": "number",
	"etcd_limit_ratio": "number", "etcd_keys_per_run": "number", "etcd_baseline_keys_per_second": "number",
	"etcd_keys_limit_ratio": "number", "scheduler_cpu_cores": "number", "scheduler_rss_bytes": "number",
	"leader_ready_seconds": "number", "leader_failover_seconds": "list", "leader_resign_seconds": "list",
	"worker_failover_seconds": "list",
}

// TestBench runs pink bench briefly, as a reader would, and checks only
// what must hold on any machine: every fire of the window ran exactly once,
// through a leader kill too, and the report has every field. Its timings
// are measurements, not assertions (docs/benchmarks.md).
func TestBench(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"steady", nil},
		{"leader_killed", []string{"--schedulers", "2", "--session-ttl", "1s", "--kill-leader-every", "2s", "--duration", "4s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"bench", "--jobs", "20", "--warmup", "1s", "--duration", "3s",
				"--baseline-duration", "300ms", "--json"}, c.args...)
			code, out, errOut := pinkCLI(t, nil, args...)
			if code != 0 {
				t.Fatalf("pink bench exited %d:\n%s", code, errOut)
			}
			var r map[string]any
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("report is not JSON: %v\n%s", err, out)
			}
			for key, kind := range benchFields {
				v, ok := r[key]
				if !ok {
					t.Errorf("report lacks %q", key)
					continue
				}
				got := "other"
				switch v.(type) {
				case float64:
					got = "number"
				case string:
					got = "string"
				case []any:
					got = "list"
				}
				if got != kind {
					t.Errorf("%s = %v: a %s, want a %s", key, v, got, kind)
				}
			}
			if len(r) != len(benchFields) {
				t.Errorf("report has %d fields, the test knows %d: add the new ones here", len(r), len(benchFields))
			}
			expected, ran := r["fires_expected"].(float64), r["fires_ran"].(float64)
			if expected < 20*3 || ran != expected || r["missed"] != 0.0 || r["duplicates"] != 0.0 {
				t.Errorf("fires expected %v, ran %v, missed %v, duplicates %v: want every fire run exactly once",
					expected, ran, r["missed"], r["duplicates"])
			}
			if c.name == "leader_killed" {
				if kills, _ := r["leader_failover_seconds"].([]any); len(kills) == 0 {
					t.Errorf("no leader failover measured: %v", r["leader_failover_seconds"])
				}
			}
		})
	}
}
