package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/etcdembed"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// pinkCLI runs the pink binary as a client and returns its exit code and
// output.
func pinkCLI(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	return runPink(t, 30*time.Second, env, args...)
}

// runPink runs the pink binary with args, without the caller's PINK_*
// variables or config file, for at most timeout, and returns its exit code
// and output.
func runPink(t *testing.T, timeout time.Duration, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pinktest.Binary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PINK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "XDG_CONFIG_HOME="+t.TempDir()) // no config file of the user
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("pink %v did not finish within %s:\n%s", args, timeout, errOut.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run pink %v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

func writeTokens(t *testing.T, roles map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("tokens:\n")
	for role, tok := range roles {
		fmt.Fprintf(&b, "  - name: %s\n    role: %s\n    token_sha256: %s\n", role+"-bot", role, auth.HashToken(tok))
	}
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const applyFile = `
groups:
  - name: batch
    description: batch workers
jobs:
  - name: report
    group: batch
    schedule: "0 3 * * *"
    timezone: Europe/Berlin
    target: http
    params: {url: "http://127.0.0.1:1/report"}
    concurrency: forbid
  - name: cleanup
    group: batch
    schedule: "@hourly"
    target: http
    params: {url: "http://127.0.0.1:1/cleanup"}
`

// TestCLI drives a scheduler with authentication through the pink CLI as
// scripts would: apply, list, act, and branch on exit codes.
func TestCLI(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	roles := map[string]string{"viewer": "v-secret", "operator": "o-secret", "admin": "a-secret"}
	addr := pinktest.StartProcess(t, "scheduler", nil, "scheduler", "--etcd-endpoints", strings.Join(etcd.Endpoints, ","),
		"--listen", "127.0.0.1:0", "--api-tokens-file", writeTokens(t, roles)).SchedulerAddr()
	server := "PINK_SERVER=http://" + addr
	as := func(role string) []string { return []string{server, "PINK_TOKEN=" + roles[role]} }
	file := filepath.Join(t.TempDir(), "jobs.yaml")
	if err := os.WriteFile(file, []byte(applyFile), 0o644); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout []string
	}{
		{"dry run", as("admin"), []string{"apply", "-f", file, "--dry-run"}, 0,
			[]string{"+ group batch", "+ job report", "+ job cleanup", "dry run: 3 to create, 0 to update, 0 to delete, 0 unchanged"}},
		{"apply", as("admin"), []string{"apply", "-f", file, "--reason", "ci deploy"}, 0,
			[]string{"applied: 3 created, 0 updated, 0 deleted, 0 unchanged"}},
		{"apply again", as("admin"), []string{"apply", "-f", file}, 0,
			[]string{"applied: 0 created, 0 updated, 0 deleted, 3 unchanged"}},
		{"list", as("viewer"), []string{"jobs", "list", "--group", "batch"}, 0,
			[]string{"NAME", "SCHEDULE", "cleanup", "report", "0 3 * * *", "Europe/Berlin"}},
		{"get missing", as("viewer"), []string{"jobs", "get", "ghost"}, 3, nil},
		{"viewer may not delete", as("viewer"), []string{"jobs", "delete", "report"}, 5, nil},
		{"no token", []string{server}, []string{"jobs", "list"}, 5, nil},
		{"trigger", as("operator"), []string{"jobs", "trigger", "report"}, 0, []string{"triggered job report: snapshot report@"}},
		{"forbid refuses a second run", as("operator"), []string{"jobs", "trigger", "report"}, 4, nil},
		{"unless forced", as("operator"), []string{"jobs", "trigger", "report", "--force"}, 0, nil},
		{"pause", as("operator"), []string{"jobs", "pause", "cleanup", "--until", "2h", "--reason", "noisy"}, 0,
			[]string{"paused job cleanup until "}},
		{"preview", as("viewer"), []string{"jobs", "preview", "report", "-n", "2"}, 0, []string{"AT", "UTC", "+01:00"}},
		{"bad schedule", as("operator"), []string{"schedule", "validate", "61 * * * *"}, 6, nil},
		{"good schedule", as("operator"), []string{"schedule", "validate", "30 2 * * *", "--timezone", "America/New_York"}, 0, []string{"-05:00"}},
		{"audit", as("viewer"), []string{"audit", "list"}, 0, []string{"job.pause", "cleanup", "operator-bot", "noisy", "job.create", "ci deploy"}},
		{"usage: no name", as("viewer"), []string{"jobs", "get"}, 2, nil},
		{"runs across jobs", as("viewer"), []string{"runs", "list", "--since", "1h"}, 0, []string{"ID", "JOB", "STATUS"}},
		{"usage: runs of a job by group", as("viewer"), []string{"runs", "list", "--job", "report", "--group", "batch"}, 2, nil},
		{"usage: runs since what", as("viewer"), []string{"runs", "list", "--since", "yesterday"}, 2, nil},
		{"usage: unknown verb", as("viewer"), []string{"jobs", "explode"}, 2, nil},
		{"group in use", as("admin"), []string{"groups", "delete", "batch"}, 4, nil},
	}
	for _, s := range steps {
		code, out, errOut := pinkCLI(t, s.env, s.args...)
		if code != s.code {
			t.Errorf("%s: pink %s: exit %d, want %d\nstdout: %s\nstderr: %s", s.name, strings.Join(s.args, " "), code, s.code, out, errOut)
			continue
		}
		for _, want := range s.stdout {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", s.name, want, out)
			}
		}
	}

	// -o json is for scripts: valid JSON with the API's fields.
	code, out, _ := pinkCLI(t, as("viewer"), "jobs", "list", "-o", "json")
	var list struct {
		Jobs []struct{ Name, Group string } `json:"jobs"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Jobs) != 2 {
		t.Errorf("jobs list -o json: exit %d, %s", code, out)
	}

	// Prune with a file that lists one job deletes the other.
	pruned := filepath.Join(t.TempDir(), "pruned.yaml")
	if err := os.WriteFile(pruned, []byte(applyFile[:strings.Index(applyFile, "  - name: cleanup")]), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := pinkCLI(t, as("admin"), "apply", "-f", pruned, "--prune"); code != 0 || !strings.Contains(out, "- job cleanup") {
		t.Errorf("apply --prune: exit %d\n%s%s", code, out, errOut)
	}

	// The client reads server and token from a config file.
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("server: http://%s\ntoken: %s\n", addr, roles["viewer"])), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := pinkCLI(t, []string{"PINK_CONFIG=" + cfg}, "nodes", "list"); code != 0 || !strings.Contains(out, "true") {
		t.Errorf("nodes list from the config file: exit %d\n%s%s", code, out, errOut)
	}
}

// TestTLS: the API serves HTTPS and the scheduler reaches etcd over TLS with
// a client certificate; without one, etcd refuses it.
func TestTLS(t *testing.T) {
	ca := pinktest.NewCA(t)
	etcdCert, etcdKey := ca.Issue(t, "etcd")
	clientCert, clientKey := ca.Issue(t, "pink")
	apiCert, apiKey := ca.Issue(t, "api")
	srv, err := etcdembed.Start(context.Background(), etcdembed.Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0", PeerAddr: "127.0.0.1:0",
		TLS: &etcdembed.TLS{Cert: etcdCert, Key: etcdKey, CA: ca.Cert, ClientCertAuth: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	endpoints := strings.Join(srv.Endpoints(), ",")
	if !strings.HasPrefix(endpoints, "https://") {
		t.Fatalf("etcd endpoints %s", endpoints)
	}

	tlsScheduler := pinktest.StartProcess(t, "tls scheduler", nil, "scheduler", "--etcd-endpoints", endpoints,
		"--etcd-cacert", ca.Cert, "--etcd-cert", clientCert, "--etcd-key", clientKey,
		"--listen", "127.0.0.1:0", "--tls-cert", apiCert, "--tls-key", apiKey)
	addr := tlsScheduler.SchedulerAddr()
	tlsScheduler.WaitOutput("became leader", 30*time.Second)
	pinktest.StartProcess(t, "tls worker", nil, "worker", "--group", "default", "--etcd-endpoints", endpoints,
		"--etcd-cacert", ca.Cert, "--etcd-cert", clientCert, "--etcd-key", clientKey,
		"--listen", "127.0.0.1:0").WaitOutput("worker registered", 30*time.Second)

	env := []string{"PINK_SERVER=https://" + addr, "PINK_CA_CERT=" + ca.Cert}
	code, out, errOut := pinkCLI(t, env, "groups", "list")
	if code != 0 || !strings.Contains(out, "default") {
		t.Fatalf("groups list over TLS: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := pinkCLI(t, []string{"PINK_SERVER=https://" + addr}, "groups", "list"); code != 1 {
		t.Errorf("without trusting the CA: exit %d, want 1", code)
	}
	if code, _, _ := pinkCLI(t, []string{"PINK_SERVER=http://" + addr}, "groups", "list"); code == 0 {
		t.Error("plain HTTP to the HTTPS API succeeded")
	}

	// A scheduler without a client certificate cannot use etcd.
	bare := pinktest.StartProcess(t, "scheduler without client cert", nil, "scheduler", "--etcd-endpoints", endpoints,
		"--etcd-cacert", ca.Cert, "--listen", "127.0.0.1:0").SchedulerAddr()
	api := pinktest.NewAPI(bare)
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		status, _, err := api.TryDo("GET", "/readyz", nil)
		return err == nil && status == 503, fmt.Sprintf("readyz %d %v, want 503", status, err)
	})
}

// cliCluster starts a scheduler with authentication (no workers, so live
// snapshots stay put) and applies applyFile as admin.
func cliCluster(t *testing.T) (etcd *pinktest.Etcd, addr string, roles map[string]string, as func(role string) []string) {
	t.Helper()
	etcd = pinktest.StartEtcd(t)
	roles = map[string]string{"viewer": "v-secret", "operator": "o-secret", "admin": "a-secret"}
	addr = pinktest.StartProcess(t, "scheduler", nil, "scheduler", "--etcd-endpoints", strings.Join(etcd.Endpoints, ","),
		"--listen", "127.0.0.1:0", "--api-tokens-file", writeTokens(t, roles)).SchedulerAddr()
	as = func(role string) []string { return []string{"PINK_SERVER=http://" + addr, "PINK_TOKEN=" + roles[role]} }
	if code, out, errOut := pinkCLI(t, as("admin"), "apply", "-f", writeFile(t, applyFile)); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	return etcd, addr, roles, as
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cliStep is one CLI call with its exact exit code and, when set, its
// exact stdout or lines stdout must contain.
type cliStep struct {
	name     string
	env      []string
	args     []string
	code     int
	stdout   *string
	contains []string
	stderr   string
}

func exactly(s string) *string { return &s }

func runSteps(t *testing.T, steps []cliStep) {
	t.Helper()
	for _, s := range steps {
		code, out, errOut := pinkCLI(t, s.env, s.args...)
		if code != s.code {
			t.Errorf("%s: pink %s: exit %d, want %d\nstdout: %s\nstderr: %s", s.name, strings.Join(s.args, " "), code, s.code, out, errOut)
			continue
		}
		if s.stdout != nil && out != *s.stdout {
			t.Errorf("%s: stdout\n%q\nwant\n%q", s.name, out, *s.stdout)
		}
		for _, want := range s.contains {
			if !strings.Contains(out, want) {
				t.Errorf("%s: stdout lacks %q:\n%s", s.name, want, out)
			}
		}
		if !strings.Contains(errOut, s.stderr) {
			t.Errorf("%s: stderr lacks %q:\n%s", s.name, s.stderr, errOut)
		}
	}
}

// TestCLICommands covers the commands TestCLI does not: groups create,
// jobs resume and backfill, snapshots list and delete, runs list and get,
// and the --server and --token flags.
func TestCLICommands(t *testing.T) {
	_, addr, roles, as := cliCluster(t)
	server := "http://" + addr

	// Two live snapshots of report: no worker of batch runs them.
	runSteps(t, []cliStep{
		{name: "trigger", env: as("operator"), args: []string{"jobs", "trigger", "report"}, contains: []string{"triggered job report: snapshot report@"}},
		{name: "trigger forced", env: as("operator"), args: []string{"jobs", "trigger", "report", "--force"}, contains: []string{"triggered job report: snapshot report@"}},
	})
	code, out, errOut := pinkCLI(t, as("viewer"), "snapshots", "list", "--job", "report", "-o", "json")
	var live struct {
		Snapshots []struct{ ID, Job, State, Trigger string } `json:"snapshots"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &live) != nil || len(live.Snapshots) != 2 {
		t.Fatalf("snapshots list -o json: exit %d\n%s%s", code, out, errOut)
	}
	for _, s := range live.Snapshots {
		if s.Job != "report" || s.Trigger != "manual" || s.State != "pending" {
			t.Errorf("live snapshot %+v, want a pending manual one of report", s)
		}
	}
	id := live.Snapshots[0].ID
	code, out, _ = pinkCLI(t, as("viewer"), "snapshots", "list", "--group", "batch")
	if rows := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(rows) != 3 ||
		strings.Join(strings.Fields(rows[0]), " ") != "ID JOB STATE TRIGGER ATTEMPT SCHEDULED CLIENT REASON" || !strings.Contains(out, id) ||
		!strings.HasSuffix(rows[1], `  -       no live worker in group "batch"`) {
		t.Errorf("snapshots list --group batch: exit %d\n%s", code, out)
	}

	runSteps(t, []cliStep{
		// snapshots delete cancels a live snapshot; it becomes a canceled run.
		{name: "viewer may not cancel", env: as("viewer"), args: []string{"snapshots", "delete", id}, code: 5},
		{name: "cancel", env: as("operator"), args: []string{"snapshots", "delete", id}, stdout: exactly("canceled snapshot " + id + "\n")},
		{name: "cancel again", env: as("operator"), args: []string{"snapshots", "delete", id}, code: 3, stderr: "no such live snapshot"},
		{name: "cancel -o json", env: as("operator"), args: []string{"snapshots", "delete", live.Snapshots[1].ID, "-o", "json"},
			stdout: exactly("{\n  \"id\": \"" + live.Snapshots[1].ID + "\",\n  \"status\": \"canceled\"\n}\n")},
		{name: "no live snapshots left", env: as("viewer"), args: []string{"snapshots", "list", "--job", "report"},
			stdout: exactly("ID  JOB  STATE  TRIGGER  ATTEMPT  SCHEDULED  CLIENT  REASON\n")},
		{name: "runs of a job without runs", env: as("viewer"), args: []string{"runs", "list", "--job", "cleanup"},
			stdout: exactly("ID  JOB  STATUS  TRIGGER  SCHEDULED  DURATION  CLIENT  ERROR\n")},
		{name: "runs of a job that never existed", env: as("viewer"), args: []string{"runs", "list", "--job", "ghost"}, code: 3},
		{name: "runs of an invalid job name", env: as("viewer"), args: []string{"runs", "list", "--job", "Ghost!"}, code: 6},
		{name: "run missing", env: as("viewer"), args: []string{"runs", "get", "report@1"}, code: 3},
	})

	code, out, errOut = pinkCLI(t, as("viewer"), "runs", "list", "--job", "report", "-o", "json")
	var page struct {
		Runs []snapshot.Run `json:"runs"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Runs) != 2 {
		t.Fatalf("runs list --job report -o json: exit %d\n%s%s", code, out, errOut)
	}
	for _, r := range page.Runs {
		if r.Job != "report" || r.Status != snapshot.StatusCanceled || r.Trigger != snapshot.TriggerManual || r.Error != "canceled through the API" {
			t.Errorf("run %+v, want a canceled manual run of report", r)
		}
	}
	code, out, _ = pinkCLI(t, as("viewer"), "runs", "list", "--job", "report", "--status", "canceled", "--limit", "1")
	if rows := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(rows) != 2 ||
		strings.Join(strings.Fields(rows[0]), " ") != "ID JOB STATUS TRIGGER SCHEDULED DURATION CLIENT ERROR" ||
		!strings.HasPrefix(rows[1], page.Runs[0].ID+"  report  canceled  manual  ") || !strings.HasSuffix(rows[1], "canceled through the API") {
		t.Errorf("runs list table: exit %d\n%s", code, out)
	}
	// Across jobs: the same runs, with their job, newest first.
	code, out, _ = pinkCLI(t, as("viewer"), "runs", "list", "--status", "canceled", "--since", "1h")
	// (Both runs share their nominal second, whose order the index keeps by run id.)
	if rows := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(rows) != 3 ||
		!strings.Contains(out, page.Runs[0].ID+"  report  canceled") || !strings.Contains(out, page.Runs[1].ID+"  report  canceled") {
		t.Errorf("runs list across jobs: exit %d\n%s", code, out)
	}
	code, out, errOut = pinkCLI(t, as("viewer"), "runs", "get", page.Runs[1].ID)
	for _, want := range []string{"ID:          " + page.Runs[1].ID + "\n", "STATUS:      canceled\n", "TRIGGER:     manual\n",
		"CLIENT:      -\n", "DURATION:    <1ms\n", "ERROR:       canceled through the API\n", "OUTPUT: (none)\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("runs get as a table: exit %d, lacks %q\n%s%s", code, want, out, errOut)
		}
	}
	code, out, errOut = pinkCLI(t, as("viewer"), "runs", "get", page.Runs[1].ID, "-o", "json")
	var run snapshot.Run
	if code != 0 || json.Unmarshal([]byte(out), &run) != nil || run.ID != page.Runs[1].ID || run.SnapshotID == "" ||
		run.Status != snapshot.StatusCanceled || run.Job != "report" || run.Group != "batch" {
		t.Errorf("runs get %s: exit %d %+v\n%s%s", page.Runs[1].ID, code, run, out, errOut)
	}

	runSteps(t, []cliStep{
		// Resume after pause.
		{name: "pause", env: as("operator"), args: []string{"jobs", "pause", "cleanup", "--reason", "maintenance"}, stdout: exactly("paused job cleanup\n")},
		{name: "resume", env: as("operator"), args: []string{"jobs", "resume", "cleanup", "--reason", "done"}, stdout: exactly("resumed job cleanup\n")},
		{name: "resume missing", env: as("operator"), args: []string{"jobs", "resume", "ghost"}, code: 3},
		{name: "viewer may not resume", env: as("viewer"), args: []string{"jobs", "resume", "cleanup"}, code: 5},
		// Backfill: @hourly from 00:00 to 02:30 is the fires at 00:00, 01:00, 02:00.
		{name: "backfill bad times", env: as("operator"), args: []string{"jobs", "backfill", "cleanup", "--from", "yesterday", "--to", "today"}, code: 2,
			stderr: "--from and --to must be RFC 3339 times"},
		{name: "backfill empty range", env: as("operator"), args: []string{"jobs", "backfill", "cleanup", "--from", "2026-01-01T00:10:00Z", "--to", "2026-01-01T00:20:00Z"}, code: 6},
		{name: "viewer may not backfill", env: as("viewer"), args: []string{"jobs", "backfill", "cleanup", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T02:30:00Z"}, code: 5},
		// Groups.
		{name: "create group", env: as("admin"), args: []string{"groups", "create", "extra", "--description", "extra workers"}, stdout: exactly("created group extra\n")},
		{name: "create it again", env: as("admin"), args: []string{"groups", "create", "extra"}, code: 4},
		{name: "operator may not create", env: as("operator"), args: []string{"groups", "create", "other"}, code: 5},
		{name: "bad group name", env: as("admin"), args: []string{"groups", "create", "Extra!"}, code: 6},
		{name: "groups list", env: as("viewer"), args: []string{"groups", "list"},
			stdout: exactly("NAME   CLIENTS  DESCRIPTION\nbatch  0        batch workers\nextra  0        extra workers\n")},
		// --server and --token as flags: no environment at all, and flags win over it.
		{name: "flags only", args: []string{"groups", "list", "--server", server, "--token", roles["viewer"], "-o", "json"}, contains: []string{`"name": "extra"`}},
		{name: "flags, wrong token", args: []string{"groups", "list", "--server", server, "--token", "nope"}, code: 5},
		{name: "flags, no token", args: []string{"groups", "list", "--server", server}, code: 5},
		{name: "--server beats PINK_SERVER", env: []string{"PINK_SERVER=http://127.0.0.1:1", "PINK_TOKEN=" + roles["viewer"]},
			args: []string{"groups", "list", "--server", server}, contains: []string{"extra workers"}},
		{name: "--token beats PINK_TOKEN", env: as("viewer"), args: []string{"groups", "delete", "extra", "--token", roles["admin"]},
			stdout: exactly("deleted group extra\n")},
		{name: "nothing listening", env: []string{"PINK_SERVER=http://127.0.0.1:1"}, args: []string{"groups", "list"}, code: 1},
	})

	code, out, errOut = pinkCLI(t, as("operator"), "jobs", "backfill", "cleanup", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T02:30:00Z", "--reason", "outage")
	m := regexp.MustCompile(`^backfill (\S+) of job cleanup: 3 fires\n$`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("backfill: exit %d\n%q%s", code, out, errOut)
	}
	code, out, _ = pinkCLI(t, as("viewer"), "snapshots", "list", "--job", "cleanup", "-o", "json")
	live.Snapshots = nil
	if code != 0 || json.Unmarshal([]byte(out), &live) != nil || len(live.Snapshots) != 3 {
		t.Fatalf("snapshots after the backfill: exit %d\n%s", code, out)
	}
	var ids []string
	for _, s := range live.Snapshots {
		if s.Trigger != "backfill" || s.State != "pending" {
			t.Errorf("backfill snapshot %+v", s)
		}
		ids = append(ids, s.ID)
	}
	sort.Strings(ids)
	if got, want := strings.Join(ids, " "), fmt.Sprintf("cleanup@20260101T000000Z-b%[1]s cleanup@20260101T010000Z-b%[1]s cleanup@20260101T020000Z-b%[1]s", m[1]); got != want {
		t.Errorf("backfill snapshots %s, want %s", got, want)
	}
}

// TestCLIEnvIsNotBehaviour: PINK_* variables name where to connect, never
// what to do: a stray PINK_PRUNE, PINK_FORCE, PINK_GROUP or PINK_DRY_RUN
// changes nothing.
func TestCLIEnvIsNotBehaviour(t *testing.T) {
	etcd, _, _, as := cliCluster(t)
	stray := func(role string, kv ...string) []string { return append(as(role), kv...) }
	onlyReport := writeFile(t, applyFile[:strings.Index(applyFile, "  - name: cleanup")])
	runSteps(t, []cliStep{
		{name: "PINK_PRUNE does not prune", env: stray("admin", "PINK_PRUNE=true"), args: []string{"apply", "-f", onlyReport},
			stdout: exactly("= group batch\n= job report\napplied: 0 created, 0 updated, 0 deleted, 2 unchanged\n")},
		{name: "cleanup is still there", env: as("viewer"), args: []string{"jobs", "get", "cleanup", "-o", "json"}, contains: []string{`"name": "cleanup"`}},
		{name: "PINK_GROUP does not filter", env: stray("viewer", "PINK_GROUP=nothing"), args: []string{"jobs", "list", "-o", "json"},
			contains: []string{`"name": "cleanup"`, `"name": "report"`}},
		{name: "a live run of report", env: as("operator"), args: []string{"jobs", "trigger", "report"}, contains: []string{"triggered job report"}},
		{name: "PINK_FORCE does not force", env: stray("operator", "PINK_FORCE=true"), args: []string{"jobs", "trigger", "report"}, code: 4},
		{name: "PINK_DRY_RUN does not stop a change", env: stray("admin", "PINK_DRY_RUN=true"),
			args:   []string{"apply", "-f", writeFile(t, strings.Replace(applyFile, "@hourly", "@daily", 1))},
			stdout: exactly("= group batch\n= job report\n~ job cleanup: schedule: \"@hourly\" -> \"@daily\"\napplied: 0 created, 1 updated, 0 deleted, 2 unchanged\n")},
		{name: "PINK_OUTPUT is a connection-style setting and applies", env: stray("viewer", "PINK_OUTPUT=json"), args: []string{"groups", "list"},
			contains: []string{`"groups": [`}},
		{name: "-o beats PINK_OUTPUT", env: stray("viewer", "PINK_OUTPUT=json"), args: []string{"groups", "list", "-o", "table"},
			stdout: exactly("NAME   CLIENTS  DESCRIPTION\nbatch  0        batch workers\n")},
	})

	// A file whose last job names a group that exists nowhere changes
	// nothing at all and says why (exit 6, bad input).
	bad := writeFile(t, strings.Replace(applyFile, "batch workers", "renamed", 1)+
		"  - {name: orphan, group: nowhere, schedule: '@daily', target: http, params: {url: 'http://127.0.0.1:1/'}}\n")
	before := etcd.Keys(t, "/pink/job/")
	groupsBefore, auditBefore := etcd.Keys(t, "/pink/group/"), etcd.Keys(t, "/pink/audit/")
	runSteps(t, []cliStep{
		{name: "unknown group", env: as("admin"), args: []string{"apply", "-f", bad, "--prune"}, code: 6, stdout: exactly(""),
			stderr: "pink apply: " + bad + `: invalid apply file: jobs[2] (orphan): group "nowhere" is neither in the file nor in the cluster: add it under groups; nothing was changed`},
		{name: "unknown group, dry run", env: as("admin"), args: []string{"apply", "-f", bad, "--dry-run"}, code: 6, stdout: exactly("")},
	})
	if after := etcd.Keys(t, "/pink/job/"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused apply changed jobs:\n%v\n->\n%v", before, after)
	}
	if fmt.Sprint(etcd.Keys(t, "/pink/group/")) != fmt.Sprint(groupsBefore) || fmt.Sprint(etcd.Keys(t, "/pink/audit/")) != fmt.Sprint(auditBefore) {
		t.Error("a refused apply changed groups or the audit log")
	}
}

// TestCLIServerAddress: a server given as host:port means http://, and a
// server that is not there is reported in words with what to do.
func TestCLIServerAddress(t *testing.T) {
	base, api := startConsoleDev(t)
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "schemeless", "group": "default", "schedule": "@daily",
		"target": "http", "params": map[string]any{"url": "https://example.com/"}}, http.StatusCreated, nil)
	hostPort := strings.TrimPrefix(base, "http://")
	for _, tc := range []struct {
		name     string
		env      []string
		args     []string
		code     int
		out, err string
	}{
		{"host:port flag", nil, []string{"jobs", "list", "--server", hostPort}, 0, "schemeless", ""},
		{"host:port env", []string{"PINK_SERVER=" + hostPort}, []string{"jobs", "list"}, 0, "schemeless", ""},
		{"nothing listens", nil, []string{"jobs", "list", "--server", "127.0.0.1:1"}, 1, "",
			"pink jobs list: cannot reach pink at http://127.0.0.1:1 (connection refused): is it running? start one with 'pink dev', or set --server / PINK_SERVER\n"},
		{"no such host", nil, []string{"runs", "get", "x", "--server", "http://no-such-host.invalid:8080"}, 1, "",
			"pink runs get: cannot reach pink at http://no-such-host.invalid:8080 (no such host \"no-such-host.invalid\"): check --server / PINK_SERVER\n"},
	} {
		code, out, errOut := pinkCLI(t, tc.env, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || (tc.err != "" && errOut != tc.err) {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %q\nwant exit %d, stdout with %q, stderr %q", tc.name, code, out, errOut, tc.code, tc.out, tc.err)
		}
	}
}

// TestCLIVersion: `pink version` and `pink --version` name the build (the
// module version, revision, Go version) and the server's version when one
// answers; every process exports the same build as pink_build_info, with
// its --cluster-name, which must look like a name.
func TestCLIVersion(t *testing.T) {
	base, api := startConsoleDev(t)
	line := regexp.MustCompile(`^pink (\S+) \((?:revision [0-9a-f]{12}(?:, modified)?|revision unknown); go1\.\d+(?:\.\d+)? [a-z0-9]+/[a-z0-9]+\)$`)
	var first string
	for _, args := range [][]string{{"version", "--server", base}, {"--version", "--server", base}} {
		code, out, errOut := pinkCLI(t, nil, args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || errOut != "" || !line.MatchString(lines[0]) {
			t.Fatalf("pink %v: exit %d\n%s%s", args, code, out, errOut)
		}
		if first == "" {
			first = lines[0]
		} else if lines[0] != first {
			t.Errorf("pink --version says %q, pink version %q", lines[0], first)
		}
		wantServer := regexp.MustCompile(`(?m)^  server ` + regexp.QuoteMeta(base) + `: pink \S+ \(leader \S+\)$`)
		if !wantServer.MatchString(out) {
			t.Errorf("pink %v: no server line in\n%s", args, out)
		}
	}
	code, out, _ := pinkCLI(t, nil, "version", "--server", base, "-o", "json")
	var v struct {
		Client struct {
			Version   string `json:"version"`
			Revision  string `json:"revision"`
			GoVersion string `json:"go_version"`
		} `json:"client"`
		Server struct{ Version, Leader string } `json:"server"`
	}
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Server.Version == "" || v.Server.Leader == "" {
		t.Fatalf("version -o json: exit %d %v\n%s", code, err, out)
	}
	if v.Server.Version != v.Client.Version {
		t.Errorf("the same binary: client %s, server %s", v.Client.Version, v.Server.Version)
	}
	build := map[string]string{"goversion": v.Client.GoVersion, "revision": v.Client.Revision, "version": v.Client.Version, "cluster": "e2e-dev"}
	if got := pinktest.Metric(t, pinktest.Scrape(t, api.Base+"/metrics"), "pink_build_info", build); got != 1 {
		t.Errorf("pink_build_info%v = %v, want 1", build, got)
	}
	for _, name := range []string{"eu west", "-eu", strings.Repeat("x", 64), "eu/1"} {
		code, out, errOut := pinkCLI(t, nil, "dev", "--cluster-name", name, "--data-dir", t.TempDir())
		if want := fmt.Sprintf("--cluster-name %q: want 1 to 63 letters", name); code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("pink dev --cluster-name %q: exit %d, want 2 and %q\n%s%s", name, code, want, out, errOut)
		}
	}
	code, out, _ = pinkCLI(t, nil, "version", "--server", "127.0.0.1:1")
	if code != 0 || !strings.Contains(out, "  server http://127.0.0.1:1: no answer (cannot reach pink at http://127.0.0.1:1 (connection refused)") {
		t.Errorf("version without a server: exit %d\n%s", code, out)
	}
}

// TestCLIForbidRefusal: triggering a forbid job while its run is in
// progress says where it runs and how to force one (--force), exit 4.
func TestCLIForbidRefusal(t *testing.T) {
	base, api := startConsoleDev(t)
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "long", "group": "default", "schedule": "@yearly", "concurrency": "forbid",
		"target": "shell", "params": map[string]any{"command": []string{"sleep", "30"}}}, http.StatusCreated, nil)
	env := []string{"PINK_SERVER=" + base}
	if code, out, errOut := pinkCLI(t, env, "jobs", "trigger", "long"); code != 0 {
		t.Fatalf("first trigger: exit %d\n%s%s", code, out, errOut)
	}
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		var live struct {
			Snapshots []struct{ State string } `json:"snapshots"`
		}
		api.JSON(t, "GET", "/api/v1/snapshots?job=long", nil, http.StatusOK, &live)
		return len(live.Snapshots) == 1 && live.Snapshots[0].State == "running", fmt.Sprintf("%+v", live.Snapshots)
	})
	code, _, errOut := pinkCLI(t, env, "jobs", "trigger", "long")
	want := regexp.MustCompile(`^pink jobs trigger: a run of this job is in progress on dev-[0-9a-f]+ and its concurrency is forbid; force it to queue after that one \(\?force=true, pink jobs trigger --force\)`)
	if code != 4 || !want.MatchString(errOut) {
		t.Errorf("second trigger: exit %d, stderr %q; want 4 and %s", code, errOut, want)
	}
	if code, out, errOut := pinkCLI(t, env, "jobs", "trigger", "long", "--force"); code != 0 {
		t.Errorf("forced trigger: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCLIApplyReadsByFileType: a .json file with a trailing comma is
// refused as JSON with its line and column, and creates nothing.
func TestCLIApplyReadsByFileType(t *testing.T) {
	base, api := startConsoleDev(t)
	path := filepath.Join(t.TempDir(), "jobs.json")
	body := "{\"jobs\": [\n  {\"name\": \"comma\", \"group\": \"default\", \"schedule\": \"@daily\", \"target\": \"http\", \"params\": {\"url\": \"https://example.com/\"}},\n]}\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := pinkCLI(t, []string{"PINK_SERVER=" + base}, "apply", "-f", path)
	want := "pink apply: " + path + ": not JSON: line 3, column 1: invalid character ']' looking for beginning of value (400 invalid_file)\n"
	if code != 6 || errOut != want {
		t.Errorf("apply of a .json with a trailing comma: exit %d, stderr %q; want 6 and %q", code, errOut, want)
	}
	if status, _ := api.Do(t, "GET", "/api/v1/jobs/comma", nil); status != http.StatusNotFound {
		t.Errorf("the refused file created its job (%d)", status)
	}
}

// TestCLIRunLogs: `pink runs logs ID` prints a run's output exactly, for a
// pipe; `pink runs get ID` shows it indented under the run's facts.
func TestCLIRunLogs(t *testing.T) {
	base, api := startConsoleDev(t)
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "talky", "group": "default", "schedule": "@yearly",
		"target": "shell", "params": map[string]any{"command": []string{"printf", `line one\nline <two>\n`}}}, http.StatusCreated, nil)
	api.JSON(t, "POST", "/api/v1/jobs/talky/trigger", nil, http.StatusAccepted, nil)
	run := waitRunsOf(t, api, "talky", 1)[0]
	env := []string{"PINK_SERVER=" + base}
	if code, out, errOut := pinkCLI(t, env, "runs", "logs", run.ID); code != 0 || out != "line one\nline <two>\n" {
		t.Errorf("runs logs: exit %d, stdout %q\n%s", code, out, errOut)
	}
	if code, out, _ := pinkCLI(t, env, "runs", "get", run.ID); code != 0 || !strings.HasSuffix(out, "OUTPUT:\n  line one\n  line <two>\n") {
		t.Errorf("runs get: exit %d\n%s", code, out)
	}
	if code, _, _ := pinkCLI(t, env, "runs", "logs", "talky@20000101T000000Z.001"); code != 3 {
		t.Errorf("runs logs of a missing run: exit %d, want 3", code)
	}
}
