package scheduler

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestPendingNotice: one warning per group per minute, the fires between
// counted into the next one; other groups have their own minute.
func TestPendingNotice(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	var p pendingNotice
	for _, f := range []struct {
		after time.Duration
		group string
	}{{0, "a"}, {time.Second, "a"}, {2 * time.Second, "b"}, {59 * time.Second, "a"}, {time.Minute, "a"}, {61 * time.Second, "a"}} {
		p.pending(context.Background(), log, t0.Add(f.after), f.group, "job-"+f.group, "id")
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		i := strings.Index(line, "group=")
		got = append(got, line[i:])
	}
	want := []string{"group=a snapshot_id=id also_pending_since_last_notice=0", "group=b snapshot_id=id also_pending_since_last_notice=0",
		"group=a snapshot_id=id also_pending_since_last_notice=2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
