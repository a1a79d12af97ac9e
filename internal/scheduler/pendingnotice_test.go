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

// TestTargetNotice: the warning that no live worker runs a target comes
// once per group and target per minute, apart from the group's "no live
// client" warning and from other targets and groups.
func TestTargetNotice(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	var p pendingNotice
	for _, f := range []struct {
		after         time.Duration
		group, target string
	}{{0, "a", "shel"}, {time.Second, "a", "shel"}, {time.Second, "a", ""}, {2 * time.Second, "a", "htp"}, {3 * time.Second, "b", "shel"},
		{59 * time.Second, "a", "shel"}, {time.Minute, "a", "shel"}} {
		if f.target == "" {
			p.pending(context.Background(), log, t0.Add(f.after), f.group, "job", "id")
			continue
		}
		p.noTarget(context.Background(), log, t0.Add(f.after), f.group, f.target, "job", "id", []string{"http", "shell"})
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		i := strings.Index(line, "msg=")
		got = append(got, line[i:])
	}
	const noTarget = `msg="no live worker of the group runs the job's target; snapshot pending until one that does registers" job_name=job `
	want := []string{
		noTarget + `group=a target=shel live_workers_run=http,shell snapshot_id=id also_pending_since_last_notice=0`,
		`msg="no live client; snapshot pending until a worker of the group registers" job_name=job group=a snapshot_id=id also_pending_since_last_notice=0`,
		noTarget + `group=a target=htp live_workers_run=http,shell snapshot_id=id also_pending_since_last_notice=0`,
		noTarget + `group=b target=shel live_workers_run=http,shell snapshot_id=id also_pending_since_last_notice=0`,
		noTarget + `group=a target=shel live_workers_run=http,shell snapshot_id=id also_pending_since_last_notice=2`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
