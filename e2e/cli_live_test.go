package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// cliDev starts pink dev with three jobs for the CLI tests: hello (every
// second, succeeds), slow (yearly; a manual run prints start, waits,
// prints done) and stuck (in group batch, which has no worker).
func cliDev(t *testing.T) ([]string, *pinktest.API) {
	t.Helper()
	base, api := startConsoleDev(t)
	api.JSON(t, "POST", "/api/v1/groups", map[string]any{"name": "batch"}, 201, nil)
	for _, j := range []map[string]any{
		{"name": "hello", "group": "default", "schedule": "* * * * * *", "target": "shell",
			"params": map[string]any{"command": []string{"echo", "hi"}}, "labels": map[string]string{"team": "sre"}},
		{"name": "slow", "group": "default", "schedule": "@yearly", "target": "shell",
			"params": map[string]any{"command": []string{"sh", "-c", "echo start; sleep 1; echo done"}}},
		{"name": "stuck", "group": "batch", "schedule": "@yearly", "target": "http",
			"params": map[string]any{"url": "http://127.0.0.1:1/"}},
	} {
		api.JSON(t, "POST", "/api/v1/jobs", j, 201, nil)
	}
	waitRunsOf(t, api, "hello", 1)
	return []string{"PINK_SERVER=" + base}, api
}

// TestCLIOutputs: every read command prints -o table, wide, json, yaml
// and name; jobs list shows the last run, the next fire and the paused
// state with relative ages; -o yaml of the jobs is a file apply takes.
func TestCLIOutputs(t *testing.T) {
	env, api := cliDev(t)
	api.JSON(t, "POST", "/api/v1/jobs/slow/pause", map[string]any{"reason": "quiet please", "until": "1h"}, 200, nil)
	run := waitRunsOf(t, api, "hello", 1)[0]
	reads := [][]string{
		{"jobs", "list"}, {"jobs", "get", "hello"}, {"jobs", "describe", "hello"}, {"jobs", "preview", "hello", "-n", "2"},
		{"groups", "list"}, {"groups", "get", "default"}, {"runs", "list"}, {"runs", "get", run.ID},
		{"runs", "list", "--status", "pending"}, {"snapshots", "list"}, {"nodes", "list"}, {"audit", "list"},
		{"schedule", "validate", "@daily", "-n", "2"}, {"schedule", "changes"}, {"version"},
	}
	name := regexp.MustCompile(`^[a-z]+/\S+$`)
	for _, args := range reads {
		cmd := strings.Join(args, " ")
		outputs := map[string]string{}
		for _, o := range []string{"table", "wide", "json", "yaml", "name"} {
			code, out, errOut := pinkCLI(t, env, append(args, "-o", o)...)
			if code != 0 || errOut != "" {
				t.Errorf("pink %s -o %s: exit %d\n%s%s", cmd, o, code, out, errOut)
			}
			outputs[o] = out
		}
		var v any
		if err := json.Unmarshal([]byte(outputs["json"]), &v); err != nil {
			t.Errorf("pink %s -o json: %v\n%s", cmd, err, outputs["json"])
		}
		if err := yaml.Unmarshal([]byte(outputs["yaml"]), &v); err != nil || v == nil {
			t.Errorf("pink %s -o yaml: %v\n%s", cmd, err, outputs["yaml"])
		}
		for _, line := range strings.Split(strings.TrimSpace(outputs["name"]), "\n") {
			if line != "" && !name.MatchString(line) {
				t.Errorf("pink %s -o name: line %q is not kind/name", cmd, line)
			}
		}
		if len(outputs["wide"]) < len(outputs["table"]) {
			t.Errorf("pink %s -o wide is shorter than -o table", cmd)
		}
	}

	// -o json is the API's answer as it came (times in UTC with
	// milliseconds, each duration with its _seconds twin).
	for _, c := range []struct {
		path string
		args []string
	}{
		{"/api/v1/runs/" + run.ID, []string{"runs", "get", run.ID}},
		{"/api/v1/jobs/hello", []string{"jobs", "get", "hello"}},
	} {
		// hello fires every second, so its answer changes between two
		// reads: compare the CLI with the API's answer only when the API
		// gave the same answer just before and just after it.
		var want []byte
		var got string
		for try := 0; try < 20; try++ {
			_, before := api.Do(t, "GET", c.path, nil)
			_, got, _ = pinkCLI(t, env, append(c.args, "-o", "json")...)
			_, after := api.Do(t, "GET", c.path, nil)
			if want = before; bytes.Equal(before, after) {
				break
			}
		}
		var w, g any
		if json.Unmarshal(want, &w) != nil || json.Unmarshal([]byte(got), &g) != nil || fmt.Sprint(w) != fmt.Sprint(g) {
			t.Errorf("pink %s -o json is not the API's answer:\n%s\nwant\n%s", strings.Join(c.args, " "), got, want)
		}
		if !regexp.MustCompile(`"scheduled_at": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"|"created_at": "[^"]+\.\d{3}Z"`).MatchString(got) {
			t.Errorf("pink %s -o json: no time in the API's format:\n%s", strings.Join(c.args, " "), got)
		}
	}
	// A job of three shards triggers three snapshots, each named.
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "sharded", "group": "batch", "schedule": "@yearly", "target": "http",
		"params": map[string]any{"url": "http://127.0.0.1:1/"}, "shards": 3}, 201, nil)
	if code, out, _ := pinkCLI(t, env, "jobs", "trigger", "sharded", "-o", "name"); code != 0 ||
		!regexp.MustCompile(`^snapshot/sharded@\S+\.s000\nsnapshot/sharded@\S+\.s001\nsnapshot/sharded@\S+\.s002\n$`).MatchString(out) {
		t.Errorf("jobs trigger of a sharded job -o name: exit %d\n%s", code, out)
	}
	api.Do(t, "DELETE", "/api/v1/jobs/sharded", nil)

	code, out, _ := pinkCLI(t, env, "jobs", "list")
	rows := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if code != 0 || len(rows) != 4 || strings.Join(strings.Fields(rows[0]), " ") != "NAME GROUP SCHEDULE TIMEZONE TARGET LAST STATUS LAST RUN NEXT FIRE PAUSED" {
		t.Fatalf("jobs list: exit %d\n%s", code, out)
	}
	for i, want := range []string{
		`^hello +default +\* \* \* \* \* \* +UTC +shell +succeeded +\d+s ago +in \d+s +-$`,
		`^slow +default +@yearly +UTC +shell +- +- +- +yes, 59m\d+s left: quiet please$`,
		`^stuck +batch +@yearly +UTC +http +- +- +in \d+d\d*h? +-$`,
	} {
		if !regexp.MustCompile(want).MatchString(rows[i+1]) {
			t.Errorf("jobs list row %q does not match %s", rows[i+1], want)
		}
	}
	code, out, _ = pinkCLI(t, env, "jobs", "list", "-o", "wide")
	if h := strings.Fields(strings.SplitN(out, "\n", 2)[0]); code != 0 || strings.Join(h[len(h)-4:], " ") != "CONCURRENCY AGE LABELS DESCRIPTION" ||
		!strings.Contains(out, "team=sre") {
		t.Errorf("jobs list -o wide: exit %d\n%s", code, out)
	}

	// -o yaml is an apply file: applying it changes nothing; a deleted
	// job comes back from it as it was.
	_, before, _ := pinkCLI(t, env, "jobs", "get", "stuck", "-o", "json")
	code, out, _ = pinkCLI(t, env, "jobs", "list", "-o", "yaml")
	file := filepath.Join(t.TempDir(), "jobs.yaml")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	runSteps(t, []cliStep{
		{name: "apply the export", env: env, args: []string{"apply", "-f", file, "--dry-run"},
			stdout: exactly("= job hello\n= job slow\n= job stuck\ndry run: 0 to create, 0 to update, 0 to delete, 3 unchanged\n")},
		{name: "delete stuck", env: env, args: []string{"jobs", "rm", "stuck"}, stdout: exactly("deleted job stuck\n")},
		{name: "apply it back", env: env, args: []string{"apply", "-f", file},
			stdout: exactly("= job hello\n= job slow\n+ job stuck\napplied: 1 created, 0 updated, 0 deleted, 2 unchanged\n")},
	})
	_, after, _ := pinkCLI(t, env, "jobs", "get", "stuck", "-o", "json")
	if specOf(t, before) != specOf(t, after) {
		t.Errorf("stuck after export and apply:\n%s\nwant\n%s", after, before)
	}
}

// specOf is a job's JSON without what the server sets.
func specOf(t *testing.T, s string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	for _, k := range []string{"created_at", "updated_at", "revision", "next_fires", "last_run"} {
		delete(m, k)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// TestCLIDescribeAndLiveRuns: jobs describe, runs list of running and
// pending fires, runs logs --follow, runs watch and jobs watch.
func TestCLIDescribeAndLiveRuns(t *testing.T) {
	env, api := cliDev(t)
	runs := waitRunsOf(t, api, "hello", 2)
	code, out, _ := pinkCLI(t, env, "jobs", "describe", "hello")
	for _, want := range []string{"Name:         hello\n", "Schedule:     * * * * * * (every second, UTC)\n", "Labels:       team=sre\n",
		"Paused:       no\n", "\nNext fires:\n", "\nLast runs:\n  ID ", runs[len(runs)-1].ID + "  succeeded  cron", "\nLive snapshots:\n",
		"\nAudit:\n  AGE ", "anonymous  job.create"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("jobs describe hello: exit %d, lacks %q\n%s", code, want, out)
		}
	}

	// A fire of stuck waits (its group has no worker): pending.
	var trig struct {
		SnapshotID string `json:"snapshot_id"`
	}
	api.JSON(t, "POST", "/api/v1/jobs/stuck/trigger", nil, 202, &trig)
	code, out, _ = pinkCLI(t, env, "runs", "list", "--status", "pending")
	if code != 0 || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(trig.SnapshotID)+` +stuck +pending +manual +\d+s ago +- +- +no live worker in group "batch"$`).MatchString(out) {
		t.Errorf("runs list --status pending: exit %d\n%s", code, out)
	}

	// runs watch and jobs watch see slow's manual run start and finish.
	runsWatch := watchPink(t, env, "runs", "watch", "--job", "slow")
	jobsWatch := watchPink(t, env, "jobs", "watch")
	jobsWatch.await(t, regexp.MustCompile(`^stuck +batch `))
	api.JSON(t, "POST", "/api/v1/jobs/slow/trigger", nil, 202, &trig)
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		code, out, _ = pinkCLI(t, env, "runs", "list", "--status", "running")
		return strings.Contains(out, trig.SnapshotID+"  slow  running  manual"), out
	})
	// --follow waits for the run to finish and prints its output.
	for _, id := range []string{trig.SnapshotID, snapshot.RunID(trig.SnapshotID, 1)} {
		if code, out, errOut := pinkCLI(t, env, "runs", "logs", "--follow", id); code != 0 || out != "start\ndone\n" {
			t.Errorf("runs logs --follow %s: exit %d, %q%s", id, code, out, errOut)
		}
	}
	q := regexp.QuoteMeta
	runsWatch.await(t, regexp.MustCompile(`^\d\d:\d\d:\d\d +`+q(trig.SnapshotID)+` +slow +running +dev-`))
	runsWatch.await(t, regexp.MustCompile(`^\d\d:\d\d:\d\d +`+q(snapshot.RunID(trig.SnapshotID, 1))+` +slow +succeeded +-$`))
	jobsWatch.await(t, regexp.MustCompile(`^slow +default +@yearly +UTC +shell +running +now `))
	jobsWatch.await(t, regexp.MustCompile(`^slow +default +@yearly +UTC +shell +succeeded +\d+s ago `))
	for _, w := range []*watcher{runsWatch, jobsWatch} {
		if err := w.stop(); err != nil {
			t.Errorf("%s after SIGINT: %v", w.name, err)
		}
	}
	if code, _, errOut := pinkCLI(t, env, "runs", "logs", "--follow", "nosuch@20260101T000000Z"); code != 3 || !strings.Contains(errOut, "no such run") {
		t.Errorf("runs logs --follow of nothing: exit %d %s", code, errOut)
	}
}

// watcher is a running pink command whose output lines a test reads.
type watcher struct {
	name  string
	cmd   *exec.Cmd
	lines chan string
	seen  []string
}

// watchPink starts pink with args and reads its stdout line by line.
func watchPink(t *testing.T, env []string, args ...string) *watcher {
	t.Helper()
	cmd := exec.Command(pinktest.Binary(t), args...)
	cmd.Env = append(append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir()), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watcher{name: "pink " + strings.Join(args, " "), cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return w
}

// await reads lines until one matches re.
func (w *watcher) await(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				t.Fatalf("%s ended before a line matching %s:\n%s", w.name, re, strings.Join(w.seen, "\n"))
			}
			w.seen = append(w.seen, line)
			if re.MatchString(line) {
				return
			}
		case <-timeout:
			t.Fatalf("%s printed no line matching %s in 30s:\n%s", w.name, re, strings.Join(w.seen, "\n"))
		}
	}
}

// stop interrupts the command as Ctrl-C does; it must end with status 0.
func (w *watcher) stop() error {
	if err := w.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		return fmt.Errorf("still running 10s after SIGINT")
	}
}

// TestCLIHelpAndCompletion: help goes to stdout with exit 0; bash and
// fish complete job and group names from the server, and zsh's script
// parses.
func TestCLIHelpAndCompletion(t *testing.T) {
	for _, args := range [][]string{{}, {"--help"}, {"jobs", "-h"}, {"runs", "-h"}, {"groups", "-h"}, {"schedule", "-h"}, {"help", "runs", "list"}, {"jobs", "help", "list"}} {
		code, out, errOut := pinkCLI(t, nil, args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage:\n  pink") {
			t.Errorf("pink %s: exit %d, stdout %d bytes, stderr %q", strings.Join(args, " "), code, len(out), errOut)
		}
	}
	env, api := cliDev(t)
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "hollow", "group": "batch", "schedule": "@daily", "target": "http",
		"params": map[string]any{"url": "http://127.0.0.1:1/"}}, 201, nil)
	bin := pinktest.Binary(t)
	shellEnv := append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "XDG_CONFIG_HOME="+t.TempDir())
	shellEnv = append(shellEnv, env...)
	shell := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = shellEnv
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	if filepath.Base(bin) != "pink" {
		t.Fatalf("the test binary is %s: completion scripts call pink", bin)
	}
	bash := func(line string) string {
		return shell("bash", "-c", `source /usr/share/bash-completion/bash_completion
source <(pink completion bash)
COMP_LINE="`+line+`"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<<"$COMP_LINE"
[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]}-1))
__start_pink 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`)
	}
	for _, tc := range []struct{ line, want string }{
		{"pink jobs describe h", "hello\nhollow\n"},
		{"pink jobs get s", "slow\nstuck\n"},
		{"pink runs list --group ", "batch\ndefault\n"},
		{"pink jobs li", "list\n"},
	} {
		if got := bash(tc.line); got != tc.want {
			t.Errorf("bash completes %q with %q, want %q", tc.line, got, tc.want)
		}
	}
	script := filepath.Join(t.TempDir(), "pink.fish")
	if err := os.WriteFile(script, []byte(shell(bin, "completion", "fish")), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := shell("fish", "--no-config", "-c", "source "+script+"; complete -C 'pink jobs trigger h'"); got != "hello\nhollow\n" {
		t.Errorf("fish completes 'pink jobs trigger h' with %q", got)
	}
	zsh := filepath.Join(t.TempDir(), "_pink")
	if err := os.WriteFile(zsh, []byte(shell(bin, "completion", "zsh")), 0o644); err != nil {
		t.Fatal(err)
	}
	shell("zsh", "-n", zsh)
	if b, _ := os.ReadFile(zsh); !strings.Contains(string(b), "#compdef pink") {
		t.Errorf("zsh completion lacks #compdef pink")
	}
}
