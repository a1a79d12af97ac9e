package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestWorkerProtocol speaks issue 17's HTTP worker protocol to a real
// `pink dev` over HTTP, as a client in another language would: register,
// appear as a client of the group, long-poll a claimed run, report it with
// its claim (the run is in history with its output), and the protocol's
// refusals — a wrong claim (409 claim_lost), a bad status (400), an unknown
// worker (410 worker_gone) — then drain.
func TestWorkerProtocol(t *testing.T) {
	_, api := startConsoleDev(t)
	var reg struct {
		WorkerID   string  `json:"worker_id"`
		TTLSeconds float64 `json:"ttl_seconds"`
	}
	api.JSON(t, "POST", "/api/v1/groups/py/workers", `{"name": "py-1", "capacity": 2, "targets": ["send-invoices"], "ttl_seconds": 5}`,
		http.StatusCreated, &reg)
	if reg.WorkerID == "" || reg.TTLSeconds != 5 {
		t.Fatalf("registered %+v", reg)
	}
	var clients struct {
		Clients []struct {
			ID       string   `json:"id"`
			Capacity int      `json:"capacity"`
			Targets  []string `json:"targets"`
		} `json:"clients"`
	}
	api.JSON(t, "GET", "/api/v1/groups/py/clients", nil, http.StatusOK, &clients)
	if len(clients.Clients) != 1 || clients.Clients[0].ID != reg.WorkerID || clients.Clients[0].Capacity != 2 ||
		strings.Join(clients.Clients[0].Targets, ",") != "send-invoices" {
		t.Errorf("clients of py: %+v", clients)
	}
	api.JSON(t, "POST", "/api/v1/jobs", `{"name": "invoices", "group": "py", "schedule": "@daily", "target": "send-invoices",
		"params": {"batch": 7}, "timeout": "1m", "paused": true}`, http.StatusCreated, nil)
	api.JSON(t, "POST", "/api/v1/jobs/invoices/trigger", nil, http.StatusAccepted, nil)

	workerPath := "/api/v1/groups/py/workers/" + reg.WorkerID
	var polled struct {
		Runs []struct {
			SnapshotID     string          `json:"snapshot_id"`
			Job            string          `json:"job"`
			Group          string          `json:"group"`
			Target         string          `json:"target"`
			Params         json.RawMessage `json:"params"`
			Attempt        int             `json:"attempt"`
			ScheduledAt    time.Time       `json:"scheduled_at"`
			TimeoutSeconds float64         `json:"timeout_seconds"`
			Claim          string          `json:"claim"`
		} `json:"runs"`
	}
	api.JSON(t, "POST", workerPath+"/poll", `{"max": 2, "wait_seconds": 10}`, http.StatusOK, &polled)
	if len(polled.Runs) != 1 {
		t.Fatalf("polled %+v", polled)
	}
	run := polled.Runs[0]
	if run.Job != "invoices" || run.Group != "py" || run.Target != "send-invoices" || string(run.Params) != `{"batch":7}` ||
		run.Attempt != 1 || run.Claim == "" || run.TimeoutSeconds <= 50 || run.TimeoutSeconds > 60 || run.ScheduledAt.IsZero() {
		t.Errorf("polled run %+v", run)
	}
	api.JSON(t, "POST", workerPath+"/heartbeat", nil, http.StatusNoContent, nil)

	resultPath := "/api/v1/runs/" + run.SnapshotID + "/result"
	for _, bad := range []struct {
		body string
		code int
		err  string
	}{
		{`{"worker_id": "` + reg.WorkerID + `", "claim": "` + run.Claim + `", "status": "done"}`, http.StatusBadRequest, "invalid_field"},
		{`{"worker_id": "` + reg.WorkerID + `", "claim": "forged", "status": "succeeded"}`, http.StatusConflict, "claim_lost"},
		{`{"worker_id": "` + reg.WorkerID + `", "claim": "` + run.Claim + `", "status": "succeeded", "extra": 1}`, http.StatusBadRequest, ""},
	} {
		if code, body := api.Do(t, "POST", resultPath, bad.body); code != bad.code || !strings.Contains(string(body), bad.err) {
			t.Errorf("result %s: %d %s, want %d %s", bad.body, code, body, bad.code, bad.err)
		}
	}
	var recorded struct{ Status string }
	api.JSON(t, "POST", resultPath, `{"worker_id": "`+reg.WorkerID+`", "claim": "`+run.Claim+`", "status": "succeeded", "output": "7 sent"}`,
		http.StatusOK, &recorded)
	if recorded.Status != "recorded" {
		t.Errorf("result answer %+v", recorded)
	}
	if code, body := api.Do(t, "POST", resultPath, `{"worker_id": "`+reg.WorkerID+`", "claim": "`+run.Claim+`", "status": "succeeded"}`); code != http.StatusConflict {
		t.Errorf("a second result: %d %s, want 409", code, body)
	}
	runs := api.Runs(t, "invoices")
	if len(runs) != 1 || runs[0].Status != "succeeded" || runs[0].Output != "7 sent" || runs[0].Client != reg.WorkerID {
		t.Errorf("history %+v", runs)
	}
	// Its metrics are a worker's, on the node's /metrics.
	m := pinktest.Scrape(t, api.Base+"/metrics")
	if got := pinktest.Metric(t, m, "pink_worker_runs_total", map[string]string{"group": "py", "job_name": "invoices", "status": "succeeded"}); got != 1 {
		t.Errorf("pink_worker_runs_total of the remote worker's run: %v, want 1", got)
	}
	if got := pinktest.Metric(t, m, "pink_worker_capacity", map[string]string{"group": "py"}); got != 2 {
		t.Errorf("pink_worker_capacity of group py: %v, want 2", got)
	}

	for _, bad := range []struct {
		method, path, body string
		code               int
		err                string
	}{
		{"POST", "/api/v1/groups/py/workers", `{"targets": ["x"], "ttl_seconds": 1}`, http.StatusBadRequest, "ttl must be"},
		{"POST", "/api/v1/groups/py/workers", `{"capacity": 2}`, http.StatusBadRequest, "targets must name"},
		{"POST", "/api/v1/groups/py/workers/nobody/poll", `{"max": 1, "wait_seconds": 0}`, http.StatusGone, "worker_gone"},
		{"POST", "/api/v1/groups/other/workers/" + reg.WorkerID + "/heartbeat", "", http.StatusGone, "worker_gone"},
		{"POST", workerPath + "/poll", `{"max": 0}`, http.StatusBadRequest, "max must be"},
	} {
		if code, body := api.Do(t, bad.method, bad.path, bad.body); code != bad.code || !strings.Contains(string(body), bad.err) {
			t.Errorf("%s %s %s: %d %s, want %d %s", bad.method, bad.path, bad.body, code, body, bad.code, bad.err)
		}
	}

	api.JSON(t, "DELETE", workerPath, nil, http.StatusNoContent, nil)
	if code, body := api.Do(t, "POST", workerPath+"/heartbeat", nil); code != http.StatusGone {
		t.Errorf("heartbeat after the drain: %d %s, want 410", code, body)
	}
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		api.JSON(t, "GET", "/api/v1/groups/py/clients", nil, http.StatusOK, &clients)
		return len(clients.Clients) == 0, "the drained worker is still a client"
	})
}

// TestWorkerProtocolWalkthrough runs docs/worker-protocol.md's curl
// walk-through as written against a real `pink dev` (only the port
// differs), so the document cannot rot.
func TestWorkerProtocolWalkthrough(t *testing.T) {
	doc, err := os.ReadFile("../docs/worker-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- walkthrough:start -->\\s*```sh\\n(.*?)```\\s*<!-- walkthrough:end -->").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/worker-protocol.md has no walkthrough block between its markers")
	}
	base, _ := startConsoleDev(t)
	script := strings.ReplaceAll(string(m[1]), "http://127.0.0.1:8080", base)
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("walk-through failed: %v\n%s", err, out)
	}
	for _, want := range []string{`{"status":"recorded"}`, `"status":"succeeded"`, `"output":"hello from curl"`, `"client":"curl-`, "\n204\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("walk-through output lacks %s:\n%s", want, out)
		}
	}
}
