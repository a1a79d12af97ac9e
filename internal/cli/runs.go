package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// RunsList prints runs, newest first: of one job (a job that does not
// exist is "not found", not an empty table), or across jobs. Status
// running or pending lists the live snapshots in that state instead.
func (e Env) RunsList(ctx context.Context, f client.RunFilter, limit int) error {
	if f.Status == "running" || f.Status == "pending" {
		return e.liveRuns(ctx, f, limit)
	}
	var page client.RunPage
	raw, err := e.get(ctx, "/api/v1/runs?"+f.Query(limit, "").Encode(), &page)
	if err != nil {
		return err
	}
	if err := e.jobExists(ctx, f.Job, len(page.Runs)); err != nil {
		return err
	}
	return e.show(raw, func() table {
		t := table{header: []string{"ID", "JOB", "STATUS", "TRIGGER", "SCHEDULED", "DURATION", "CLIENT", "ERROR"},
			wide: []string{"GROUP", "ATTEMPT", "SCHEDULED AT", "TRACE"}}
		now := time.Now()
		for _, r := range page.Runs {
			t.add("run/"+r.ID, r.ID, r.Job, string(r.Status), string(r.Trigger), ago(r.ScheduledAt, now),
				dur(r.DurationSeconds), orDash(r.Client), orDash(cut(r.Error, 60)),
				r.Group, fmt.Sprint(r.Attempt), ts(r.ScheduledAt), orDash(r.TraceID))
		}
		return t
	})
}

// jobExists says "not found" for a job with no runs that does not exist.
func (e Env) jobExists(ctx context.Context, job string, found int) error {
	if job == "" || found > 0 {
		return nil
	}
	_, err := e.Client.Job(ctx, job)
	return err
}

// liveRuns lists the live snapshots that are running, or pending (not
// started: pending or dispatched), newest nominal time first.
func (e Env) liveRuns(ctx context.Context, f client.RunFilter, limit int) error {
	items, err := e.Client.List(ctx, "/api/v1/snapshots", query("group", f.Group, "job", f.Job), "snapshots")
	if err != nil {
		return err
	}
	type live struct {
		client.Snapshot
		raw json.RawMessage
	}
	var snaps []live
	for _, raw := range items {
		var s client.Snapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("decode a snapshot: %w", err)
		}
		running := s.State == snapshot.StateRunning
		if running == (f.Status == "running") && !s.ScheduledAt.Before(f.Since) {
			snaps = append(snaps, live{s, raw})
		}
	}
	slices.SortStableFunc(snaps, func(a, b live) int { return b.ScheduledAt.Compare(a.ScheduledAt) })
	snaps = snaps[:min(limit, len(snaps))]
	if err := e.jobExists(ctx, f.Job, len(snaps)); err != nil {
		return err
	}
	raws := make([]json.RawMessage, len(snaps))
	for i := range snaps {
		raws[i] = snaps[i].raw
	}
	return e.show(map[string]any{"snapshots": raws}, func() table {
		t := table{header: []string{"ID", "JOB", "STATUS", "TRIGGER", "SCHEDULED", "RUNNING FOR", "CLIENT", "REASON"},
			wide: []string{"GROUP", "ATTEMPT", "SCHEDULED AT"}}
		now := time.Now()
		for _, s := range snaps {
			running := "-"
			if s.StartedAt != nil {
				running = human(now.Sub(*s.StartedAt))
			}
			t.add("snapshot/"+s.ID, s.ID, s.Job, string(s.State), string(s.Trigger), ago(s.ScheduledAt, now), running, orDash(s.Client),
				orDash(s.PendingReason), s.Group, fmt.Sprint(s.Attempt), ts(s.ScheduledAt))
		}
		return t
	})
}

// sinceTime reads --since: a duration back from now, or an RFC 3339 time.
func sinceTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (1h) nor an RFC 3339 time", v)
	}
	return t, nil
}

// RunGet prints one run: its facts, its whole error and its output (or
// the API's JSON or YAML).
func (e Env) RunGet(ctx context.Context, id string) error {
	var r snapshot.Run
	raw, err := e.get(ctx, "/api/v1/runs/"+esc(id), &r)
	if err != nil {
		return err
	}
	switch e.Format {
	case formatJSON:
		return e.printJSON(raw)
	case formatYAML:
		return e.printYAML(raw)
	case formatName:
		_, err := fmt.Fprintln(e.Out, "run/"+r.ID)
		return err
	}
	return e.runPage(r)
}

// runPage prints a run for people: facts, the whole error, the output.
func (e Env) runPage(r snapshot.Run) error {
	w := tabwriter.NewWriter(e.Out, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"ID", r.ID}, {"JOB", r.Job}, {"GROUP", r.Group}, {"STATUS", string(r.Status)}, {"TRIGGER", string(r.Trigger)},
		{"ATTEMPT", fmt.Sprint(r.Attempt)}, {"CLIENT", orDash(r.Client)}, {"TARGET", r.Target},
		{"SCHEDULED", ts(r.ScheduledAt)}, {"STARTED", tsp(r.StartedAt)}, {"FINISHED", ts(r.FinishedAt)},
		{"DURATION", dur(r.DurationSeconds)}, {"TRACE", orDash(r.TraceID)}, {"ERROR CODE", orDash(r.ErrorCode)}, {"ERROR", orDash(r.Error)},
	} {
		fmt.Fprintf(w, "%s:\t%s\n", kv[0], kv[1])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if r.Output == "" {
		_, err := fmt.Fprintln(e.Out, "OUTPUT: (none)")
		return err
	}
	_, err := fmt.Fprintf(e.Out, "OUTPUT:\n%s", indent(r.Output))
	return err
}

// RunLogs prints a run's output as it is, for a pipe or a pager. With
// follow, an id of a run not recorded yet (or of its live snapshot) waits
// for the run to finish.
func (e Env) RunLogs(ctx context.Context, id string, follow bool) error {
	if !follow {
		var r snapshot.Run
		if err := e.Client.Do(ctx, http.MethodGet, "/api/v1/runs/"+esc(id), nil, &r, nil); err != nil {
			return err
		}
		_, err := io.WriteString(e.Out, r.Output)
		return err
	}
	r, err := e.awaitRun(ctx, id)
	if err != nil {
		return err
	}
	_, err = io.WriteString(e.Out, r.Output)
	return err
}

// indent indents every line of s by two spaces, ending with a newline.
func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}
