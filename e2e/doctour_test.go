package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// tourBlock is a shell block of the docs marked as a tour: the HTML
// comment <!-- tour --> right before it.
var tourBlock = regexp.MustCompile("(?s)<!-- tour -->\\s*```sh\\n(.*?)```")

// devLine is the line of a tour that starts pink dev, with the variables
// it sets.
var devLine = regexp.MustCompile(`(?m)^((?:[A-Z_]+=\S+ )*)(?:go run \./cmd/pink|pink) dev\s*$`)

// TestDocTours runs every shell block of README.md and docs/*.md marked
// <!-- tour --> as written, against a real pink dev: the tour's own
// "pink dev" line (with its environment) starts it on free ports, every
// other line runs in bash -euo pipefail, so a failing command or a grep
// that finds nothing fails the tour. Only the address differs from what
// a reader types.
func TestDocTours(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range append(files, "../README.md") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range tourBlock.FindAllSubmatch(b, -1) {
			n++
			script := string(m[1])
			t.Run(filepath.Base(f)+"#"+string(rune('1'+i)), func(t *testing.T) { runTour(t, script) })
		}
	}
	if n == 0 {
		t.Fatal("no tour in the docs: the trace walk-through of docs/observability.md is one")
	}
}

func runTour(t *testing.T, script string) {
	m := devLine.FindStringSubmatch(script)
	if m == nil {
		t.Fatalf("the tour does not start pink dev (a line '[VAR=value ...] go run ./cmd/pink dev'):\n%s", script)
	}
	env := strings.Fields(m[1])
	p := pinktest.StartProcess(t, "pink dev", env, "dev", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--etcd-listen", "127.0.0.1:0")
	addr := p.DevAddr()
	p.WaitOutput("pink dev is running", 60*time.Second)
	bin := pinktest.Binary(t)
	script = strings.Replace(script, m[0], "", 1)
	script = strings.NewReplacer("localhost:8080", addr, "127.0.0.1:8080", addr, "go run ./cmd/pink ", bin+" ").Replace(script)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	sh.Dir = t.TempDir()
	sh.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "PINK_SERVER=http://"+addr, "XDG_CONFIG_HOME="+t.TempDir())
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s\n--- script:\n%s", err, out, script)
	}
	if strings.Contains(string(out), `"error":{`) {
		t.Errorf("a tour step answered with an error:\n%s", out)
	}
}
