package worker_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// TestDefaultsAreTheProcesss: a worker given no Logger logs through
// slog.Default() and one given no Registerer exports its metrics on
// prometheus.DefaultRegisterer (what promhttp.Handler serves), so an SDK
// worker embedded in a program shows in its logs and in pink's alerts.
func TestDefaultsAreTheProcesss(t *testing.T) {
	var logs pinktest.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	c := pinktest.NewCluster(t)
	c.StartScheduler(t, "n1")
	spec := c.CreateJob(t, job.Spec{Name: "embedded", Group: "sdk-defaults", Schedule: "@hourly", Target: "ok", Paused: true})
	w := c.StartWorker(t, "sdk-defaults", map[string]worker.Handler{"ok": func(context.Context, worker.Run) (string, error) { return "", nil }},
		func(cfg *worker.Config) { cfg.Logger, cfg.Registerer = nil, nil })
	c.Trigger(t, spec)
	pinktest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := pinktest.Metric(t, prometheus.DefaultGatherer, "pink_worker_runs_total",
			map[string]string{"group": "sdk-defaults", "job_name": "embedded", "status": "succeeded"})
		return got == 1, "pink_worker_runs_total on the default registry: " + strings.TrimSpace(logs.String())
	})
	if got := pinktest.Metric(t, prometheus.DefaultGatherer, "pink_worker_capacity", map[string]string{"group": "sdk-defaults"}); got != float64(worker.DefaultCapacity) {
		t.Errorf("pink_worker_capacity on the default registry = %v, want %d", got, worker.DefaultCapacity)
	}
	w.Stop()
	if out := logs.String(); !strings.Contains(out, "group=sdk-defaults") || !strings.Contains(out, "job_name=embedded") {
		t.Errorf("slog.Default() got no line of the worker's run:\n%s", out)
	}
}
