package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
)

// benchFields are the keys every pink bench JSON report has, and the kind
// of value each holds.
var benchFields = map[string]string{
	"runs": "number", "jobs": "number", "idle_jobs": "number", "schedulers": "number", "workers": "number", "schedule": "string",
	"schedule_mix": "list", "windows": "list", "window_seconds": "number",
	"runs_per_second": "number", "fires_expected": "number", "fires_ran": "number", "missed": "number",
	"duplicates": "number", "retried": "number", "schedule_lag_p50": "number", "schedule_lag_p99": "number",
	"schedule_lag_max": "number", "dispatch_lag_p99": "number", "start_lag_p50": "number", "start_lag_p99": "number",
	"etcd_writes_per_run": "number", "etcd_txn_per_second": "number", "etcd_baseline_txn_per_second": "number",
	"etcd_baseline_concurrency": "number", "etcd_baseline_value_bytes": "number",
	"etcd_limit_ratio": "number", "etcd_keys_per_run": "number", "etcd_baseline_keys_per_second": "number",
	"etcd_keys_limit_ratio": "number", "scheduler_cpu_cores": "number", "scheduler_rss_bytes": "number",
	"scheduler_peak_rss_bytes": "number", "leader_ready_seconds": "number", "leader_failover_seconds": "list",
	"leader_resign_seconds": "list", "worker_failover_seconds": "list", "spread": "object",
	"etcd_space": "list", "etcd_db_max_bytes": "number", "etcd_in_use_max_bytes": "number",
	"etcd_dir_max_bytes": "number", "etcd_nospace": "bool",
}

// benchTimeout bounds one pink bench run of this test: a leader kill on a
// loaded machine takes far longer than a CLI call.
const benchTimeout = 3 * time.Minute

// runBench runs pink bench with args and returns its exit code and output.
func runBench(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runPink(t, benchTimeout, nil, append([]string{"bench"}, args...)...)
}

// benchShare is one entry of a mix the test gives: jobs on schedule.
type benchShare struct {
	weight, jobs int
	schedule     string
}

// TestBench runs pink bench briefly, as a reader would, and checks only
// what must hold on any machine: every fire of the window ran exactly once,
// through a leader kill and with a schedule mix too, and the report has
// every field. Its timings are measurements, not assertions
// (docs/benchmarks.md).
func TestBench(t *testing.T) {
	everySecond := []benchShare{{1, 20, "* * * * * *"}}
	for _, c := range []struct {
		name    string
		args    []string
		mix     []benchShare
		profile bool
	}{
		{"steady", nil, everySecond, true},
		{"leader_killed", []string{"--schedulers", "2", "--session-ttl", "1s", "--kill-leader-every", "2s", "--duration", "4s"}, everySecond, false},
		{"schedule_mix", []string{"--schedule", "3:* * * * * *", "--schedule", "1:*/2 * * * * *", "--duration", "4s"},
			[]benchShare{{3, 15, "* * * * * *"}, {1, 5, "*/2 * * * * *"}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--jobs", "20", "--warmup", "1s", "--duration", "3s",
				"--baseline-duration", "300ms", "--json"}, c.args...)
			profile := filepath.Join(t.TempDir(), "heap.prof")
			if c.profile {
				args = append(args, "--mem-profile", profile)
			}
			code, out, errOut := runBench(t, args...)
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
				case map[string]any:
					got = "object"
				case bool:
					got = "bool"
				}
				if got != kind {
					t.Errorf("%s = %v: a %s, want a %s", key, v, got, kind)
				}
			}
			num := func(k string) float64 { f, _ := r[k].(float64); return f }
			samples, _ := r["etcd_space"].([]any)
			if r["etcd_nospace"] != false || num("etcd_db_max_bytes") <= 0 || num("etcd_db_max_bytes") < num("etcd_in_use_max_bytes") || len(samples) == 0 {
				t.Errorf("etcd space: nospace %v, db max %v, in use max %v, %d samples", r["etcd_nospace"], num("etcd_db_max_bytes"), num("etcd_in_use_max_bytes"), len(samples))
			}
			if len(r) != len(benchFields) {
				t.Errorf("report has %d fields, the test knows %d: add the new ones here", len(r), len(benchFields))
			}

			want := expectedBenchFires(t, r, c.mix)
			expected, ran := r["fires_expected"].(float64), r["fires_ran"].(float64)
			if expected != float64(want) || ran != expected || r["missed"] != 0.0 || r["duplicates"] != 0.0 {
				t.Errorf("fires expected %v (the schedules give %d), ran %v, missed %v, duplicates %v: want every fire run exactly once",
					expected, want, ran, r["missed"], r["duplicates"])
			}
			if want < 20*3 {
				t.Errorf("the schedules give %d fires in the window; want at least 60", want)
			}

			// The etcd baseline has pink's shape: the leader's 8 fire
			// batches and 2 claims and 2 results per worker in flight, and
			// values of a snapshot's encoded size.
			if r["etcd_baseline_concurrency"] != 16.0 {
				t.Errorf("etcd_baseline_concurrency = %v; want 8 + 2 workers × 4 = 16", r["etcd_baseline_concurrency"])
			}
			if v, _ := r["etcd_baseline_value_bytes"].(float64); v < 300 || v > 1000 {
				t.Errorf("etcd_baseline_value_bytes = %v; want a snapshot's size (a few hundred bytes)", v)
			}
			rss, peak := r["scheduler_rss_bytes"].(float64), r["scheduler_peak_rss_bytes"].(float64)
			if rss <= 0 || peak < rss {
				t.Errorf("scheduler RSS %v, peak %v: want a peak at least the RSS at the end", rss, peak)
			}
			// A single run's spread is its own figure, at both ends.
			spread, _ := r["spread"].(map[string]any)
			if p99, _ := spread["start_lag_p99"].([]any); len(p99) != 2 || p99[0] != r["start_lag_p99"] || p99[1] != r["start_lag_p99"] {
				t.Errorf("spread of start_lag_p99 = %v; want [%v, %v]", spread["start_lag_p99"], r["start_lag_p99"], r["start_lag_p99"])
			}
			if c.name == "leader_killed" {
				if kills, _ := r["leader_failover_seconds"].([]any); len(kills) == 0 {
					t.Errorf("no leader failover measured: %v", r["leader_failover_seconds"])
				}
			}
			if c.profile {
				b, err := os.ReadFile(profile + ".bench-s0")
				if err != nil {
					t.Fatalf("no heap profile of the scheduler: %v", err)
				}
				if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
					t.Errorf("the heap profile (%d bytes) is not a gzipped pprof profile", len(b))
				}
			}
		})
	}
}

// expectedBenchFires checks the report's schedule mix against mix and
// returns the fires its schedules have in the report's windows: per job, its
// own schedule's nominal times in [start, end).
func expectedBenchFires(t *testing.T, r map[string]any, mix []benchShare) int {
	t.Helper()
	shares, _ := r["schedule_mix"].([]any)
	if len(shares) != len(mix) {
		t.Fatalf("schedule_mix = %v; want %d entries", r["schedule_mix"], len(mix))
	}
	for i, s := range shares {
		m, _ := s.(map[string]any)
		if m["schedule"] != mix[i].schedule || m["weight"] != float64(mix[i].weight) || m["jobs"] != float64(mix[i].jobs) {
			t.Errorf("schedule_mix[%d] = %v; want %d jobs at weight %d on %q", i, s, mix[i].jobs, mix[i].weight, mix[i].schedule)
		}
	}
	windows, _ := r["windows"].([]any)
	if len(windows) != 1 {
		t.Fatalf("windows = %v; want one", r["windows"])
	}
	total := 0
	for _, w := range windows {
		m, _ := w.(map[string]any)
		start, err1 := time.Parse(time.RFC3339Nano, m["start"].(string))
		end, err2 := time.Parse(time.RFC3339Nano, m["end"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("window %v: %v %v", w, err1, err2)
		}
		for _, s := range mix {
			sched, err := job.ParseSchedule(s.schedule, "UTC")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for at := sched.Next(start.Add(-time.Nanosecond)); at.Before(end); at = sched.Next(at) {
				n++
			}
			total += n * s.jobs
		}
	}
	return total
}
