package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestPythonWorker runs the Python worker library's own tests
// (clients/python, unittest, standard library only) against a real `pink
// dev`: results with output, a worker killed mid-run (lost, retried on
// another worker, its late result refused), a drain that moves unstarted
// runs at once.
func TestPythonWorker(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is not installed: run make test, which installs it (Debian package python3)")
	}
	base, _ := startConsoleDev(t)
	dir, err := filepath.Abs("../clients/python")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-m", "unittest", "-v", "test_pink_worker")
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "PINK_SERVER="+base, "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	t.Logf("python3 -m unittest test_pink_worker:\n%s", out)
	if err != nil {
		t.Fatalf("the Python worker's tests failed: %v", err)
	}
}

// TestPythonReadmeExample runs clients/python/README.md's example as
// written against a real `pink dev` (only the address differs): its
// jobs.yaml through `pink apply`, its worker as a Python process; the job's
// runs appear with the worker's output in `pink runs list` and on the job's
// page in the console, and SIGTERM drains the worker.
func TestPythonReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../clients/python/README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- example:start -->\\s*```python\\n(.*?)```.*?```yaml\\n(.*?)```\\s*<!-- example:end -->").FindSubmatch(readme)
	if m == nil {
		t.Fatal("clients/python/README.md has no example between its markers")
	}
	base, _ := startConsoleDev(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "jobs.yaml"), m[2], 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PINK_SERVER=" + base}
	if code, out, errOut := pinkCLI(t, env, "apply", "-f", filepath.Join(dir, "jobs.yaml")); code != 0 {
		t.Fatalf("pink apply: exit %d\n%s%s", code, out, errOut)
	}
	lib, err := filepath.Abs("../clients/python")
	if err != nil {
		t.Fatal(err)
	}
	py := pinktest.StartCommand(t, "python worker", "python3", []string{"PYTHONPATH=" + lib, "PYTHONDONTWRITEBYTECODE=1"},
		"-c", strings.ReplaceAll(string(m[1]), "http://127.0.0.1:8080", base))
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := pinkCLI(t, env, "runs", "list", "--job", "invoices", "-o", "json")
		return strings.Contains(out, `"output": "sent batch 7"`) && strings.Contains(out, `"status": "succeeded"`), "runs of invoices:\n" + out
	})
	// And in the console: the job's page lists the runs with the output.
	b := newBrowser(t, base)
	b.open("/ui/jobs/invoices")
	b.waitJS(`document.querySelectorAll('button[data-run]').length >= 1`, "the runs of invoices")
	b.clickLive("button[data-run]")
	b.waitText("#run-panel pre.output", "sent batch 7")
	py.Stop(30 * time.Second) // fails the test unless it drains and exits 0 within 30 s of SIGTERM
}
