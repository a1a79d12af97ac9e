package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// remoteRun is the part of a polled run these tests look at.
type remoteRun struct {
	SnapshotID string `json:"snapshot_id"`
	Attempt    int    `json:"attempt"`
	Claim      string `json:"claim"`
}

func registerRemote(t *testing.T, api *pinktest.API, body string) string {
	t.Helper()
	var reg struct {
		WorkerID string `json:"worker_id"`
	}
	api.JSON(t, "POST", "/api/v1/groups/py/workers", body, http.StatusCreated, &reg)
	return reg.WorkerID
}

func pollRemote(t *testing.T, api *pinktest.API, id string) remoteRun {
	t.Helper()
	var polled struct{ Runs []remoteRun }
	api.JSON(t, "POST", "/api/v1/groups/py/workers/"+id+"/poll", `{"max": 1, "wait_seconds": 20}`, http.StatusOK, &polled)
	if len(polled.Runs) != 1 {
		t.Fatalf("poll of %s: %+v, want one run", id, polled)
	}
	return polled.Runs[0]
}

func report(api *pinktest.API, t *testing.T, id string, run remoteRun, output string) (int, string) {
	t.Helper()
	code, body := api.Do(t, "POST", "/api/v1/runs/"+run.SnapshotID+"/result",
		fmt.Sprintf(`{"worker_id": %q, "claim": %q, "status": "succeeded", "output": %q}`, id, run.Claim, output))
	return code, string(body)
}

// TestWorkerProtocolAcrossNodes: a remote worker registered through one
// scheduler node is served through any other — its polls, heartbeats and
// results are forwarded to the node that holds it, as behind a load
// balancer — and when that node is killed -9 the worker hears 503
// worker_node_unreachable, then 410 worker_gone once its lease ended; it
// registers again through the other node, its run in flight is recorded
// lost and retried on the new registration, and the old claim's late
// result is refused. Real etcd, two `pink scheduler` processes.
func TestWorkerProtocolAcrossNodes(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	procA, apiA := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "node-a")
	_, apiB := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "node-b")
	first := registerRemote(t, apiA, `{"name": "py-1", "capacity": 1, "targets": ["send"], "ttl_seconds": 3}`)

	var clients struct {
		Clients []struct{ ID, Via string }
	}
	apiB.JSON(t, "GET", "/api/v1/groups/py/clients", nil, http.StatusOK, &clients)
	if len(clients.Clients) != 1 || clients.Clients[0].ID != first || clients.Clients[0].Via != "node-a" {
		t.Fatalf("clients of py as node-b sees them: %+v, want %s via node-a", clients, first)
	}
	var nodes struct {
		Nodes []struct{ ID, URL string }
	}
	apiB.JSON(t, "GET", "/api/v1/nodes", nil, http.StatusOK, &nodes)
	slices.SortFunc(nodes.Nodes, func(a, b struct{ ID, URL string }) int { return strings.Compare(a.ID, b.ID) })
	if len(nodes.Nodes) != 2 || nodes.Nodes[0].URL != apiA.Base || nodes.Nodes[1].URL != apiB.Base {
		t.Fatalf("nodes %+v, want node-a at %s and node-b at %s", nodes, apiA.Base, apiB.Base)
	}

	apiB.JSON(t, "POST", "/api/v1/jobs", `{"name": "invoices", "group": "py", "schedule": "@daily", "target": "send",
		"timeout": "1m", "paused": true, "retries": 1, "retry_backoff": "10ms"}`, http.StatusCreated, nil)
	apiB.JSON(t, "POST", "/api/v1/jobs/invoices/trigger", nil, http.StatusAccepted, nil)
	// Everything through node-b, which does not hold the worker.
	run := pollRemote(t, apiB, first)
	apiB.JSON(t, "POST", "/api/v1/groups/py/workers/"+first+"/heartbeat", nil, http.StatusNoContent, nil)
	if code, body := report(apiB, t, first, remoteRun{SnapshotID: run.SnapshotID, Claim: "forged"}, ""); code != http.StatusConflict ||
		!strings.Contains(body, "claim_lost") {
		t.Errorf("a forged claim through node-b: %d %s, want 409 claim_lost", code, body)
	}
	if code, body := report(apiB, t, first, run, "sent through node-b"); code != http.StatusOK {
		t.Fatalf("result through node-b: %d %s", code, body)
	}

	// The node holding the worker dies with a run claimed for it.
	apiB.JSON(t, "POST", "/api/v1/jobs/invoices/trigger", nil, http.StatusAccepted, nil)
	inFlight := pollRemote(t, apiB, first)
	procA.Kill()
	code, body := apiB.Do(t, "POST", "/api/v1/groups/py/workers/"+first+"/heartbeat", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "worker_node_unreachable") {
		t.Errorf("heartbeat right after node-a died: %d %s, want 503 worker_node_unreachable", code, body)
	}
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		code, body := apiB.Do(t, "POST", "/api/v1/groups/py/workers/"+first+"/heartbeat", nil)
		return code == http.StatusGone, fmt.Sprintf("heartbeat after node-a died: %d %s, want 410 once its lease ended", code, body)
	})
	second := registerRemote(t, apiB, `{"name": "py-1", "capacity": 1, "targets": ["send"], "ttl_seconds": 3}`)
	retried := pollRemote(t, apiB, second)
	if retried.SnapshotID != inFlight.SnapshotID || retried.Attempt != 2 {
		t.Errorf("the run in flight came back as %+v, want attempt 2 of %s", retried, inFlight.SnapshotID)
	}
	if code, body := report(apiB, t, first, inFlight, "too late"); code != http.StatusConflict {
		t.Errorf("the dead registration's late result: %d %s, want 409", code, body)
	}
	if code, body := report(apiB, t, second, retried, "sent as attempt 2"); code != http.StatusOK {
		t.Fatalf("result of attempt 2: %d %s", code, body)
	}

	names := map[string]string{first: "first", second: "second"}
	var history []string
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		runs := apiB.Runs(t, "invoices")
		slices.SortFunc(runs, func(a, b snapshot.Run) int { return a.FinishedAt.Compare(b.FinishedAt) })
		history = history[:0]
		for _, r := range runs {
			history = append(history, fmt.Sprintf("%d %s %s %s", r.Attempt, r.Status, names[r.Client], r.Output))
		}
		return len(history) == 3, fmt.Sprintf("history %q", history)
	})
	want := []string{"1 succeeded first sent through node-b", "1 lost first ", "2 succeeded second sent as attempt 2"}
	if !slices.Equal(history, want) {
		t.Errorf("history\n got %q\nwant %q", history, want)
	}
}

// pythonAcrossNodes is a Python worker given both scheduler nodes.
const pythonAcrossNodes = `
import logging, sys
from pink_worker import Worker
logging.basicConfig(level=logging.INFO)
worker = Worker(sys.argv[1], group="py", capacity=2, name="py", ttl_seconds=3, wait_seconds=2)

@worker.handle("send")
def send(run):
    return "attempt %d" % run.attempt

worker.run()
`

// TestPythonWorkerAcrossNodes: clients/python's worker, given the URLs of
// two scheduler nodes, goes on through the other when the node it
// registered with is killed -9: it registers again once its lease ended,
// and every fire of a per-second job runs exactly once to success — none
// lost for good, none doubled. Real etcd, two `pink scheduler` processes,
// a python3 process.
func TestPythonWorkerAcrossNodes(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	procA, apiA := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "node-a")
	_, apiB := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "node-b")
	lib, err := filepath.Abs("../clients/python")
	if err != nil {
		t.Fatal(err)
	}
	py := pinktest.StartCommand(t, "python worker", "python3", []string{"PYTHONPATH=" + lib, "PYTHONDONTWRITEBYTECODE=1"},
		"-c", pythonAcrossNodes, apiA.Base+","+apiB.Base)
	py.WaitOutput("registered as", 30*time.Second)
	apiB.JSON(t, "POST", "/api/v1/jobs", `{"name": "tick", "group": "py", "schedule": "* * * * * *", "target": "send",
		"timeout": "10s", "misfire": "run_all", "retries": 2, "retry_backoff": "10ms"}`, http.StatusCreated, nil)
	succeeded := func(after time.Time) (n int, vias map[string]bool) {
		vias = map[string]bool{}
		for _, r := range apiB.Runs(t, "tick") {
			if r.Status == snapshot.StatusSucceeded && r.ScheduledAt.After(after) {
				n++
				vias[r.Client] = true
			}
		}
		return n, vias
	}
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		n, _ := succeeded(time.Time{})
		return n >= 3, fmt.Sprintf("%d runs succeeded before the kill", n)
	})
	procA.Kill()
	killed := time.Now()
	before, _ := succeeded(time.Time{})
	py.WaitOutput("registering again", 30*time.Second)
	var window time.Time
	pinktest.Eventually(t, 60*time.Second, func() (bool, string) {
		window = killed.Add(8 * time.Second)
		n, clients := succeeded(window)
		return n >= 3, fmt.Sprintf("%d runs succeeded 8 s after the kill (%d before it), by %v", n, before, clients)
	})
	apiB.JSON(t, "POST", "/api/v1/jobs/tick/pause", nil, http.StatusOK, nil)
	py.Stop(30 * time.Second)

	// Every fire from the first through the window's end succeeded once.
	ok := map[time.Time]int{}
	var first time.Time
	for _, r := range apiB.Runs(t, "tick") {
		if r.Status == snapshot.StatusSucceeded {
			ok[r.ScheduledAt.UTC()]++
		}
		if first.IsZero() || r.ScheduledAt.Before(first) {
			first = r.ScheduledAt
		}
	}
	var missing, doubled []string
	for s := first.UTC().Truncate(time.Second); !s.After(window); s = s.Add(time.Second) {
		switch ok[s] {
		case 1:
		case 0:
			missing = append(missing, s.Format(time.TimeOnly))
		default:
			doubled = append(doubled, s.Format(time.TimeOnly))
		}
	}
	if len(missing) > 0 || len(doubled) > 0 {
		t.Errorf("fires from %s to %s (node-a killed at %s): not succeeded %v, succeeded twice %v\nworker output:\n%s",
			first.Format(time.TimeOnly), window.Format(time.TimeOnly), killed.Format(time.TimeOnly), missing, doubled, py.Output())
	}
}
