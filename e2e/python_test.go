package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
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
