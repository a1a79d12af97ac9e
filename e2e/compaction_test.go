package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestCompactionUnderLoad: a leader compacting etcd every second while
// jobs fire every second on two workers. Then the leader is frozen while a
// job is unpaused and another updated 50 times behind its back, etcd is
// compacted past all of it and restarted, so that every watch of the
// leader and the workers resumes from a compacted revision and must
// re-list. Every fire of every job runs exactly once (run_all catches up
// the seconds the leader was frozen), and the job unpaused meanwhile fires.
func TestCompactionUnderLoad(t *testing.T) {
	etcd := pinktest.StartEtcdProcess(t)
	leader := pinktest.StartProcess(t, "scheduler s1", nil, "scheduler", "--etcd-endpoints", etcd.Endpoints[0],
		"--listen", "127.0.0.1:0", "--node-id", "s1", "--session-ttl", "15s", "--etcd-compact-interval", "1s")
	api := pinktest.NewAPI(leader.SchedulerAddr())
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		status, _, err := api.TryDo("GET", "/readyz", nil)
		return err == nil && status == http.StatusOK, fmt.Sprintf("not ready: %v", err)
	})
	pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1")
	pinktest.StartWorkerProcess(t, etcd.Endpoints, "w2")
	const jobs = 10
	for i := range jobs {
		api.JSON(t, "POST", "/api/v1/jobs", fmt.Sprintf(`{"name":"tick-%d","group":"default","schedule":"@every 1s","target":"shell",
			"params":{"command":["true"]},"misfire":"run_all"}`, i), http.StatusCreated, nil)
	}
	api.JSON(t, "POST", "/api/v1/jobs", `{"name":"during","group":"default","schedule":"@every 1s","target":"shell",
		"params":{"command":["true"]},"misfire":"skip","paused":true}`, http.StatusCreated, nil)
	waitRunsOf(t, api, "tick-0", 3)
	relistsBefore := relists(t, api)

	cli := pinktest.StartEtcdClient(t, etcd.Endpoints)
	stored := func(name string) map[string]any {
		get, err := cli.Get(t.Context(), "/pink/job/conf/"+name)
		if err != nil || len(get.Kvs) != 1 {
			t.Fatalf("read job %s: %v", name, err)
		}
		var spec map[string]any
		if err := json.Unmarshal(get.Kvs[0].Value, &spec); err != nil {
			t.Fatal(err)
		}
		return spec
	}
	spec, during := stored("tick-9"), stored("during")
	leader.Pause()
	put := func(key string, v any) int64 {
		t.Helper()
		b, _ := json.Marshal(v)
		resp, err := cli.Put(t.Context(), key, string(b))
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	// Behind the frozen leader's back: 50 large updates of tick-9 (its
	// params change, its schedule does not), and job "during" unpaused.
	for i := range 50 {
		spec["params"] = map[string]any{"command": []string{"true", strings.Repeat("x", 32<<10), fmt.Sprint(i)}}
		put("/pink/job/conf/tick-9", spec)
	}
	during["paused"] = false
	last := put("/pink/job/conf/during", during)
	if _, err := cli.Compact(t.Context(), last); err != nil {
		t.Fatal(err)
	}
	etcd.Kill()
	etcd.Start()
	leader.Resume()

	waitRunsOf(t, api, "during", 3)
	api.JSON(t, "POST", "/api/v1/jobs", `{"name":"late","group":"default","schedule":"@every 1s","target":"shell","params":{"command":["true"]}}`,
		http.StatusCreated, nil)
	waitRunsOf(t, api, "late", 3)
	for i := range jobs {
		runs := api.Runs(t, fmt.Sprintf("tick-%d", i))
		pinktest.RequireNoDuplicates(t, runs)
		requireEverySecond(t, fmt.Sprintf("tick-%d", i), runs)
		for _, r := range runs {
			if r.Status != snapshot.StatusSucceeded {
				t.Errorf("%s: %s %s", r.ID, r.Status, r.Error)
			}
		}
	}
	metrics := pinktest.Scrape(t, api.Base+"/metrics")
	if n := pinktest.Metric(t, metrics, "pink_etcd_compactions_total", map[string]string{"result": "ok"}); n < 3 {
		t.Errorf("%v compactions, want one a second", n)
	}
	// Both workers lived and claimed all along: a claim still in the
	// resumed leader's backlog must not make it judge them stalled.
	if n := pinktest.Metric(t, metrics, "pink_failovers_total", map[string]string{"reason": "client_stalled"}); n != 0 {
		t.Errorf("%v fires moved from a client judged stalled, want 0: both workers were alive", n)
	}
	if n := relists(t, api) - relistsBefore; n == 0 {
		t.Errorf("the leader's watches did not re-list after resuming from a compacted revision")
	} else {
		t.Logf("the leader's watches re-listed %v times", n)
	}
}

// relists is how many times the leader's mirrors have listed their prefix.
func relists(t *testing.T, api *pinktest.API) float64 {
	t.Helper()
	return pinktest.Metric(t, pinktest.Scrape(t, api.Base+"/metrics"), "pink_etcd_request_duration_seconds", map[string]string{"op": "mirror_list"})
}
