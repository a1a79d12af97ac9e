package api_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// An upgrade to crontab(5)'s day rule moves no job silently: the jobs
// written before it whose fires moved are listed with their old and new
// next fires and a schedule that keeps the old ones, and leave the list
// once written again.
func TestScheduleChanges(t *testing.T) {
	ctx := context.Background()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	if err := st.CreateGroup(ctx, cluster.Group{Name: "default"}); err != nil {
		t.Fatal(err)
	}
	create := func(name, schedule string) {
		t.Helper()
		spec := job.Spec{Name: name, Group: "default", Schedule: schedule, Target: "noop"}
		spec.ApplyDefaults()
		if _, err := st.CreateJob(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	// Written by an earlier pink (the store does not validate, as an
	// earlier version's API did not refuse */61).
	create("biweekly-monday", "0 0 */2 * 1")     // old: odd dates or Mondays; now Mondays on odd dates
	create("mondays", "0 0 * * 1")               // unchanged
	create("first-or-monday", "0 0 1,15 * 1")    // OR both times: unchanged
	create("hourly-by-accident", "*/61 * * * *") // fires as before; refused for new jobs
	since, err := st.CronRulesSince(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := st.CronRulesSince(ctx); err != nil || again != since {
		t.Fatalf("CronRulesSince again = %d, %v; want %d: the mark is written once", again, err, since)
	}
	create("new-biweekly", "0 0 */2 * 1") // written under the new rules: nothing to report

	srv := httptest.NewServer(api.New(api.Config{Store: st, CronRulesSince: func() int64 { return since }, Now: func() time.Time { return now }}))
	t.Cleanup(srv.Close)
	c := pinktest.NewAPI(strings.TrimPrefix(srv.URL, "http://"))

	_, body := c.Do(t, "GET", "/api/v1/schedules/changes", nil)
	golden(t, "schedule_changes.json", body)

	// One entry a page: the cursor carries on to the second.
	var page struct {
		Jobs []struct {
			Job string `json:"job"`
		} `json:"jobs"`
		Next string `json:"next_cursor"`
	}
	c.JSON(t, "GET", "/api/v1/schedules/changes?limit=1", nil, 200, &page)
	if len(page.Jobs) != 1 || page.Jobs[0].Job != "biweekly-monday" || page.Next == "" {
		t.Fatalf("first page = %+v", page)
	}
	c.JSON(t, "GET", "/api/v1/schedules/changes?limit=1&cursor="+page.Next, nil, 200, &page)
	if len(page.Jobs) != 1 || page.Jobs[0].Job != "hourly-by-accident" || page.Next != "" {
		t.Fatalf("second page = %+v", page)
	}
	c.JSON(t, "GET", "/api/v1/schedules/changes?cursor=bogus", nil, 400, nil)

	// The job's own view says so too; a job written since does not.
	var view struct {
		Change *struct {
			OldNext time.Time `json:"old_next"`
			NewNext time.Time `json:"new_next"`
			KeepOld string    `json:"keep_old_schedule"`
		} `json:"schedule_change"`
	}
	c.JSON(t, "GET", "/api/v1/jobs/biweekly-monday", nil, 200, &view)
	if view.Change == nil || view.Change.OldNext.Format(time.DateOnly) != "2026-11-27" ||
		view.Change.NewNext.Format(time.DateOnly) != "2026-12-07" || view.Change.KeepOld != "0 0 1-31/2 * 1" {
		t.Fatalf("biweekly-monday's schedule_change = %+v", view.Change)
	}
	view.Change = nil
	c.JSON(t, "GET", "/api/v1/jobs/new-biweekly", nil, 200, &view)
	if view.Change != nil {
		t.Fatalf("new-biweekly has a schedule_change: %+v", view.Change)
	}

	// Writing the job again (here: what GET returned, unchanged) accepts
	// today's meaning; it leaves the list.
	_, job := c.Do(t, "GET", "/api/v1/jobs/biweekly-monday", nil)
	c.JSON(t, "PUT", "/api/v1/jobs/biweekly-monday", string(job), 200, nil)
	c.JSON(t, "GET", "/api/v1/schedules/changes", nil, 200, &page)
	if len(page.Jobs) != 1 || page.Jobs[0].Job != "hourly-by-accident" {
		t.Fatalf("after the rewrite: %+v", page)
	}
	// A new job may not use the refused form.
	c.JSON(t, "POST", "/api/v1/jobs", `{"name":"x","group":"default","schedule":"*/61 * * * *","target":"noop"}`, 400, nil)
}
