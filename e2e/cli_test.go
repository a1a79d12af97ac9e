package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/auth"
	"github.com/pink-scheduler/pink/pkg/etcdembed"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// pinkCLI runs the pink binary as a client and returns its exit code and
// output.
func pinkCLI(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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
	addr := pinktest.FreeAddr(t)
	pinktest.StartProcess(t, "scheduler", nil, "scheduler", "--etcd-endpoints", strings.Join(etcd.Endpoints, ","),
		"--listen", addr, "--api-tokens-file", writeTokens(t, roles)).WaitOutput("scheduler node starting", 30*time.Second)
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
		{"bad schedule", as("viewer"), []string{"schedule", "validate", "61 * * * *"}, 6, nil},
		{"good schedule", as("viewer"), []string{"schedule", "validate", "30 2 * * *", "--timezone", "America/New_York"}, 0, []string{"-05:00"}},
		{"audit", as("viewer"), []string{"audit", "list"}, 0, []string{"job.pause", "cleanup", "operator-bot", "noisy", "job.create", "ci deploy"}},
		{"usage: no name", as("viewer"), []string{"jobs", "get"}, 2, nil},
		{"usage: runs without job", as("viewer"), []string{"runs", "list"}, 2, nil},
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

	addr := pinktest.FreeAddr(t)
	pinktest.StartProcess(t, "tls scheduler", nil, "scheduler", "--etcd-endpoints", endpoints,
		"--etcd-cacert", ca.Cert, "--etcd-cert", clientCert, "--etcd-key", clientKey,
		"--listen", addr, "--tls-cert", apiCert, "--tls-key", apiKey).WaitOutput("became leader", 30*time.Second)
	pinktest.StartProcess(t, "tls worker", nil, "worker", "--group", "default", "--etcd-endpoints", endpoints,
		"--etcd-cacert", ca.Cert, "--etcd-cert", clientCert, "--etcd-key", clientKey,
		"--listen", pinktest.FreeAddr(t)).WaitOutput("worker registered", 30*time.Second)

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
	bare := pinktest.FreeAddr(t)
	pinktest.StartProcess(t, "scheduler without client cert", nil, "scheduler", "--etcd-endpoints", endpoints,
		"--etcd-cacert", ca.Cert, "--listen", bare).WaitOutput("scheduler node starting", 30*time.Second)
	api := pinktest.NewAPI(bare)
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		status, _, err := api.TryDo("GET", "/readyz", nil)
		return err == nil && status == 503, fmt.Sprintf("readyz %d %v, want 503", status, err)
	})
}
