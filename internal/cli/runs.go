package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// RunsList prints runs, newest first: of one job (a job that does not
// exist is "not found", not an empty table), or across jobs.
func (e Env) RunsList(ctx context.Context, f client.RunFilter, limit int) error {
	page, err := e.Client.RunsWhere(ctx, f, limit, "")
	if err != nil {
		return err
	}
	if f.Job != "" && len(page.Runs) == 0 {
		if _, err := e.Client.Job(ctx, f.Job); err != nil {
			return err
		}
	}
	return e.show(page, []string{"ID", "JOB", "STATUS", "TRIGGER", "SCHEDULED", "DURATION", "CLIENT", "ERROR"}, func() [][]string {
		var rows [][]string
		for _, r := range page.Runs {
			rows = append(rows, []string{r.ID, r.Job, string(r.Status), string(r.Trigger), ts(r.ScheduledAt),
				dur(r.DurationSeconds), r.Client, cut(r.Error, 60)})
		}
		return rows
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
// the API's JSON with -o json).
func (e Env) RunGet(ctx context.Context, id string) error {
	var r snapshot.Run
	if err := e.Client.Do(ctx, http.MethodGet, "/api/v1/runs/"+esc(id), nil, &r, nil); err != nil {
		return err
	}
	if e.JSON {
		return e.printJSON(r)
	}
	orDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
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

// RunLogs prints a run's output as it is, for a pipe or a pager.
func (e Env) RunLogs(ctx context.Context, id string) error {
	var r snapshot.Run
	if err := e.Client.Do(ctx, http.MethodGet, "/api/v1/runs/"+esc(id), nil, &r, nil); err != nil {
		return err
	}
	_, err := io.WriteString(e.Out, r.Output)
	return err
}

// indent indents every line of s by two spaces, ending with a newline.
func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}
