package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

func decode(b []byte, v any) error { return json.Unmarshal(b, v) }

func startDev(t *testing.T, dataDir, listen string) *pinktest.Process {
	t.Helper()
	p := pinktest.StartProcess(t, "pink dev", nil, "dev", "--data-dir", dataDir, "--listen", listen,
		"--etcd-listen", "127.0.0.1:0", "--session-ttl", "2s")
	p.WaitOutput("pink dev is running", 60*time.Second)
	return p
}

// TestDevRestartKeepsStateAndNeverRepeats: `pink dev` keeps jobs and
// history in its data dir, and a restart neither loses the job nor runs any
// fire twice; fires missed while it was down are made up (run_all).
func TestDevRestartKeepsStateAndNeverRepeats(t *testing.T) {
	dir := t.TempDir()
	listen := pinktest.FreeAddr(t)
	api := pinktest.NewAPI(listen)

	dev := startDev(t, dir, listen)
	type jobView struct {
		Revision  int64     `json:"revision"`
		CreatedAt time.Time `json:"created_at"`
	}
	var created, got jobView
	api.JSON(t, "POST", "/api/v1/jobs", everySecond, http.StatusCreated, &created)
	waitRuns(t, api, 3, time.Time{})
	before := api.Runs(t, "tick")
	dev.Stop(30 * time.Second)
	stoppedAt := time.Now()

	dev = startDev(t, dir, listen)
	defer dev.Stop(30 * time.Second)
	api.JSON(t, "GET", "/api/v1/jobs/tick", nil, http.StatusOK, &got)
	if got != created {
		t.Errorf("job after restart = %+v, want %+v", got, created)
	}
	waitRuns(t, api, 3, stoppedAt)
	runs := api.Runs(t, "tick")
	checkHistory(t, runs)
	kept := map[string]bool{}
	for _, r := range runs {
		kept[r.ID] = true
	}
	for _, r := range before {
		if !kept[r.ID] {
			t.Errorf("run %s from before the restart is gone", r.ID)
		}
	}
	catchup := 0
	for _, r := range runs {
		if r.Trigger == "catchup" {
			catchup++
		}
	}
	t.Logf("%d runs, %d before the restart, %d made up after it", len(runs), len(before), catchup)
}
