package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// readmeBlock returns the submatches of pattern in the README: the blocks
// of it that the tests run as written.
func readmeBlock(t *testing.T, what, pattern string) [][]byte {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(pattern).FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README has no %s block between its markers", what)
	}
	return m
}

// TestReadmeTour runs the README's curl tour, as written, against a real
// `pink dev` (only the port differs), so the tour cannot rot.
func TestReadmeTour(t *testing.T) {
	m := readmeBlock(t, "tour", "(?s)<!-- tour:start -->\\s*```sh\\n(.*?)```\\s*<!-- tour:end -->")
	listen := pinktest.FreeAddr(t)
	port := listen[strings.LastIndexByte(listen, ':')+1:]
	script := strings.NewReplacer("localhost:8080", "localhost:"+port, "127.0.0.1:8080", "127.0.0.1:"+port).Replace(string(m[1]))
	// The tour lets a reader wait with sleep before looking at runs; the
	// test instead repeats that look until a run is there (or 20 s pass),
	// so a slow machine cannot fail it and a fast one does not wait.
	waits := regexp.MustCompile(`(?m)^sleep \d+\n(curl [^\n]+)\n`)
	if n := len(waits.FindAllString(script, -1)); n != 2 {
		t.Fatalf("tour has %d sleep-then-look steps, the test knows 2", n)
	}
	script = waits.ReplaceAllString(script, `for i in $$(seq 200); do out=$$($1); case $$out in *'"status"'*) break;; esac; sleep 0.1; done; echo "$$out"`+"\n")

	dev := startDev(t, t.TempDir(), listen)
	defer dev.Stop(30 * time.Second)
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		`"name":"hello"`, `"output": "hello\n"`, `"status": "succeeded"`, `"next_fires":[`,
		`"snapshot_id":"report@`, `"trigger": "manual"`, `"paused":true`, `"leader": true`,
		`"group":"default"`, `pink_fires_total{group="default",job_name="hello",trigger="cron"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("tour output lacks %s", want)
		}
	}
	if regexp.MustCompile(`"error":\s*\{`).MatchString(text) {
		t.Errorf("a tour step answered with an error")
	}
	if t.Failed() {
		t.Logf("tour output:\n%s", text)
	}
}

// TestReadmeConsole follows the README as a new user would: the tour,
// then http://127.0.0.1:8080/ in a browser. The overview shows, the tour's
// jobs are in the jobs list, a job's runs and their output appear on its
// page without a reload, and trigger, pause and resume work from there.
func TestReadmeConsole(t *testing.T) {
	base, api := startConsoleDev(t)
	addr := strings.TrimPrefix(base, "http://")
	// The tour's first and third jobs, then its pause of hello.
	api.JSON(t, "POST", "/api/v1/jobs", `{"name": "hello", "group": "default", "schedule": "* * * * * *",
		"target": "shell", "params": {"command": ["echo", "hello"]}}`, 201, nil)
	api.JSON(t, "POST", "/api/v1/jobs", `{"name": "report", "group": "default", "schedule": "0 9 * * 1-5", "timezone": "Europe/Berlin",
		"target": "http", "params": {"url": "http://`+addr+`/healthz"}}`, 201, nil)
	api.JSON(t, "POST", "/api/v1/jobs/hello/pause", nil, 200, nil)

	b := newBrowser(t, base)
	b.open("/")
	b.waitText("main h1", "Overview")
	b.clickText("#nav a", "Jobs")
	b.waitText("table.jobs", "hello")
	b.waitText("table.jobs", "report")
	b.waitText("table.jobs", "every weekday at 09:00, Europe/Berlin")
	b.screenshot("jobs")

	b.clickText("table.jobs a", "hello")
	b.waitText("main h1", "hello")
	eval[bool](b, `window.__noReload = true`)
	b.clickText("button", "Resume")
	b.waitText("#banner", "Resumed hello")
	b.waitJS(`document.querySelectorAll('button[data-run]').length >= 2`, "hello's runs, live")
	b.clickLive("button[data-run]")
	b.waitText("#run-panel pre.output", "hello")
	b.clickText("summary", "Pause…")
	b.typeInto("details.action input[name=reason]", "enough hellos")
	b.clickText("details.action button", "Pause")
	b.waitText(".note", "enough hellos")

	b.open("/ui/jobs/report")
	eval[bool](b, `window.__noReload = true`)
	b.clickText("button", "Trigger now")
	b.waitText("#banner", "Triggered report")
	b.waitJS(`document.querySelectorAll('button[data-run]').length >= 1`, "report's triggered run, live")
	b.clickLive("button[data-run]")
	b.waitText("#run-panel", "manual")
	b.waitText("#run-panel pre.output", `"status":"ok"`)
	if !eval[bool](b, `window.__noReload === true`) {
		t.Error("the job page reloaded")
	}
}

// TestReadmeCLI runs the README's CLI section as written, against a real
// `pink dev` (only the port differs): its jobs.yaml, then every command,
// each of which must succeed and print what its comment says.
func TestReadmeCLI(t *testing.T) {
	m := readmeBlock(t, "CLI (yaml, then sh)", "(?s)<!-- cli:start -->\\s*```yaml\\n(.*?)```\\s*```sh\\n(.*?)```\\s*<!-- cli:end -->")
	base, _ := startConsoleDev(t)
	port := base[strings.LastIndexByte(base, ':')+1:]
	local := strings.NewReplacer("127.0.0.1:8080", "127.0.0.1:"+port)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "jobs.yaml"), []byte(local.Replace(string(m[1]))), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Dir(pinktest.Binary(t))
	var script strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(local.Replace(string(m[2]))), "\n") {
		cmd, _, _ := strings.Cut(line, "  # ")
		fmt.Fprintf(&script, "echo '$ %s'\n%s\n", strings.ReplaceAll(cmd, "'", ""), cmd)
	}
	sh := exec.Command("bash", "-euo", "pipefail", "-c", script.String())
	sh.Dir = dir
	sh.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's CLI section failed: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"~ group default", "+ job nightly-report", "applied: 0 created, 0 updated, 0 deleted, 2 unchanged",
		"nightly-report", "+01:00", "triggered job nightly-report", "paused job nightly-report until",
		"backfill", "3 fires", "job.pause", "nightly-report@", "pending", "Next fires:", "Last runs:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the CLI section's output lacks %q", want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "all-jobs.yaml")); err != nil || !strings.Contains(string(b), "jobs:\n  - name: nightly-report\n") {
		t.Errorf("all-jobs.yaml: %v\n%s", err, b)
	}
	if t.Failed() {
		t.Logf("output:\n%s", text)
	}
}
