package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// startConsoleDev runs `pink dev` on a port of its own and returns the
// base URL of its console and a client of its API.
func startConsoleDev(t *testing.T) (string, *pinktest.API) {
	t.Helper()
	return startConsoleDevArgs(t)
}

// startConsoleDevArgs is startConsoleDev with more flags of pink dev.
func startConsoleDevArgs(t testing.TB, extra ...string) (string, *pinktest.API) {
	t.Helper()
	args := append([]string{"dev", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0",
		"--etcd-listen", "127.0.0.1:0", "--session-ttl", "2s", "--cluster-name", "e2e-dev", "--console-grafana-url", "https://grafana.example/d/pink-job?var-job={job}"}, extra...)
	p := pinktest.StartProcess(t, "pink dev", nil, args...)
	addr := p.DevAddr()
	p.WaitOutput("pink dev is running", 60*time.Second)
	return "http://" + addr, pinktest.NewAPI(addr)
}

// TestConsoleDev walks the console of `pink dev` as a new user would: the
// overview at /, a job created in the form (a bad schedule's error next to
// its field, the preview of the next fires), its runs appearing without a
// reload, one run's output, trigger, pause with a reason, resume, and a
// pending snapshot canceled in a group with no worker.
func TestConsoleDev(t *testing.T) {
	base, api := startConsoleDev(t)
	b := newBrowser(t, base)

	b.open("/")
	if loc := eval[string](b, `location.pathname`); loc != "/ui/" {
		t.Errorf("/ led to %s, want /ui/", loc)
	}
	b.waitText("main h1", "Overview")
	b.waitText(".tile", "Leader")
	b.screenshot("overview-empty")

	// A new job through the form.
	b.open("/ui/jobs")
	b.clickText("a.button", "New job")
	b.waitText("main h1", "New job")
	b.typeInto("input[name=name]", "console-hello")
	b.typeInto("input[name=schedule]", "61 * * * *")
	b.waitText(".field[data-field=schedule] .field-error", "minute field")
	if preview := b.text("#schedule-preview"); preview != "" {
		t.Errorf("a bad schedule still shows a preview: %q", preview)
	}
	b.typeInto("input[name=schedule]", "*/2 * * * * *")
	b.waitJS(`document.querySelectorAll('#schedule-preview li').length === 5`, "five next fires in the preview")
	if e := b.text(".field[data-field=schedule] .field-error"); e != "" {
		t.Errorf("a good schedule keeps the error %q", e)
	}
	b.typeInto("input[name=target]", "shell")
	b.typeInto("textarea[name=params]", `{"command": ["sh", "-c", "echo hello from the console"]}`)
	b.typeInto("textarea[name=description]", "made in the browser")
	b.screenshot("job-form")
	b.click("form.job-form button[type=submit]")
	b.waitText("main h1", "console-hello")
	if loc := eval[string](b, `location.pathname`); loc != "/ui/jobs/console-hello" {
		t.Errorf("after create: %s", loc)
	}
	var created struct {
		Schedule, Target, Description string
	}
	api.JSON(t, "GET", "/api/v1/jobs/console-hello", nil, http.StatusOK, &created)
	if created.Schedule != "*/2 * * * * *" || created.Target != "shell" || created.Description != "made in the browser" {
		t.Errorf("stored job: %+v", created)
	}

	// Runs appear live: the page is never reloaded (the marker survives).
	eval[bool](b, `window.__noReload = true`)
	b.waitJS(`document.querySelectorAll('button[data-run]').length >= 2`, "two runs on the job page without a reload")
	if !eval[bool](b, `window.__noReload === true`) {
		t.Fatal("the page reloaded")
	}
	b.clickLive("button[data-run]")
	b.waitText("#run-panel pre.output", "hello from the console")
	b.screenshot("job")

	// Trigger, pause with a reason, resume.
	b.clickText("button", "Trigger now")
	b.waitText("#banner", "Triggered console-hello")
	b.waitJS(`[...document.querySelectorAll('#run-panel ~ *, table td')].some((td) => td.textContent === 'manual')`, "a manual run in the runs table")
	b.clickText("summary", "Pause…")
	b.typeInto("details.action input[name=reason]", "maintenance window")
	b.clickText("details.action button", "Pause")
	b.waitText(".note", "maintenance window")
	var paused struct {
		Paused      bool   `json:"paused"`
		PauseReason string `json:"pause_reason"`
	}
	api.JSON(t, "GET", "/api/v1/jobs/console-hello", nil, http.StatusOK, &paused)
	if !paused.Paused || paused.PauseReason != "maintenance window" {
		t.Errorf("after pause: %+v", paused)
	}
	b.clickText("button", "Resume")
	b.waitText("#banner", "Resumed console-hello")
	api.JSON(t, "GET", "/api/v1/jobs/console-hello", nil, http.StatusOK, &paused)
	if paused.Paused {
		t.Error("still paused after Resume")
	}
	if href := eval[string](b, `[...document.querySelectorAll('a')].find((a) => a.textContent.includes('Grafana')).href`); href != "https://grafana.example/d/pink-job?var-job=console-hello" {
		t.Errorf("Grafana link %q", href)
	}

	// A pending snapshot in a group with no worker, canceled from the page.
	api.JSON(t, "POST", "/api/v1/groups", map[string]any{"name": "nobody"}, http.StatusCreated, nil)
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "stranded", "group": "nobody", "schedule": "@yearly",
		"target": "http", "params": map[string]any{"url": "https://example.com/"}}, http.StatusCreated, nil)
	var trig struct {
		SnapshotID string `json:"snapshot_id"`
	}
	api.JSON(t, "POST", "/api/v1/jobs/stranded/trigger", nil, http.StatusAccepted, &trig)
	b.open("/ui/snapshots")
	b.waitText("table td", trig.SnapshotID)
	b.waitText("table td .pending-reason", `no live worker in group "nobody"`)
	b.screenshot("snapshots")
	b.clickText("button", "Cancel")
	b.waitText("#banner", "Canceled "+trig.SnapshotID)
	// console-hello's fires written ahead stay listed; the canceled one goes.
	b.waitJS(fmt.Sprintf(`!document.querySelector("main").textContent.includes(%q)`, trig.SnapshotID), "the canceled snapshot gone from the page")
	status, _ := api.Do(t, "GET", "/api/v1/snapshots/"+trig.SnapshotID, nil)
	if status != http.StatusNotFound {
		t.Errorf("the canceled snapshot answers %d, want 404", status)
	}
	b.open("/ui/runs?status=canceled")
	b.waitText("table td", "stranded")

	// The other pages render their data.
	for _, tc := range []struct{ path, heading, want string }{
		{"/ui/jobs?q=hello", "Jobs", "console-hello"},
		{"/ui/runs", "Runs", "console-hello"},
		{"/ui/workers", "Workers", "default"},
		{"/ui/schedulers", "Schedulers", "Leader"},
		{"/ui/audit", "Audit", "job.pause"},
		{"/ui/jobs/console-hello/edit", "Edit console-hello", "Save"},
	} {
		b.open(tc.path)
		b.waitText("main h1", tc.heading)
		b.waitText("main", tc.want)
	}
	b.open("/ui/jobs/console-hello")
	b.waitText("main", "Next fires")
	b.screenshot("job-page")
	b.open("/ui/")
	b.waitJS(`document.querySelector('svg.chart rect') !== null`, "the runs chart")
	b.screenshot("overview")
	b.open("/ui/jobs/no-such-job")
	b.waitText("main h1", "Not found")
}

// TestConsolePhoneWidth: at 390 px (a phone) no page scrolls sideways.
func TestConsolePhoneWidth(t *testing.T) {
	base, api := startConsoleDev(t)
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "a-job-with-a-rather-long-name-for-a-phone", "group": "default",
		"schedule": "*/5 * * * * *", "target": "shell", "params": map[string]any{"command": []string{"echo", strings.Repeat("wide-output-", 40)}},
		"description": "its description is long too: " + strings.Repeat("words ", 30)}, http.StatusCreated, nil)
	waitRunsOf(t, api, "a-job-with-a-rather-long-name-for-a-phone", 1)
	b := newBrowser(t, base)
	b.do(emulatePhone()...)
	for _, p := range []string{"/ui/", "/ui/jobs", "/ui/jobs/a-job-with-a-rather-long-name-for-a-phone", "/ui/runs", "/ui/snapshots",
		"/ui/workers", "/ui/schedulers", "/ui/audit", "/ui/jobs/new"} {
		b.open(p)

		b.noHorizontalScroll(p)
	}
	b.open("/ui/jobs/a-job-with-a-rather-long-name-for-a-phone")
	b.clickLive("button[data-run]")
	b.waitText("#run-panel pre.output", "wide-output-")
	b.noHorizontalScroll("a run's output")
	b.screenshot("phone-job")
}
