package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestSecretsStayOnTheWorker: a secret a job refers to reaches the service
// it calls and nothing else: not etcd, not a log line of the scheduler or
// the worker, not a span nor an exported log record (through a real OTLP
// receiver), not a run record, not the audit log, not any API answer,
// whoever asks. A credential written
// literally in a job's params is stored (it is the job's), but only an
// admin reads it back: viewers and operators see ***.
func TestSecretsStayOnTheWorker(t *testing.T) {
	const (
		fileSecret = "SECRET-FROM-FILE-a1b2"
		envSecret  = "SECRET-FROM-ENV-c3d4"
		literal    = "LITERAL-CREDENTIAL-e5f6"
	)
	etcd := pinktest.StartEtcd(t)
	otlp := startOTLP(t)
	roles := map[string]string{"admin": "adm-tok", "operator": "op-tok", "viewer": "view-tok"}
	tokens := writeTokens(t, roles)
	secretsDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(secretsDir, "api-token"), []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var received []string
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received = append(received, r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
		mu.Unlock()
		// An echoing service: what it returns becomes the run's output.
		fmt.Fprintf(w, "auth=%s key=%s", r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
	}))
	defer svc.Close()

	endpoints := strings.Join(etcd.Endpoints, ",")
	sched := pinktest.StartProcess(t, "scheduler", otlp.env(), "scheduler", "--etcd-endpoints", endpoints, "--listen", "127.0.0.1:0",
		"--api-tokens-file", tokens, "--session-ttl", "2s", "--log-format", "json", "--log-level", "debug")
	worker := pinktest.StartProcess(t, "worker", append(otlp.env(), "PINK_SECRET_DB_PASSWORD="+envSecret), "worker",
		"--group", "default", "--etcd-endpoints", endpoints, "--listen", "127.0.0.1:0", "--allow-shell",
		"--http-allow", "127.0.0.1", "--secrets-dir", secretsDir, "--lease-ttl", "2s", "--log-format", "json", "--log-level", "debug")
	worker.WaitOutput("worker registered", 30*time.Second)
	addr := sched.SchedulerAddr()
	base := pinktest.NewAPI(addr)
	admin, operator, viewer := base.As(roles["admin"]), base.As(roles["operator"]), base.As(roles["viewer"])
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		status, _, err := admin.TryDo("GET", "/readyz", nil)
		return err == nil && status == 200, fmt.Sprintf("not ready: %v", err)
	})

	jobs := map[string]string{
		"by-file": `{"target":"http","params":{"url":"` + svc.URL + `/a","headers":{"Authorization":{"secret":"api-token"}}}}`,
		"by-env":  `{"target":"shell","params":{"command":["sh","-c","echo password=$PGPASSWORD; exit 3"],"env":{"PGPASSWORD":{"secret":"DB_PASSWORD"}}}}`,
		"literal": `{"target":"http","params":{"url":"` + svc.URL + `/b","headers":{"X-Api-Key":"` + literal + `"}}}`,
	}
	for name, rest := range jobs {
		body := `{"name":"` + name + `","group":"default","schedule":"@yearly",` + strings.TrimPrefix(rest, "{")
		admin.JSON(t, "POST", "/api/v1/jobs", body, http.StatusCreated, nil)
		operator.JSON(t, "POST", "/api/v1/jobs/"+name+"/trigger", nil, http.StatusAccepted, nil)
	}
	for name := range jobs {
		pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
			runs, err := admin.TryRuns(name)
			return err == nil && len(runs) == 1, fmt.Sprintf("runs of %s: %v", name, err)
		})
	}
	runs := map[string]snapshot.Run{}
	for name := range jobs {
		runs[name] = admin.Runs(t, name)[0]
	}
	// The secrets did their work: the service got them, the shell saw one.
	mu.Lock()
	got := strings.Join(received, " ")
	mu.Unlock()
	if !strings.Contains(got, fileSecret) || !strings.Contains(got, literal) {
		t.Fatalf("the service received %q", got)
	}
	if r := runs["by-env"]; r.Status != snapshot.StatusFailed || r.Output != "password=***\n" {
		t.Errorf("shell run: %s %q %q", r.Status, r.Output, r.Error)
	}
	if r := runs["by-file"]; r.Status != snapshot.StatusSucceeded || r.Output != "auth=*** key=" {
		t.Errorf("http run: %s %q", r.Status, r.Output)
	}

	// Wait until the spans of the runs are exported.
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		n := 0
		for _, s := range otlp.get() {
			if s.name == "pink.execute" {
				n++
			}
		}
		return n >= len(jobs), fmt.Sprintf("%d pink.execute spans", n)
	})
	// And the runs' log records, which carry their outputs and errors.
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		byRun, _ := runRecords(otlp)
		for _, r := range runs {
			if rec, ok := byRun[r.ID]; !ok || rec.attrs["pink.run.output"] != r.Output || rec.attrs["pink.run.error"] != r.Error {
				return false, fmt.Sprintf("log record of %s: %v", r.ID, rec.attrs)
			}
		}
		return true, ""
	})

	// A fire of a group with no worker stays pending: a live snapshot that
	// holds the job's params.
	admin.JSON(t, "POST", "/api/v1/groups", `{"name":"parked"}`, http.StatusCreated, nil)
	admin.JSON(t, "POST", "/api/v1/jobs", `{"name":"parked","group":"parked","schedule":"@yearly","target":"http",
		"params":{"url":"`+svc.URL+`/c","headers":{"X-Api-Key":"`+literal+`"}}}`, http.StatusCreated, nil)
	var fire struct {
		SnapshotID string `json:"snapshot_id"`
	}
	operator.JSON(t, "POST", "/api/v1/jobs/parked/trigger", nil, http.StatusAccepted, &fire)

	// Where a secret could show, and who reads it there: every answer of
	// every route that returns a job, a snapshot or a run, to each role.
	places := map[string]string{
		"scheduler log": sched.Output(), "worker log": worker.Output(), "spans": string(otlp.exported()),
		"log records": string(otlp.exportedLogs()), "etcd": etcdDump(t, etcd),
	}
	reads := []string{"GET /api/v1/jobs", "GET /api/v1/jobs/by-file", "GET /api/v1/jobs/literal", "GET /api/v1/jobs/parked",
		"GET /api/v1/jobs/literal/preview", "GET /api/v1/snapshots", "GET /api/v1/snapshots/" + fire.SnapshotID,
		"GET /api/v1/audit?limit=1000", "GET /api/v1/runs?job=by-file", "GET /api/v1/runs?job=by-env", "GET /api/v1/runs?job=literal",
		"POST /api/v1/jobs/literal/pause", "POST /api/v1/jobs/literal/resume"}
	for _, r := range runs {
		reads = append(reads, "GET /api/v1/runs/"+r.ID)
	}
	for _, who := range []struct {
		name string
		api  *pinktest.API
	}{{"admin", admin}, {"operator", operator}, {"viewer", viewer}} {
		for _, read := range reads {
			method, path, _ := strings.Cut(read, " ")
			want := http.StatusOK
			if method == "POST" && who.name == "viewer" {
				want = http.StatusForbidden
			}
			status, b := who.api.Do(t, method, path, nil)
			if status != want {
				t.Fatalf("%s as %s: %d %s", read, who.name, status, b)
			}
			places[who.name+" "+read] = string(b)
		}
	}
	// Admins read the job's literal credential wherever its params are.
	adminReads := map[string]bool{}
	for _, read := range []string{"GET /api/v1/jobs", "GET /api/v1/jobs/literal", "GET /api/v1/jobs/parked", "GET /api/v1/snapshots",
		"GET /api/v1/snapshots/" + fire.SnapshotID, "POST /api/v1/jobs/literal/pause", "POST /api/v1/jobs/literal/resume"} {
		adminReads["admin "+read] = true
	}
	for place, text := range places {
		for _, secret := range []string{fileSecret, envSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("the secret %s is in the %s", secret, place)
			}
		}
		// The literal credential is the job's: stored in etcd, read back by
		// admins in the job, nowhere else.
		mayHold := place == "etcd" || adminReads[place]
		if strings.Contains(text, literal) != mayHold {
			t.Errorf("literal credential in the %s: %v, want %v", place, !mayHold, mayHold)
		}
	}
}

// etcdDump is every key and value under the cluster's root.
func etcdDump(t *testing.T, etcd *pinktest.Etcd) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := etcd.Client.Get(ctx, "/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, kv := range resp.Kvs {
		fmt.Fprintf(&b, "%s=%s\n", kv.Key, kv.Value)
	}
	return b.String()
}
