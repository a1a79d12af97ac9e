package worker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

func createIn(t *testing.T, c *pinktest.Cluster, name, group string) job.Spec {
	t.Helper()
	return c.CreateJob(t, job.Spec{Name: name, Group: group, Schedule: "@hourly", Target: "ok", Paused: true})
}

var ok = map[string]worker.Handler{"ok": func(context.Context, worker.Run) (string, error) { return "", nil }}

// TestWorkerJobSeries: a worker's per-job run counters exist at 0 for every
// job of its group and every final status, and disappear when the job is deleted
// or moves to another group; without the job label there are none per job.
func TestWorkerJobSeries(t *testing.T) {
	c := pinktest.NewCluster(t)
	st := store.New(c.Etcd.Client, "")
	ctx := context.Background()
	createIn(t, c, "a", "g")
	moving := createIn(t, c, "moving", "g")
	createIn(t, c, "elsewhere", "other")
	reg, regNoJob := telemetry.NewRegistry(), telemetry.NewRegistry()
	c.StartWorker(t, "g", ok, func(cfg *worker.Config) { cfg.Registerer = reg })
	c.StartWorker(t, "g", ok, func(cfg *worker.Config) { cfg.Registerer, cfg.NoJobLabel = regNoJob, true })

	series := func(r *telemetry.Registry) map[string]int {
		out := map[string]int{}
		for _, j := range []string{"a", "moving", "elsewhere", "late", ""} {
			for _, name := range []string{"pink_worker_runs_total", "pink_worker_run_duration_seconds"} {
				if n := pinktest.Series(t, r.Prometheus(), name, map[string]string{"job_name": j}); n > 0 {
					out[name+" "+j] = n
				}
			}
		}
		return out
	}
	await := func(r *telemetry.Registry, want map[string]int) {
		t.Helper()
		pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
			got := series(r)
			return maps.Equal(got, want), fmt.Sprintf("series %v, want %v", got, want)
		})
	}
	n := len(telemetry.RunStatuses)
	// Counters per job and status at 0; the duration histograms come with
	// the first run.
	await(reg, map[string]int{"pink_worker_runs_total a": n, "pink_worker_runs_total moving": n})
	if v := pinktest.Metric(t, reg.Prometheus(), "pink_worker_runs_total", nil); v != 0 {
		t.Errorf("runs before any run: %v", v)
	}
	createIn(t, c, "late", "g")
	await(reg, map[string]int{"pink_worker_runs_total a": n, "pink_worker_runs_total moving": n, "pink_worker_runs_total late": n})

	if err := st.DeleteJob(ctx, "a", time.Now()); err != nil {
		t.Fatal(err)
	}
	moving.Group = "other"
	if _, err := st.UpdateJob(ctx, moving, "g", moving.Revision, time.Time{}); err != nil {
		t.Fatal(err)
	}
	await(reg, map[string]int{"pink_worker_runs_total late": n})
	await(regNoJob, map[string]int{"pink_worker_runs_total ": n, "pink_worker_run_duration_seconds ": n})
}

// logLines parses JSON log lines.
func logLines(t *testing.T, b *pinktest.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestRetrySpanAndSnapshotLogs: a failed attempt's retry starts a new
// trace whose pink.retry span links to the failed pink.execute and carries
// the snapshot's attribute set; every log line about a snapshot, of the
// scheduler and the worker, carries snapshot_id, job and trace_id.
func TestRetrySpanAndSnapshotLogs(t *testing.T) {
	c := pinktest.NewCluster(t)
	st := store.New(c.Etcd.Client, "")
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var logs pinktest.Buffer
	logger, err := telemetry.NewLogger(&logs, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	spec := createIn(t, c, "flaky", "g")
	spec.Retries, spec.RetryBackoff, spec.Paused = 1, job.Duration(10*time.Millisecond), true
	spec, err = st.UpdateJob(context.Background(), spec, "g", spec.Revision, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) { o.TracerProvider, o.Logger = tp, logger })
	var calls sync.Map
	c.StartWorker(t, "g", map[string]worker.Handler{"ok": func(_ context.Context, r worker.Run) (string, error) {
		calls.Store(r.Attempt, true)
		if r.Attempt == 1 {
			return "", errors.New("first attempt fails")
		}
		return "", nil
	}}, func(cfg *worker.Config) { cfg.TracerProvider, cfg.Logger = tp, logger })

	now := time.Now()
	snap := snapshot.ForJob(&spec, snapshot.ManualID(spec.Name, now), snapshot.TriggerManual, now, now)
	if err := st.CreatePending(context.Background(), []snapshot.Snapshot{snap}, nil, false); err != nil {
		t.Fatal(err)
	}
	var runs []snapshot.Run
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		page, err := st.ListRuns(context.Background(), "flaky", "", 10, "")
		runs = page.Runs
		return err == nil && len(runs) == 2, fmt.Sprintf("%d runs", len(runs))
	})
	var first, second snapshot.Run
	for _, r := range runs {
		if r.Attempt == 1 {
			first = r
		} else {
			second = r
		}
	}
	if first.Status != snapshot.StatusFailed || second.Status != snapshot.StatusSucceeded || second.Trigger != snapshot.TriggerRetry {
		t.Fatalf("runs: %s, then %s %s", first.Status, second.Trigger, second.Status)
	}

	// Spans: attempt 1's trace starts at the manual trigger's pink.fire;
	// pink.retry starts attempt 2's trace and links to attempt 1's execute.
	var fire, execute1, retry sdktrace.ReadOnlySpan
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		fire, execute1, retry = nil, nil, nil
		for _, sp := range rec.Ended() {
			attrs := map[string]string{}
			for _, kv := range sp.Attributes() {
				attrs[string(kv.Key)] = kv.Value.Emit()
			}
			switch {
			case sp.Name() == telemetry.SpanFire && sp.SpanContext().TraceID().String() == first.TraceID:
				fire = sp
			case sp.Name() == telemetry.SpanExecute && attrs["pink.attempt"] == "1":
				execute1 = sp
			case sp.Name() == telemetry.SpanRetry:
				retry = sp
			}
		}
		return fire != nil && execute1 != nil && retry != nil, "fire, execute or retry span missing"
	})
	if fire.Parent().IsValid() {
		t.Errorf("the manual trigger's pink.fire has a parent")
	}
	want := map[string]string{"pink.job": "flaky", "pink.group": "g", "pink.snapshot_id": snap.ID, "pink.attempt": "2",
		"pink.trigger": "retry", "pink.scheduled_at": snap.ScheduledAt.Format(time.RFC3339), "pink.target": "ok"}
	got := map[string]string{}
	for _, kv := range retry.Attributes() {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	if !maps.Equal(got, want) {
		t.Errorf("pink.retry attributes %v, want %v", got, want)
	}
	if l := retry.Links(); len(l) != 1 || l[0].SpanContext.SpanID() != execute1.SpanContext().SpanID() {
		t.Errorf("pink.retry links %v, want attempt 1's pink.execute %s", l, execute1.SpanContext().SpanID())
	}
	if retry.SpanContext().TraceID().String() != second.TraceID || retry.Parent().IsValid() {
		t.Errorf("pink.retry trace %s (parent %v), want the root of attempt 2's trace %s", retry.SpanContext().TraceID(), retry.Parent(), second.TraceID)
	}
	// The leader hands a run to its worker as a producer hands a message
	// to a consumer: pink.dispatch is PRODUCER, pink.execute its CONSUMER
	// child.
	var dispatch1 sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.Name() == telemetry.SpanDispatch && sp.SpanContext().TraceID().String() == first.TraceID {
			dispatch1 = sp
		}
	}
	switch {
	case dispatch1 == nil:
		t.Errorf("no pink.dispatch in attempt 1's trace")
	case dispatch1.SpanKind() != trace.SpanKindProducer || execute1.SpanKind() != trace.SpanKindConsumer:
		t.Errorf("span kinds: pink.dispatch %v, pink.execute %v; want producer and consumer", dispatch1.SpanKind(), execute1.SpanKind())
	case execute1.Parent().SpanID() != dispatch1.SpanContext().SpanID():
		t.Errorf("pink.execute's parent %s, want pink.dispatch %s", execute1.Parent().SpanID(), dispatch1.SpanContext().SpanID())
	}

	// Logs about a snapshot carry its id, its job and its trace.
	n := 0
	for _, l := range logLines(t, &logs) {
		if l["snapshot_id"] == nil {
			continue
		}
		n++
		if l["job_name"] != "flaky" || l["trace_id"] == nil || l["span_id"] == nil {
			t.Errorf("log line about a snapshot without job or trace: %v", l)
		}
	}
	if n < 2 {
		t.Errorf("%d log lines about a snapshot, want the scheduler's and the worker's", n)
	}
}
