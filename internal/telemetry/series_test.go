package telemetry_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestSeriesExistBeforeTheirEvents: an etcd operation's error counter
// exists at 0 from its first request (a rate() of it reads 0 on a healthy
// cluster, not "no data"), the build names its cluster, and the lag
// histograms are per group.
func TestSeriesExistBeforeTheirEvents(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := telemetry.NewEtcd(reg)
	e.Observe("fire_batch", time.Millisecond, nil)
	errs := func(op string) (float64, int) {
		labels := map[string]string{"op": op}
		return pinktest.Metric(t, reg, "pink_etcd_request_errors_total", labels), pinktest.Series(t, reg, "pink_etcd_request_errors_total", labels)
	}
	if v, n := errs("fire_batch"); v != 0 || n != 1 {
		t.Errorf("errors of fire_batch after a success: %v in %d series, want 0 in 1", v, n)
	}
	e.Observe("fire_batch", time.Millisecond, errors.New("etcdserver: request timed out"))
	if v, n := errs("fire_batch"); v != 1 || n != 1 {
		t.Errorf("errors of fire_batch after a failure: %v in %d series, want 1 in 1", v, n)
	}
	if _, n := errs("claim"); n != 0 {
		t.Errorf("an operation never made has %d error series", n)
	}

	telemetry.RegisterBuildInfo(reg, "v1.2.3", "abc", "go1.26", "eu-1")
	if v := pinktest.Metric(t, reg, "pink_build_info", map[string]string{"version": "v1.2.3", "cluster": "eu-1"}); v != 1 {
		t.Errorf("pink_build_info{cluster=eu-1} = %v, want 1", v)
	}
	other := prometheus.NewRegistry()
	telemetry.RegisterBuildInfo(other, "v1.2.3", "abc", "go1.26", "")
	if n := pinktest.Series(t, other, "pink_build_info", map[string]string{"cluster": ""}); n != 1 {
		t.Errorf("without --cluster-name: %d series", n)
	}

	m := telemetry.NewScheduler(reg, telemetry.Options{})
	now := time.Now()
	m.Fired("batch", "cron", now, now.Add(30*time.Millisecond), true, "")
	m.Fired("batch", "cron", now, now.Add(-2*time.Second), false, "")
	m.Dispatched("etl", "catchup", now, now.Add(time.Second), "")
	for _, c := range []struct {
		name, group string
		want        float64
	}{
		{"pink_schedule_lag_seconds", "batch", 2},
		{"pink_schedule_lead_seconds", "batch", 1},
		{"pink_dispatch_lag_seconds", "batch", 1},
		{"pink_dispatch_lag_seconds", "etl", 1},
		{"pink_schedule_lag_seconds", "etl", 0},
	} {
		if got := pinktest.Metric(t, reg, c.name, map[string]string{"group": c.group}); got != c.want {
			t.Errorf("%s{group=%s}: %v observations, want %v", c.name, c.group, got, c.want)
		}
	}
	m.DeleteGroup("batch")
	if n := pinktest.Series(t, reg, "pink_schedule_lag_seconds", map[string]string{"group": "batch"}); n != 0 {
		t.Errorf("a deleted group keeps %d lag series", n)
	}
}

// TestCountersWaitForTheirValues: a new leader exports no leader-only
// counter until it has read them all from etcd (CountsLoaded), so that no
// scrape sees a job's 0 before its stored value (which Prometheus would
// read as a reset, and the whole value as an increase); a follower (after
// Reset) exports none again.
func TestCountersWaitForTheirValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := telemetry.NewScheduler(reg, telemetry.Options{})
	m.AddJob("sync", "g")
	m.AddGroup("g")
	count := func() int {
		n := 0
		for _, name := range []string{"pink_fires_total", "pink_fires_skipped_total", "pink_runs_lost_total", "pink_failovers_total"} {
			n += pinktest.Series(t, reg, name, nil)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Errorf("%d counter series before the counts are loaded", n)
	}
	m.SetJobCounts("sync", "g", map[string]int64{"cron": 7}, map[string]int64{"misfire_skip": 2}, 1)
	m.CountsLoaded()
	if got := pinktest.Metric(t, reg, "pink_fires_skipped_total", map[string]string{"job_name": "sync", "reason": "misfire_skip"}); got != 2 || count() == 0 {
		t.Errorf("after loading: skipped %v, %d series", got, count())
	}
	m.Reset()
	if n := count(); n != 0 {
		t.Errorf("%d counter series after Reset", n)
	}
}
