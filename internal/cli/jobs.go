package cli

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/client"
)

// JobsList prints the jobs (of one group if group is set, only those whose
// last run failed if failing): -o yaml as a file pink apply takes.
func (e Env) JobsList(ctx context.Context, group string, failing bool) error {
	var jobs []client.Job
	only := ""
	if failing {
		only = "true"
	}
	raw, err := e.list(ctx, "/api/v1/jobs", query("group", group, "failing", only), "jobs", &jobs)
	if err != nil {
		return err
	}
	if e.Format == formatYAML {
		return e.printApplyFile(jobs)
	}
	return e.show(raw, func() table { return jobsTable(jobs, time.Now()) })
}

// jobsTable is the table of jobs list and watch.
func jobsTable(jobs []client.Job, now time.Time) table {
	t := table{
		header: []string{"NAME", "GROUP", "SCHEDULE", "TIMEZONE", "TARGET", "LAST STATUS", "LAST RUN", "NEXT FIRE", "PAUSED"},
		wide:   []string{"CONCURRENCY", "AGE", "LABELS", "DESCRIPTION"},
	}
	for _, j := range jobs {
		t.add("job/"+j.Name, jobRow(j, now)...)
	}
	return t
}

func jobRow(j client.Job, now time.Time) []string {
	status, last, next := "-", "-", "-"
	if j.LastRun != nil {
		status, last = j.LastRun.Status, ago(j.LastRun.FinishedAt, now)
	}
	if len(j.NextFires) > 0 {
		next = ago(j.NextFires[0], now)
	}
	var labels []string
	for k, v := range j.Labels {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	return []string{j.Name, j.Group, j.Schedule, j.Timezone, j.Target, status, last, next, paused(j, now),
		string(j.Concurrency), age(j.CreatedAt, now), orDash(strings.Join(labels, ",")), orDash(cut(j.Description, 40))}
}

// paused is a job's PAUSED cell: "-", or "yes" with the time left and
// the reason.
func paused(j client.Job, now time.Time) string {
	if !j.Paused {
		return "-"
	}
	s := "yes"
	if j.PausedUntil != nil {
		s += ", " + human(j.PausedUntil.Sub(now)) + " left"
	}
	if j.PauseReason != "" {
		s += ": " + cut(j.PauseReason, 30)
	}
	return s
}

// JobGet prints one job: its facts for people, -o yaml as a file pink
// apply takes.
func (e Env) JobGet(ctx context.Context, name string) error {
	var j client.Job
	raw, err := e.get(ctx, "/api/v1/jobs/"+esc(name), &j)
	if err != nil {
		return err
	}
	if e.Format == formatYAML {
		return e.printApplyFile([]client.Job{j})
	}
	return e.show(raw, func() table { return jobsTable([]client.Job{j}, time.Now()) })
}

// JobDelete deletes a job.
func (e Env) JobDelete(ctx context.Context, name string) error {
	if err := e.Client.DeleteJob(ctx, name, e.Reason); err != nil {
		return err
	}
	return e.done(map[string]any{"name": name, "deleted": true}, "job/"+name, "deleted job %s", name)
}

// JobPause pauses a job, with an optional reason and until (RFC 3339 or a
// duration).
func (e Env) JobPause(ctx context.Context, name, until string) error {
	body := map[string]string{"reason": e.Reason, "until": until}
	var out client.Job
	raw, err := e.send(ctx, http.MethodPost, "/api/v1/jobs/"+esc(name)+"/pause", body, &out, nil)
	if err != nil {
		return err
	}
	msg := "paused job %s"
	if out.PausedUntil != nil {
		msg += " until " + ts(*out.PausedUntil)
	}
	return e.done(raw, "job/"+name, msg, name)
}

// JobResume resumes a job.
func (e Env) JobResume(ctx context.Context, name string) error {
	raw, err := e.send(ctx, http.MethodPost, "/api/v1/jobs/"+esc(name)+"/resume", nil, nil, e.reason())
	if err != nil {
		return err
	}
	return e.done(raw, "job/"+name, "resumed job %s", name)
}

// JobTrigger runs a job now: one snapshot, or one per shard (or per
// worker of a broadcast).
func (e Env) JobTrigger(ctx context.Context, name string, force bool) error {
	path := "/api/v1/jobs/" + esc(name) + "/trigger"
	if force {
		path += "?force=true"
	}
	var out client.Triggered
	raw, err := e.send(ctx, http.MethodPost, path, nil, &out, e.reason())
	if err != nil {
		return err
	}
	ids := out.IDs()
	if e.Format == formatName {
		for _, id := range ids {
			fmt.Fprintln(e.Out, "snapshot/"+id)
		}
		return nil
	}
	what := "snapshot " + strings.Join(ids, ", ")
	if len(ids) > 1 {
		what = fmt.Sprintf("%d snapshots %s", len(ids), strings.Join(ids, ", "))
	}
	return e.done(raw, "", "triggered job %s: %s", name, what)
}

// JobBackfill runs every fire of a job in [from, to].
func (e Env) JobBackfill(ctx context.Context, name string, from, to time.Time) error {
	var out struct {
		BackfillID string `json:"backfill_id"`
		Fires      int    `json:"fires"`
	}
	body := map[string]any{"from": from, "to": to, "reason": e.Reason}
	raw, err := e.send(ctx, http.MethodPost, "/api/v1/jobs/"+esc(name)+"/backfill", body, &out, nil)
	if err != nil {
		return err
	}
	return e.done(raw, "backfill/"+out.BackfillID, "backfill %s of job %s: %d fires", out.BackfillID, name, out.Fires)
}

type fire struct {
	At        time.Time `json:"at"`
	UTC       time.Time `json:"utc"`
	UTCOffset string    `json:"utc_offset"`
	Note      string    `json:"note"`
}

func (e Env) fires(v any, fires []fire) error {
	return e.show(v, func() table {
		t := table{header: []string{"AT", "UTC", "OFFSET", "NOTE"}, wide: []string{"IN"}}
		now := time.Now()
		for _, f := range fires {
			t.add("fire/"+ts(f.UTC), ts(f.At), ts(f.UTC), f.UTCOffset, orDash(f.Note), ago(f.UTC, now))
		}
		return t
	})
}

// JobPreview prints a job's next fires.
func (e Env) JobPreview(ctx context.Context, name string, n int) error {
	var out struct {
		Fires []fire `json:"fires"`
	}
	raw, err := e.get(ctx, fmt.Sprintf("/api/v1/jobs/%s/preview?n=%d", esc(name), n), &out)
	if err != nil {
		return err
	}
	return e.fires(raw, out.Fires)
}

// ValidateSchedule checks a schedule without a job.
func (e Env) ValidateSchedule(ctx context.Context, expr, tz string, n int) error {
	var out struct {
		Fires []fire `json:"fires"`
	}
	body := map[string]any{"schedule": expr, "timezone": tz, "n": n}
	raw, err := e.send(ctx, http.MethodPost, "/api/v1/schedules/validate", body, &out, nil)
	if err != nil {
		return err
	}
	return e.fires(raw, out.Fires)
}
