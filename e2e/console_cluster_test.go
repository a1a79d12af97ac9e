package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// The payloads a job's fields and a run's output carry in
// TestConsoleClusterRolesAndPayloads: if any executed, it would set
// window.__xss.
const (
	xssImg    = `<img src=x onerror="window.__xss='img'">`
	xssScript = `</script><script>window.__xss='script'</script>`
)

// TestConsoleClusterRolesAndPayloads: the console of a 3-scheduler
// cluster with tokens, opened on a node that need not lead. It asks for a
// token; a viewer reads jobs and runs but has no control that changes
// anything, and a request forged from its session is refused; an operator
// triggers and pauses; an admin deletes after typing the name. Markup in a
// job's description, labels, params, pause reason and run output shows as
// text and never runs.
func TestConsoleClusterRolesAndPayloads(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	roles := map[string]string{"viewer": "v-console-secret", "operator": "o-console-secret", "admin": "a-console-secret"}
	tokens := writeTokens(t, roles)
	var addrs []string
	for _, id := range []string{"s1", "s2", "s3"} {
		p := pinktest.StartProcess(t, "scheduler "+id, nil, "scheduler", "--etcd-endpoints", strings.Join(etcd.Endpoints, ","),
			"--listen", "127.0.0.1:0", "--node-id", id, "--session-ttl", "2s", "--api-tokens-file", tokens,
			"--console-trace-url", "https://traces.example/trace/{trace_id}")
		addrs = append(addrs, p.SchedulerAddr())
	}
	pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1")
	admin := pinktest.NewAPI(addrs[0]).As(roles["admin"])
	pinktest.Eventually(t, 30*1e9, func() (bool, string) {
		status, _, err := admin.TryDo("GET", "/readyz", nil)
		return err == nil && status == http.StatusOK, fmt.Sprintf("readyz %d %v", status, err)
	})
	admin.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "payloads", "group": "default", "schedule": "*/2 * * * * *",
		"target": "shell", "description": "desc " + xssImg + xssScript, "labels": map[string]string{"note": xssImg},
		"params": map[string]any{"command": []string{"sh", "-c", "printf '%s\\n' \"$0\" \"$1\"", xssImg, xssScript}}}, http.StatusCreated, nil)
	waitRunsOf(t, admin, "payloads", 1)

	b := newBrowser(t, "http://"+addrs[1])
	b.open("/ui/jobs/payloads")
	b.waitText("main h1", "Sign in")
	if loc := eval[string](b, `location.pathname + location.search`); loc != "/ui/login?next=%2Fui%2Fjobs%2Fpayloads" {
		t.Errorf("sent to %s", loc)
	}
	b.typeInto("input[name=token]", "not-a-token")
	b.click("form button[type=submit]")
	b.waitText(".field-error", "That token is not valid")
	b.screenshot("login")

	// Each page is a new document: check on each one that shows payloads.
	noScriptRan := func(where string) {
		t.Helper()
		if v := eval[string](b, `String(window.__xss) + ' ' + document.querySelectorAll('main img, main script').length`); v != "undefined 0" {
			t.Errorf("%s: a payload became markup or ran (window.__xss, img+script elements: %s)", where, v)
		}
	}
	signIn := func(role string) {
		t.Helper()
		b.open("/ui/login?next=%2Fui%2Fjobs%2Fpayloads")
		b.typeInto("input[name=token]", roles[role])
		b.click("form button[type=submit]")
		b.waitText("main h1", "payloads")
		b.waitText("#who", role+"-bot · "+role)
	}

	// A viewer: everything reads, nothing changes.
	signIn("viewer")
	b.waitJS(`document.querySelectorAll('button[data-run]').length >= 1`, "runs on the job page")
	b.clickLive("button[data-run]")
	b.waitText("#run-panel pre.output", xssImg)
	b.waitText("#run-panel pre.output", xssScript)
	b.waitText("main", "desc "+xssImg+xssScript)
	noScriptRan("job page with a run's output")
	main := b.text("main")
	for _, control := range []string{"Trigger now", "Pause…", "Backfill…", "Edit", "Delete…"} {
		if strings.Contains(main, control) {
			t.Errorf("a viewer sees %q on the job page", control)
		}
	}
	if !strings.Contains(main, "Your role (viewer) can read this job but not change it.") {
		t.Error("the job page does not say the viewer's role is read-only")
	}
	status := eval[int](b, `fetch('/api/v1/jobs/payloads/pause', {method: 'POST', headers: {Authorization: 'Bearer ' + sessionStorage.getItem('pink.token')}}).then((r) => r.status)`)
	if status != http.StatusForbidden {
		t.Errorf("a viewer's forged pause answered %d, want 403", status)
	}
	var job struct {
		Paused bool `json:"paused"`
	}
	admin.JSON(t, "GET", "/api/v1/jobs/payloads", nil, http.StatusOK, &job)
	if job.Paused {
		t.Error("the viewer's forged request paused the job")
	}
	for _, p := range []string{"/ui/jobs", "/ui/snapshots", "/ui/workers", "/ui/jobs/new"} {
		b.open(p)
		controls := eval[[]string](b, `[...document.querySelectorAll('main button, main a.button, main input, main textarea, main select')].map((e) => e.textContent || e.name)`)
		for _, c := range controls {
			switch c {
			case "New job", "Evict", "Create job", "Cancel", "name", "schedule":
				t.Errorf("a viewer has the control %q on %s", c, p)
			}
		}
	}
	b.open("/ui/jobs")
	b.waitText("main", "desc "+xssImg)
	noScriptRan("jobs list")
	b.open("/ui/runs")
	b.waitText("main", "payloads")
	b.open("/ui/runs/" + waitRunsOf(t, admin, "payloads", 1)[0].ID)
	b.waitText("pre.output", xssScript)
	noScriptRan("run page")

	// An operator: trigger and pause (with markup in the reason); no edit.
	b.clickText("button", "Sign out")
	b.waitText("main h1", "Sign in")
	signIn("operator")
	if strings.Contains(b.text("main"), "Delete…") || strings.Contains(b.text("main"), "Edit") {
		t.Error("an operator sees admin controls")
	}
	b.clickText("button", "Trigger now")
	b.waitText("#banner", "Triggered payloads")
	b.clickText("summary", "Pause…")
	b.typeInto("details.action input[name=reason]", "paused "+xssImg)
	b.clickText("details.action button", "Pause")
	b.waitText(".note", "paused "+xssImg)
	b.waitText(".note", "paused "+xssImg)
	noScriptRan("paused job page")
	b.open("/ui/audit")
	b.waitText("main", "paused "+xssImg)
	noScriptRan("audit")

	// An admin deletes, after typing the name.
	b.clickText("button", "Sign out")
	signIn("admin")
	b.clickText("summary", "Delete…")
	if !eval[bool](b, `[...document.querySelectorAll('details.action button')].find((e) => e.textContent.startsWith('Delete')).disabled`) {
		t.Error("Delete is enabled before the name is typed")
	}
	b.typeInto("details.action input[name=confirm]", "payload") // not the name yet
	if !eval[bool](b, `[...document.querySelectorAll('details.action button')].find((e) => e.textContent.startsWith('Delete')).disabled`) {
		t.Error("Delete is enabled with a wrong name")
	}
	b.typeInto("details.action input[name=confirm]", "payloads")
	b.clickText("details.action button", "Delete payloads")
	b.waitText("#banner", "Deleted payloads")
	if status, _ := admin.Do(t, "GET", "/api/v1/jobs/payloads", nil); status != http.StatusNotFound {
		t.Errorf("after delete the job answers %d", status)
	}

	noScriptRan("jobs list after the delete")
}
