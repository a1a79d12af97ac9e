package snapshot_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

func benchSnapshot() snapshot.Snapshot {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	d := at.Add(3 * time.Millisecond)
	return snapshot.Snapshot{ID: snapshot.CronID("nightly-report", at), Job: "nightly-report", Group: "billing",
		Target: "http", Trigger: snapshot.TriggerCron, Attempt: 1, ShardTotal: 1, ScheduledAt: at, CreatedAt: at,
		State: snapshot.StateDispatched, Client: "worker-7f3a-1b2c3d", DispatchedAt: &d, Timeout: time.Minute,
		Params:      json.RawMessage(`{"url":"https://billing.internal/report","method":"POST"}`),
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
}

// BenchmarkSnapshotEncode and BenchmarkSnapshotDecode are the cost of the
// JSON records every fire writes and every watcher reads.
func BenchmarkSnapshotEncode(b *testing.B) {
	s := benchSnapshot()
	var n int
	for b.Loop() {
		v, err := json.Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		n = len(v)
	}
	b.ReportMetric(float64(n), "bytes/snapshot")
}

func BenchmarkSnapshotDecode(b *testing.B) {
	v, err := json.Marshal(benchSnapshot())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var s snapshot.Snapshot
		if err := json.Unmarshal(v, &s); err != nil {
			b.Fatal(err)
		}
	}
}
