package telemetry

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var (
	t0       = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	observed = t0.Add(time.Hour)
)

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

// runCases are history rows of every kind a writer records: the worker's
// results, the leader's lost, canceled and summary rows, and the API's
// cancels.
func runCases() []struct {
	name string
	run  snapshot.Run
} {
	fire := snapshot.CronID("hello", t0)
	base := snapshot.Run{ID: snapshot.RunID(fire, 1), SnapshotID: fire, Job: "hello", Group: "default",
		Client: "host-1-ab12", Target: "http", Attempt: 1, ShardTotal: 1, Trigger: snapshot.TriggerCron, ScheduledAt: t0,
		DispatchedAt: at(5 * time.Millisecond), StartedAt: at(10 * time.Millisecond), FinishedAt: t0.Add(1510 * time.Millisecond),
		DurationSeconds: 1.5, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
	with := func(f func(r *snapshot.Run)) snapshot.Run { r := base; f(&r); return r }
	long := strings.Repeat("é", snapshot.MaxOutputBytes/2+100) + "\nthe end"
	return []struct {
		name string
		run  snapshot.Run
	}{
		{"succeeded", with(func(r *snapshot.Run) { r.Status, r.Output = snapshot.StatusSucceeded, "hello\n" })},
		{"failed with code", with(func(r *snapshot.Run) {
			r.Status, r.Attempt, r.Trigger, r.ID = snapshot.StatusFailed, 2, snapshot.TriggerRetry, snapshot.RunID(fire, 2)
			r.Error, r.ErrorCode, r.Output = "egress denied: 10.0.0.1 is not allowed", "egress_denied", ""
		})},
		{"failed multi-line", with(func(r *snapshot.Run) {
			r.Status, r.Error = snapshot.StatusFailed, "handler panicked: boom\ngoroutine 7 [running]:\nmain.f()"
		})},
		{"timed out", with(func(r *snapshot.Run) {
			r.Status, r.Error = snapshot.StatusTimedOut, "timed out after 1s: context deadline exceeded"
			r.Output = "password=***\n"
		})},
		{"lost", with(func(r *snapshot.Run) {
			r.Status, r.StartedAt, r.DurationSeconds = snapshot.StatusLost, at(10*time.Millisecond), 1.5
			r.Error = "client host-1-ab12 stopped while the run was in progress"
		})},
		{"canceled before dispatch", with(func(r *snapshot.Run) {
			r.Status, r.Client, r.DispatchedAt, r.StartedAt, r.DurationSeconds = snapshot.StatusCanceled, "", nil, nil, 0
			r.Trigger, r.TraceID, r.Error = snapshot.TriggerManual, "", "canceled through the API"
		})},
		{"shard", with(func(r *snapshot.Run) {
			r.ID, r.SnapshotID, r.ShardIndex, r.ShardTotal = snapshot.RunID(snapshot.ShardID(fire, 2), 1), snapshot.ShardID(fire, 2), 2, 4
			r.Status = snapshot.StatusSucceeded
		})},
		{"sharded summary", with(func(r *snapshot.Run) {
			r.ID, r.Attempt, r.Client, r.Target, r.DispatchedAt, r.ShardTotal = fire, 0, "", "", nil, 4
			r.Status, r.Output, r.Error = snapshot.StatusFailed, "3/4 shards succeeded", "shard 1: timed_out (timed out after 1s)"
		})},
		{"long output and error", with(func(r *snapshot.Run) {
			r.Status, r.Output, r.Error = snapshot.StatusFailed, long, strings.Repeat("x", 300)+"é"+strings.Repeat("y", snapshot.MaxOutputBytes)
		})},
		{"unknown status", with(func(r *snapshot.Run) { r.Status = "skipped" })},
	}
}

// TestRunRecord maps every kind of history row to its log record and
// compares them with testdata/run_records.golden (go test -update rewrites
// it); it also checks the bounds the golden file cannot show at a glance.
func TestRunRecord(t *testing.T) {
	var b strings.Builder
	for _, c := range runCases() {
		r := RunRecord(c.run, observed)
		fmt.Fprintf(&b, "== %s\n%s\n", c.name, render(r))
		if !r.Timestamp().Equal(c.run.FinishedAt) || !r.ObservedTimestamp().Equal(observed) || r.EventName() != EventRun {
			t.Errorf("%s: timestamp %s observed %s event %q", c.name, r.Timestamp(), r.ObservedTimestamp(), r.EventName())
		}
		if body := r.Body().AsString(); len(body) > 256 || strings.Contains(body, "\n") || !utf8.ValidString(body) {
			t.Errorf("%s: body %q is not one short line", c.name, body)
		}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if s := kv.Value.Emit(); kv.Value.Type() == attribute.STRING && (len(s) > MaxLogOutputBytes || !utf8.ValidString(s)) {
				t.Errorf("%s: attribute %s is %d bytes (valid UTF-8: %v)", c.name, kv.Key, len(s), utf8.ValidString(s))
			}
			return true
		})
	}
	golden := filepath.Join("testdata", "run_records.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("records differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func TestRunSeverity(t *testing.T) {
	for st, want := range map[snapshot.Status]log.Severity{
		snapshot.StatusSucceeded: log.SeverityInfo, snapshot.StatusCanceled: log.SeverityWarn,
		snapshot.StatusFailed: log.SeverityError, snapshot.StatusTimedOut: log.SeverityError, snapshot.StatusLost: log.SeverityError,
	} {
		if got := RunSeverity(st); got != want {
			t.Errorf("%s: severity %s, want %s", st, got, want)
		}
	}
}

// render shows a record one field a line; strings over 100 bytes show as
// their length, start and end.
func render(r log.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "event=%s timestamp=%s observed=%s severity=%d(%s)\nbody=%q\n", r.EventName(),
		r.Timestamp().Format(time.RFC3339Nano), r.ObservedTimestamp().Format(time.RFC3339Nano), r.Severity(), r.SeverityText(),
		r.Body().AsString())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		v := kv.Value
		switch v.Type() {
		case attribute.STRING:
			s := v.AsString()
			if len(s) > 100 {
				fmt.Fprintf(&b, "  %s = (%d bytes) %q ... %q\n", kv.Key, len(s), s[:30], s[len(s)-30:])
				return true
			}
			fmt.Fprintf(&b, "  %s = %q\n", kv.Key, s)
		default:
			fmt.Fprintf(&b, "  %s = %s (%s)\n", kv.Key, v.Emit(), v.Type())
		}
		return true
	})
	return b.String()
}
