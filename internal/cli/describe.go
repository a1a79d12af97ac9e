package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// describeRuns is how many of a job's latest runs describe shows.
const describeRuns = 5

// describeAudit is how many audit entries of the job describe shows, of
// the newest auditScan entries of the whole log.
const (
	describeAudit = 5
	auditScan     = 1000
)

// description is everything describe shows of a job.
type description struct {
	Job       client.Job
	Runs      []snapshot.Run
	Snapshots []client.Snapshot
	Audit     []audit.Entry
}

// JobDescribe prints a job for people, like kubectl describe: its spec,
// state and next fires, its last runs, live snapshots and audit entries.
// -o json prints the same parts as the API answered them.
func (e Env) JobDescribe(ctx context.Context, name string, now time.Time) error {
	var d description
	raw := map[string]json.RawMessage{}
	var err error
	if raw["job"], err = e.get(ctx, "/api/v1/jobs/"+esc(name), &d.Job); err != nil {
		return err
	}
	var runs client.RunPage
	runsAnswer, err := e.get(ctx, "/api/v1/runs?"+(client.RunFilter{Job: name}).Query(describeRuns, "").Encode(), &runs)
	if err != nil {
		return err
	}
	d.Runs = runs.Runs
	raw["runs"] = field(runsAnswer, "runs")
	snaps, err := e.list(ctx, "/api/v1/snapshots", query("job", name), "snapshots", &d.Snapshots)
	if err != nil {
		return err
	}
	raw["snapshots"] = field(snaps, "snapshots")
	var log struct {
		Entries []json.RawMessage `json:"entries"`
	}
	if _, err := e.get(ctx, fmt.Sprintf("/api/v1/audit?limit=%d", auditScan), &log); err != nil {
		return err
	}
	entries := []json.RawMessage{}
	for _, b := range log.Entries {
		var a audit.Entry
		if json.Unmarshal(b, &a) == nil && a.Target == name && len(d.Audit) < describeAudit {
			d.Audit, entries = append(d.Audit, a), append(entries, b)
		}
	}
	raw["audit"], _ = json.Marshal(entries)
	switch e.Format {
	case formatJSON:
		return e.printJSON(raw)
	case formatYAML:
		return e.printYAML(raw)
	case formatName:
		_, err := fmt.Fprintln(e.Out, "job/"+name)
		return err
	}
	return e.describePage(d, now)
}

// field is the value of key in the JSON object b, as it is.
func field(b json.RawMessage, key string) json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m[key]
}

func (e Env) describePage(d description, now time.Time) error {
	j := d.Job
	w := tabwriter.NewWriter(e.Out, 0, 0, 2, ' ', 0)
	sched := j.Schedule
	if j.ScheduleText != "" {
		sched += " (" + j.ScheduleText + ")"
	}
	last := "none yet"
	if j.LastRun != nil {
		last = fmt.Sprintf("%s, %s (%s)", j.LastRun.Status, ago(j.LastRun.FinishedAt, now), ts(j.LastRun.FinishedAt))
	}
	for _, kv := range [][2]string{
		{"Name", j.Name}, {"Group", j.Group}, {"Schedule", sched}, {"Time zone", j.Timezone}, {"Target", j.Target},
		{"Params", orDash(string(j.Params))}, {"Concurrency", string(j.Concurrency)},
		{"Misfire", fmt.Sprintf("%s (catch-up window %s)", j.Misfire, j.CatchupWindow)},
		{"Timeout", j.Timeout.String()}, {"Retries", fmt.Sprintf("%d (backoff %s)", j.Retries, j.RetryBackoff)},
		{"Strategy", string(j.Strategy)}, {"Shards", shards(j.Shards)}, {"Labels", labels(j.Labels)},
		{"Description", orDash(j.Description)}, {"Paused", pausedLong(j, now)}, {"Last run", last},
		{"Created", fmt.Sprintf("%s (%s)", ts(j.CreatedAt), ago(j.CreatedAt, now))},
		{"Updated", fmt.Sprintf("%s (%s), revision %d", ts(j.UpdatedAt), ago(j.UpdatedAt, now), j.Revision)},
	} {
		fmt.Fprintf(w, "%s:\t%s\n", kv[0], strings.ReplaceAll(kv[1], "\n", "\n\t"))
	}
	fmt.Fprintln(w, "\nNext fires:")
	if len(j.NextFires) == 0 {
		fmt.Fprintln(w, "  (none while paused)")
	}
	loc, err := time.LoadLocation(j.Timezone)
	if err != nil {
		loc = time.UTC
	}
	for _, f := range j.NextFires {
		fmt.Fprintf(w, "  %s\t%s\n", ts(f.In(loc)), ago(f, now))
	}
	section(w, "Last runs", len(d.Runs), "ID\tSTATUS\tTRIGGER\tSCHEDULED\tDURATION\tCLIENT\tERROR")
	for _, r := range d.Runs {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Trigger, ago(r.ScheduledAt, now), dur(r.DurationSeconds),
			orDash(r.Client), orDash(r.Error))
	}
	section(w, "Live snapshots", len(d.Snapshots), "ID\tSTATE\tTRIGGER\tATTEMPT\tSCHEDULED\tCLIENT\tREASON")
	for _, s := range d.Snapshots {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.State, s.Trigger, s.Attempt, ago(s.ScheduledAt, now), orDash(s.Client),
			orDash(s.PendingReason))
	}
	section(w, "Audit", len(d.Audit), "AGE\tWHO\tACTION\tREASON")
	for _, a := range d.Audit {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", age(a.At, now), a.Who, a.Action, orDash(a.Reason))
	}
	return w.Flush()
}

// section starts a part of the page: its title and header, or (none).
func section(w *tabwriter.Writer, title string, n int, header string) {
	fmt.Fprintf(w, "\n%s:\n", title)
	if n == 0 {
		fmt.Fprintln(w, "  (none)")
		return
	}
	fmt.Fprintln(w, "  "+header)
}

func shards(n int) string {
	if n <= 1 {
		return "-"
	}
	return fmt.Sprint(n)
}

func labels(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return orDash(strings.Join(out, ", "))
}

// pausedLong is the paused state in words: who, why, until when.
func pausedLong(j client.Job, now time.Time) string {
	if !j.Paused {
		return "no"
	}
	s := "yes"
	if j.PausedBy != "" {
		s += ", by " + j.PausedBy
	}
	if j.PauseReason != "" {
		s += ": " + j.PauseReason
	}
	if j.PausedUntil != nil {
		s += fmt.Sprintf("; resumes %s (%s)", ts(*j.PausedUntil), ago(*j.PausedUntil, now))
	}
	return s
}
