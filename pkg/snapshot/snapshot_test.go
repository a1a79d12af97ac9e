package snapshot

import (
	"strings"
	"testing"
	"time"
)

func TestIDs(t *testing.T) {
	at := time.Date(2026, 11, 26, 16, 7, 0, 0, time.FixedZone("CET", 3600))
	if got, want := CronID("backup", at), "backup@20261126T150700Z"; got != want {
		t.Errorf("CronID = %q, want %q", got, want)
	}
	m1, m2 := ManualID("backup", at), ManualID("backup", at)
	if m1 == m2 || !strings.HasPrefix(m1, "backup@20261126T150700Z-m") {
		t.Errorf("ManualID = %q, %q: want distinct ids with the trigger time", m1, m2)
	}
	run := RunID(ShardID(CronID("a.b", at), 7), 12)
	if run != "a.b@20261126T150700Z.s007.012" {
		t.Errorf("RunID = %q", run)
	}
	snap, attempt, ok := SplitRunID(run)
	if !ok || snap != "a.b@20261126T150700Z.s007" || attempt != 12 {
		t.Errorf("SplitRunID(%q) = %q, %d, %v", run, snap, attempt, ok)
	}
	if job, ok := JobOf(run); !ok || job != "a.b" {
		t.Errorf("JobOf(%q) = %q, %v", run, job, ok)
	}
	for _, bad := range []string{"", "nojob", "@x", "a@x.y", "a@x.0"} {
		if _, _, ok := SplitRunID(bad); ok {
			t.Errorf("SplitRunID(%q) accepted", bad)
		}
	}
}

func TestNextAttempt(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := Snapshot{ID: "j@x", Attempt: 1, Retries: 3, RetryBackoff: 10 * time.Second, State: StateRunning, Client: "c1"}
	wantMax := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}
	for i, max := range wantMax {
		for _, jitter := range []float64{0, 0.999} {
			n := s.NextAttempt(TriggerRetry, now, jitter)
			if n == nil {
				t.Fatalf("attempt %d: no retry", s.Attempt)
			}
			if n.Attempt != s.Attempt+1 || n.Trigger != TriggerRetry || n.State != StatePending || n.Client != "" {
				t.Fatalf("attempt %d: next = %+v", s.Attempt, n)
			}
			delay := n.NotBefore.Sub(now)
			if delay < max/2 || delay > max {
				t.Errorf("attempt %d jitter %v: delay %s, want in [%s, %s]", i+1, jitter, delay, max/2, max)
			}
		}
		s.Attempt++
	}
	if n := s.NextAttempt(TriggerRetry, now, 0); n != nil {
		t.Errorf("attempt %d of 1+%d: got a retry", s.Attempt, s.Retries)
	}
	lost := Snapshot{Attempt: 1, Retries: 1, RetryBackoff: time.Minute}
	if n := lost.NextAttempt(TriggerFailover, now, 0.5); n == nil || n.NotBefore != nil {
		t.Errorf("failover attempt should start at once: %+v", n)
	}
	huge := Snapshot{Attempt: 40, Retries: 100, RetryBackoff: 30 * time.Minute}
	if n := huge.NextAttempt(TriggerRetry, now, 0.999); n.NotBefore.Sub(now) > MaxRetryDelay {
		t.Errorf("backoff not capped: %s", n.NotBefore.Sub(now))
	}
}

func TestTruncateOutput(t *testing.T) {
	s := strings.Repeat("a", MaxOutputBytes) + "TAIL"
	got := TruncateOutput(s)
	if len(got) != MaxOutputBytes || !strings.HasSuffix(got, "TAIL") || !strings.HasPrefix(got, "[... truncated ...]") {
		t.Errorf("TruncateOutput: len %d, prefix %q, suffix %q", len(got), got[:20], got[len(got)-4:])
	}
	if TruncateOutput("short") != "short" {
		t.Error("short output changed")
	}
}
