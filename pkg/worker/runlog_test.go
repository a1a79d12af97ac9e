package worker_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// logSink is an OpenTelemetry log exporter that keeps what it is given.
type logSink struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (s *logSink) Export(_ context.Context, rs []sdklog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		s.records = append(s.records, r.Clone())
	}
	return nil
}

func (s *logSink) Shutdown(context.Context) error   { return nil }
func (s *logSink) ForceFlush(context.Context) error { return nil }

// byRun returns the records by their pink.run.id, with their attributes,
// and how many there are in all.
func (s *logSink) byRun() (map[string]sdklog.Record, map[string]map[string]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, attrs := map[string]sdklog.Record{}, map[string]map[string]string{}
	for _, r := range s.records {
		a := map[string]string{}
		r.WalkAttributes(func(kv attribute.KeyValue) bool { a[string(kv.Key)] = kv.Value.Emit(); return true })
		recs[a[string(telemetry.LogAttrRunID)]], attrs[a[string(telemetry.LogAttrRunID)]] = r, a
	}
	return recs, attrs, len(s.records)
}

func newSink(t *testing.T) (*logSink, *sdklog.LoggerProvider) {
	sink := &logSink{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(sink)))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return sink, lp
}

type codedErr struct{ error }

func (codedErr) ErrorCode() string { return "quota_exceeded" }

// TestRunLogRecords: every run a worker writes to history reaches the
// LoggerProvider it is given, once, as the pink.run record of that row,
// with the trace and span ids of the run's pink.execute span; a worker
// given no provider uses the global one.
func TestRunLogRecords(t *testing.T) {
	c := pinktest.NewCluster(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	sink, lp := newSink(t)
	c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) { o.TracerProvider = tp })
	handlers := map[string]worker.Handler{
		"ok": func(context.Context, worker.Run) (string, error) { return "fine", nil },
		"quota": func(_ context.Context, r worker.Run) (string, error) {
			return "used 11/10", codedErr{fmt.Errorf("attempt %d: quota exceeded", r.Attempt)}
		},
	}
	c.StartWorker(t, "g", handlers, func(cfg *worker.Config) { cfg.TracerProvider, cfg.LoggerProvider = tp, lp })
	good := trigger(t, c, job.Spec{Name: "good", Target: "ok"})
	bad := trigger(t, c, job.Spec{Name: "bad", Target: "quota", Retries: 1, RetryBackoff: job.Duration(10 * time.Millisecond)})
	runs := append(pinktest.RequireRuns(t, c, good.Job, 1, snapshot.StatusSucceeded),
		pinktest.RequireRuns(t, c, bad.Job, 2, snapshot.StatusFailed)...)

	var recs map[string]sdklog.Record
	var attrs map[string]map[string]string
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		var n int
		recs, attrs, n = sink.byRun()
		return n == len(runs) && len(recs) == len(runs), fmt.Sprintf("%d records of %d runs, want one each", n, len(runs))
	})
	executes := map[string]sdktrace.ReadOnlySpan{} // run id -> its pink.execute
	for _, sp := range rec.Ended() {
		a := map[string]string{}
		for _, kv := range sp.Attributes() {
			a[string(kv.Key)] = kv.Value.Emit()
		}
		if sp.Name() == telemetry.SpanExecute {
			n, _ := strconv.Atoi(a["pink.attempt"])
			executes[snapshot.RunID(a["pink.snapshot_id"], n)] = sp
		}
	}
	for _, run := range runs {
		r, a := recs[run.ID], attrs[run.ID]
		want := map[string]string{"pink.job": run.Job, "pink.group": "g", "pink.snapshot_id": run.SnapshotID, "pink.run.id": run.ID,
			"pink.run.status": string(run.Status), "pink.run.attempt": strconv.Itoa(run.Attempt), "pink.run.trigger": string(run.Trigger),
			"pink.run.target": run.Target, "pink.run.client": run.Client, "pink.run.output": run.Output,
			"pink.run.scheduled_at": run.ScheduledAt.UTC().Format(time.RFC3339Nano), "pink.run.started_at": run.StartedAt.UTC().Format(time.RFC3339Nano),
			"pink.run.dispatched_at":    run.DispatchedAt.UTC().Format(time.RFC3339Nano),
			"pink.run.duration_seconds": strconv.FormatFloat(run.DurationSeconds, 'g', -1, 64)}
		if run.Status == snapshot.StatusFailed {
			want["pink.run.error"], want["pink.run.error_code"] = run.Error, "quota_exceeded"
		}
		if fmt.Sprint(a) != fmt.Sprint(want) {
			t.Errorf("run %s: attributes\n%v\nwant\n%v", run.ID, a, want)
		}
		if sev := telemetry.RunSeverity(run.Status); r.Severity() != sev || !r.Timestamp().Equal(run.FinishedAt) || r.EventName() != telemetry.EventRun {
			t.Errorf("run %s: severity %s time %s event %q, want %s %s", run.ID, r.Severity(), r.Timestamp(), r.EventName(), sev, run.FinishedAt)
		}
		sp := executes[run.ID]
		if sp == nil || r.TraceID() != sp.SpanContext().TraceID() || r.SpanID() != sp.SpanContext().SpanID() || r.TraceID().String() != run.TraceID {
			t.Errorf("run %s: record trace %s span %s, want its pink.execute's (%v) and the run's trace %s", run.ID, r.TraceID(), r.SpanID(), sp, run.TraceID)
		}
	}

	// No provider given: the global one gets the records.
	global, glp := newSink(t)
	otel.SetLoggerProvider(glp)
	c.StartWorker(t, "other", handlers)
	spec := c.CreateJob(t, job.Spec{Name: "elsewhere", Group: "other", Schedule: "@hourly", Target: "ok", Paused: true})
	c.Trigger(t, spec)
	pinktest.RequireRuns(t, c, spec.Name, 1, snapshot.StatusSucceeded)
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		_, a, n := global.byRun()
		return n == 1 && len(a) == 1, fmt.Sprintf("%d records on the global provider", n)
	})
	if _, _, n := sink.byRun(); n != len(runs) {
		t.Errorf("the first worker's provider got %d records, want %d", n, len(runs))
	}
}
