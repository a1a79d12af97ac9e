// Package e2e tests pink as users run it: real processes of the built
// binary on loopback ports, a real etcd, and the HTTP API.
package e2e

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

func TestMain(m *testing.M) { pinktest.Main(m) }

// everySecond is a job that echoes once a second and makes up every missed
// fire, so any gap or duplicate in its history is a scheduler bug.
const everySecond = `{"name":"tick","group":"default","schedule":"* * * * * *","target":"shell",
	"params":{"command":["echo","hello"]},"misfire":"run_all"}`

type nodeList struct {
	Nodes []struct {
		ID     string `json:"id"`
		Addr   string `json:"addr"`
		Leader bool   `json:"leader"`
	} `json:"nodes"`
	Leader string `json:"leader"`
}

// leaderAsSeenBy returns the leader node id reported by api, checking that
// exactly one node is marked leader.
func leaderAsSeenBy(t *testing.T, api *pinktest.API) (string, error) {
	var nl nodeList
	status, body, err := api.TryDo("GET", "/api/v1/nodes", nil)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("status %d", status)
	}
	if err := decode(body, &nl); err != nil {
		return "", err
	}
	var leaders []string
	for _, n := range nl.Nodes {
		if n.Leader {
			leaders = append(leaders, n.ID)
		}
	}
	if len(leaders) != 1 || leaders[0] != nl.Leader {
		return "", fmt.Errorf("leaders %v, leader field %q", leaders, nl.Leader)
	}
	return nl.Leader, nil
}

// checkHistory asserts one succeeded run per second from the first to the
// last scheduled_at: no gap, no duplicate. It returns the nominal times.
func checkHistory(t *testing.T, runs []snapshot.Run) []time.Time {
	t.Helper()
	seen := map[time.Time]string{}
	var at []time.Time
	for _, r := range runs {
		if r.Status != snapshot.StatusSucceeded || r.Output != "hello\n" {
			t.Errorf("run %s: status %s, output %q, error %q", r.ID, r.Status, r.Output, r.Error)
		}
		if prev, dup := seen[r.ScheduledAt]; dup {
			t.Errorf("scheduled_at %s ran twice: %s and %s", r.ScheduledAt.Format(time.RFC3339), prev, r.ID)
		}
		seen[r.ScheduledAt] = r.ID
		at = append(at, r.ScheduledAt)
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	for i := 1; i < len(at); i++ {
		if at[i].Sub(at[i-1]) > time.Second {
			t.Errorf("no run between %s and %s", at[i-1].Format(time.RFC3339), at[i].Format(time.RFC3339))
		}
	}
	return at
}

// TestTwoSchedulersOneLeader: two scheduler processes elect exactly one
// leader, both report the same one, and when the leader is stopped the
// other takes over without losing or doubling a fire.
func TestTwoSchedulersOneLeader(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	procA, apiA := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "node-a")
	procB, apiB := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "node-b")
	// The worker finds etcd through PINK_ETCD_ENDPOINTS instead of the flag,
	// and answers its own /healthz.
	w1 := pinktest.StartProcess(t, "worker w1", []string{"PINK_ETCD_ENDPOINTS=" + strings.Join(etcd.Endpoints, ",")},
		"worker", "--group", "default", "--allow-shell", "--listen", "127.0.0.1:0", "--name", "w1", "--lease-ttl", "2s")
	workerAddr := w1.WorkerAddr()
	w1.WaitOutput("worker registered", 30*time.Second)
	if status, body, err := pinktest.NewAPI(workerAddr).TryDo("GET", "/healthz", nil); err != nil || status != http.StatusOK || string(body) != `{"status":"ok"}`+"\n" {
		t.Fatalf("worker /healthz: %d %q %v", status, body, err)
	}

	var leader string
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		a, errA := leaderAsSeenBy(t, apiA)
		b, errB := leaderAsSeenBy(t, apiB)
		leader = a
		return errA == nil && errB == nil && a == b, fmt.Sprintf("node-a sees %q (%v), node-b sees %q (%v)", a, errA, b, errB)
	})
	apiA.JSON(t, "POST", "/api/v1/jobs", everySecond, http.StatusCreated, nil)
	waitRuns(t, apiB, 3, time.Time{})

	// Only the leader fires: its log says so, the follower's does not.
	leaderProc, follower, followerAPI, followerID := procA, procB, apiB, "node-b"
	if leader == "node-b" {
		leaderProc, follower, followerAPI, followerID = procB, procA, apiA, "node-a"
	}
	if strings.Contains(follower.Output(), "became leader") {
		t.Fatalf("%s claims it became leader while %s leads", followerID, leader)
	}

	handover := time.Now()
	leaderProc.Stop(30 * time.Second)
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		id, err := leaderAsSeenBy(t, followerAPI)
		return err == nil && id == followerID, fmt.Sprintf("leader %q (%v), want %s", id, err, followerID)
	})
	waitRuns(t, followerAPI, 3, handover)
	runs := followerAPI.Runs(t, "tick")
	at := checkHistory(t, runs)
	t.Logf("%d runs from %s to %s across the handover at %s", len(at), at[0].Format(time.TimeOnly),
		at[len(at)-1].Format(time.TimeOnly), handover.Format(time.TimeOnly))
}

// waitRuns waits until the job has n runs scheduled after since.
func waitRuns(t *testing.T, api *pinktest.API, n int, since time.Time) {
	t.Helper()
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		runs, err := api.TryRuns("tick")
		if err != nil {
			return false, err.Error()
		}
		count := 0
		for _, r := range runs {
			if r.ScheduledAt.After(since) {
				count++
			}
		}
		return count >= n, fmt.Sprintf("%d runs after %s", count, since.Format(time.TimeOnly))
	})
}
