// Package cli is pink's command line: the commands that run the parts of a
// cluster (dev, scheduler, worker: flags mapped onto the configs of the
// composition root, internal/node), pink bench, and the API client
// commands, which call the API through pkg/client and print a table for
// people or JSON for scripts (-o json), with exit codes scripts can branch
// on. cmd/pink only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/pink-scheduler/pink/internal/apply"
	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Env is what every command needs.
type Env struct {
	Client *client.Client
	Out    io.Writer
	// JSON prints the API's JSON instead of tables.
	JSON bool
	// Reason is sent with changes, for the audit log.
	Reason string
}

func (e Env) reason() map[string]string {
	if e.Reason == "" {
		return nil
	}
	return map[string]string{"Pink-Reason": e.Reason}
}

func esc(s string) string { return url.PathEscape(s) }

// JobsList prints the jobs (of one group if group is set).
func (e Env) JobsList(ctx context.Context, group string) error {
	jobs, err := e.Client.Jobs(ctx, group)
	if err != nil {
		return err
	}
	return e.show(map[string]any{"jobs": jobs}, []string{"NAME", "GROUP", "SCHEDULE", "TIMEZONE", "TARGET", "PAUSED", "NEXT FIRE"}, func() [][]string {
		var rows [][]string
		for _, j := range jobs {
			next := "-"
			if len(j.NextFires) > 0 {
				next = ts(j.NextFires[0])
			}
			rows = append(rows, []string{j.Name, j.Group, j.Schedule, j.Timezone, j.Target, fmt.Sprint(j.Paused), next})
		}
		return rows
	})
}

// JobGet prints one job as JSON (a table would hide most of it).
func (e Env) JobGet(ctx context.Context, name string) error {
	j, err := e.Client.Job(ctx, name)
	if err != nil {
		return err
	}
	return e.printJSON(j)
}

// JobDelete deletes a job.
func (e Env) JobDelete(ctx context.Context, name string) error {
	if err := e.Client.DeleteJob(ctx, name, e.Reason); err != nil {
		return err
	}
	return e.done(map[string]any{"name": name, "deleted": true}, "deleted job %s", name)
}

func (e Env) done(v any, format string, args ...any) error {
	if e.JSON {
		return e.printJSON(v)
	}
	_, err := fmt.Fprintf(e.Out, format+"\n", args...)
	return err
}

// JobPause pauses a job, with an optional reason and until (RFC 3339 or a
// duration).
func (e Env) JobPause(ctx context.Context, name, until string) error {
	body := map[string]string{"reason": e.Reason, "until": until}
	var out client.Job
	if err := e.Client.Do(ctx, http.MethodPost, "/api/v1/jobs/"+esc(name)+"/pause", body, &out, nil); err != nil {
		return err
	}
	msg := "paused job %s"
	if out.PausedUntil != nil {
		msg += " until " + ts(*out.PausedUntil)
	}
	return e.done(out, msg, name)
}

// JobResume resumes a job.
func (e Env) JobResume(ctx context.Context, name string) error {
	var out client.Job
	if err := e.Client.Do(ctx, http.MethodPost, "/api/v1/jobs/"+esc(name)+"/resume", nil, &out, e.reason()); err != nil {
		return err
	}
	return e.done(out, "resumed job %s", name)
}

// JobTrigger runs a job now.
func (e Env) JobTrigger(ctx context.Context, name string, force bool) error {
	path := "/api/v1/jobs/" + esc(name) + "/trigger"
	if force {
		path += "?force=true"
	}
	var out struct {
		SnapshotID  string   `json:"snapshot_id"`
		SnapshotIDs []string `json:"snapshot_ids"`
	}
	if err := e.Client.Do(ctx, http.MethodPost, path, nil, &out, e.reason()); err != nil {
		return err
	}
	return e.done(out, "triggered job %s: snapshot %s", name, out.SnapshotID)
}

// JobBackfill runs every fire of a job in [from, to].
func (e Env) JobBackfill(ctx context.Context, name string, from, to time.Time) error {
	var out struct {
		BackfillID string `json:"backfill_id"`
		Fires      int    `json:"fires"`
	}
	body := map[string]any{"from": from, "to": to, "reason": e.Reason}
	if err := e.Client.Do(ctx, http.MethodPost, "/api/v1/jobs/"+esc(name)+"/backfill", body, &out, nil); err != nil {
		return err
	}
	return e.done(out, "backfill %s of job %s: %d fires", out.BackfillID, name, out.Fires)
}

type fire struct {
	At        time.Time `json:"at"`
	UTC       time.Time `json:"utc"`
	UTCOffset string    `json:"utc_offset"`
	Note      string    `json:"note"`
}

func (e Env) fires(v any, fires []fire) error {
	return e.show(v, []string{"AT", "UTC", "OFFSET", "NOTE"}, func() [][]string {
		var rows [][]string
		for _, f := range fires {
			rows = append(rows, []string{ts(f.At), ts(f.UTC), f.UTCOffset, f.Note})
		}
		return rows
	})
}

// JobPreview prints a job's next fires.
func (e Env) JobPreview(ctx context.Context, name string, n int) error {
	var out struct {
		Fires []fire `json:"fires"`
	}
	if err := e.Client.Do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%s/preview?n=%d", esc(name), n), nil, &out, nil); err != nil {
		return err
	}
	return e.fires(out, out.Fires)
}

// ValidateSchedule checks a schedule without a job.
func (e Env) ValidateSchedule(ctx context.Context, expr, tz string, n int) error {
	var out struct {
		Fires []fire `json:"fires"`
	}
	body := map[string]any{"schedule": expr, "timezone": tz, "n": n}
	if err := e.Client.Do(ctx, http.MethodPost, "/api/v1/schedules/validate", body, &out, nil); err != nil {
		return err
	}
	return e.fires(out, out.Fires)
}

// scheduleChange is one entry of GET /api/v1/schedules/changes.
type scheduleChange struct {
	Job               string    `json:"job"`
	Schedule          string    `json:"schedule"`
	Timezone          string    `json:"timezone"`
	OldNext           time.Time `json:"old_next"`
	NewNext           time.Time `json:"new_next"`
	KeepOld           string    `json:"keep_old_schedule"`
	RefusedForNewJobs string    `json:"refused_for_new_jobs"`
}

// ScheduleChanges prints every job written before pink read schedules as
// crontab(5) does whose fires moved, following the pages to the end.
func (e Env) ScheduleChanges(ctx context.Context) error {
	var all []scheduleChange
	cursor := ""
	for {
		var page struct {
			Jobs []scheduleChange `json:"jobs"`
			Next string           `json:"next_cursor"`
		}
		if err := e.Client.Do(ctx, http.MethodGet, "/api/v1/schedules/changes?limit=1000&cursor="+url.QueryEscape(cursor), nil, &page, nil); err != nil {
			return err
		}
		all = append(all, page.Jobs...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	return e.show(map[string]any{"jobs": all}, []string{"JOB", "SCHEDULE", "OLD NEXT", "NEW NEXT", "KEEP OLD FIRES WITH", "NOTE"}, func() [][]string {
		var rows [][]string
		for _, c := range all {
			keep := c.KeepOld
			if keep == "" {
				keep = "-"
			}
			rows = append(rows, []string{c.Job, c.Schedule, ts(c.OldNext), ts(c.NewNext), keep, c.RefusedForNewJobs})
		}
		return rows
	})
}

// GroupsList prints the groups.
func (e Env) GroupsList(ctx context.Context) error {
	groups, err := e.Client.Groups(ctx)
	if err != nil {
		return err
	}
	return e.show(map[string]any{"groups": groups}, []string{"NAME", "CLIENTS", "DESCRIPTION"}, func() [][]string {
		var rows [][]string
		for _, g := range groups {
			rows = append(rows, []string{g.Name, fmt.Sprint(g.Clients), cut(g.Description, 60)})
		}
		return rows
	})
}

// GroupCreate creates a group.
func (e Env) GroupCreate(ctx context.Context, name, description string) error {
	if err := e.Client.CreateGroup(ctx, name, description, e.Reason); err != nil {
		return err
	}
	return e.done(map[string]any{"name": name, "created": true}, "created group %s", name)
}

// GroupDelete deletes a group.
func (e Env) GroupDelete(ctx context.Context, name string) error {
	if err := e.Client.Do(ctx, http.MethodDelete, "/api/v1/groups/"+esc(name), nil, nil, e.reason()); err != nil {
		return err
	}
	return e.done(map[string]any{"name": name, "deleted": true}, "deleted group %s", name)
}

// SnapshotsList prints the live snapshots.
func (e Env) SnapshotsList(ctx context.Context, group, jobName string) error {
	var out struct {
		Snapshots []snapshot.Snapshot `json:"snapshots"`
	}
	var err error
	if out.Snapshots, err = e.Client.Snapshots(ctx, group, jobName); err != nil {
		return err
	}
	return e.show(out, []string{"ID", "STATE", "TRIGGER", "ATTEMPT", "SCHEDULED", "CLIENT"}, func() [][]string {
		var rows [][]string
		for _, s := range out.Snapshots {
			rows = append(rows, []string{s.ID, string(s.State), string(s.Trigger), fmt.Sprint(s.Attempt), ts(s.ScheduledAt), s.Client})
		}
		return rows
	})
}

// SnapshotCancel cancels a snapshot that has not started.
func (e Env) SnapshotCancel(ctx context.Context, id string) error {
	if err := e.Client.Do(ctx, http.MethodDelete, "/api/v1/snapshots/"+esc(id), nil, nil, e.reason()); err != nil {
		return err
	}
	return e.done(map[string]any{"id": id, "status": "canceled"}, "canceled snapshot %s", id)
}

// NodesList prints the scheduler nodes.
func (e Env) NodesList(ctx context.Context) error {
	var out struct {
		Nodes []struct {
			ID        string    `json:"id"`
			Addr      string    `json:"addr"`
			Version   string    `json:"version"`
			StartedAt time.Time `json:"started_at"`
			Leader    bool      `json:"leader"`
		} `json:"nodes"`
	}
	if err := e.Client.Do(ctx, http.MethodGet, "/api/v1/nodes", nil, &out, nil); err != nil {
		return err
	}
	return e.show(out, []string{"ID", "LEADER", "ADDR", "VERSION", "STARTED"}, func() [][]string {
		var rows [][]string
		for _, n := range out.Nodes {
			rows = append(rows, []string{n.ID, fmt.Sprint(n.Leader), n.Addr, n.Version, ts(n.StartedAt)})
		}
		return rows
	})
}

// AuditList prints the audit log, newest first.
func (e Env) AuditList(ctx context.Context, limit int) error {
	var out struct {
		Entries []struct {
			At     time.Time `json:"at"`
			Who    string    `json:"who"`
			Action string    `json:"action"`
			Target string    `json:"target"`
			Reason string    `json:"reason"`
		} `json:"entries"`
	}
	if err := e.Client.Do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/audit?limit=%d", limit), nil, &out, nil); err != nil {
		return err
	}
	return e.show(out, []string{"AT", "WHO", "ACTION", "TARGET", "REASON"}, func() [][]string {
		var rows [][]string
		for _, a := range out.Entries {
			rows = append(rows, []string{ts(a.At), a.Who, a.Action, a.Target, cut(a.Reason, 60)})
		}
		return rows
	})
}

// Apply makes the cluster match the file at path ("-" for stdin). With
// dryRun it only prints the plan.
func (e Env) Apply(ctx context.Context, path string, prune, dryRun bool) error {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	f, err := apply.ParseFile(path, b)
	if err != nil {
		return &client.Error{Status: http.StatusBadRequest, Code: "invalid_file", Message: fmt.Sprintf("%s: %v", path, err)}
	}
	plan, err := apply.MakePlan(ctx, e.Client, f, prune)
	if errors.Is(err, apply.ErrInvalid) {
		return &client.Error{Status: http.StatusBadRequest, Code: "invalid_file", Message: fmt.Sprintf("%s: %v; nothing was changed", path, err)}
	}
	if err != nil {
		return err
	}
	if dryRun {
		return e.report(plan.Actions, plan, true)
	}
	executed, err := apply.Execute(ctx, e.Client, plan, e.Reason)
	// Report in the plan's order what was done and what needed nothing.
	did := map[string]bool{}
	for _, a := range executed {
		did[a.Object+" "+a.Name] = true
	}
	var done []apply.Action
	for _, a := range plan.Actions {
		if a.Kind == apply.Unchanged || did[a.Object+" "+a.Name] {
			done = append(done, a)
		}
	}
	if rerr := e.report(done, apply.Plan{Actions: done}, false); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

func (e Env) report(actions []apply.Action, plan apply.Plan, dryRun bool) error {
	if e.JSON {
		return e.printJSON(map[string]any{"dry_run": dryRun, "actions": actions, "counts": plan.Counts()})
	}
	for _, a := range actions {
		fmt.Fprintln(e.Out, a.String())
	}
	c := plan.Counts()
	format := "applied: %d created, %d updated, %d deleted, %d unchanged\n"
	if dryRun {
		format = "dry run: %d to create, %d to update, %d to delete, %d unchanged\n"
	}
	_, err := fmt.Fprintf(e.Out, format, c[apply.Create], c[apply.Update], c[apply.Delete], c[apply.Unchanged])
	return err
}

// ErrUsage marks a command-line mistake.
var ErrUsage = errors.New("usage")
