package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
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

// TestDevRefusesBusyDataDirAndPorts: a second pink dev on a data dir in
// use fails at once naming the first one's pid (it used to hang on the
// embedded etcd's database lock and ignore SIGTERM); an etcd port or API
// address another process holds is refused with the flag that moves it.
// The first one keeps running, and its dir is free again once it stops.
func TestDevRefusesBusyDataDirAndPorts(t *testing.T) {
	dir := t.TempDir()
	first := pinktest.StartProcess(t, "pink dev", nil, "dev", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--etcd-listen", "127.0.0.1:0", "--session-ttl", "2s")
	apiAddr := first.DevAddr()
	first.WaitOutput("pink dev is running", 60*time.Second)
	etcdAddr := regexp.MustCompile(`msg="embedded etcd ready" endpoints=\[http://([0-9.:]+)\]`).FindStringSubmatch(first.Output())
	if etcdAddr == nil {
		t.Fatalf("no etcd endpoint in the log:\n%s", first.Output())
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"same data dir", []string{"--data-dir", dir, "--listen", "127.0.0.1:0", "--etcd-listen", "127.0.0.1:0"},
			fmt.Sprintf("pink dev: data dir %s is in use by another pink dev (pid %d): stop it, or give this one its own --data-dir", dir, first.Pid())},
		{"etcd port taken", []string{"--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--etcd-listen", etcdAddr[1]},
			fmt.Sprintf("pink dev: the embedded etcd cannot listen on %s: another process holds it (a second pink dev, or an etcd); move it with --etcd-listen", etcdAddr[1])},
		{"API address taken", []string{"--data-dir", t.TempDir(), "--listen", apiAddr, "--etcd-listen", "127.0.0.1:0"},
			fmt.Sprintf("listen on %s: another process holds it (another pink?); give --listen another address", apiAddr)},
	} {
		second := pinktest.StartProcess(t, "second pink dev ("+tc.name+")", nil, append([]string{"dev"}, tc.args...)...)
		pinktest.Eventually(t, 30*time.Second, func() (bool, string) { return second.Exited(), tc.name + ": the second pink dev still runs" })
		if !strings.Contains(second.Output(), tc.want) {
			t.Errorf("%s: printed\n%s\nwant a line with %q", tc.name, second.Output(), tc.want)
		}
	}
	if first.Exited() {
		t.Fatal("the first pink dev stopped")
	}
	first.Stop(30 * time.Second)
	again := startDev(t, dir, "127.0.0.1:0")
	again.Stop(30 * time.Second)
}

// TestDevLogsWhatMatters: at the default level pink dev does not log a
// line per successful run; a failed run is a WARN with its error; fires
// waiting in a group with no worker are said once (per group per minute),
// not once per fire.
func TestDevLogsWhatMatters(t *testing.T) {
	p := pinktest.StartProcess(t, "pink dev", nil, "dev", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0",
		"--etcd-listen", "127.0.0.1:0", "--session-ttl", "2s")
	api := pinktest.NewAPI(p.DevAddr())
	p.WaitOutput("pink dev is running", 60*time.Second)
	api.JSON(t, "POST", "/api/v1/groups", map[string]any{"name": "nobody"}, http.StatusCreated, nil)
	for _, j := range []map[string]any{
		{"name": "ok", "group": "default", "schedule": "* * * * * *", "target": "shell", "params": map[string]any{"command": []string{"true"}}},
		{"name": "boom", "group": "default", "schedule": "* * * * * *", "target": "shell", "params": map[string]any{"command": []string{"sh", "-c", "exit 3"}}},
		{"name": "stranded", "group": "nobody", "schedule": "* * * * * *", "target": "shell", "params": map[string]any{"command": []string{"true"}}},
	} {
		api.JSON(t, "POST", "/api/v1/jobs", j, http.StatusCreated, nil)
	}
	waitRunsOf(t, api, "ok", 3)
	waitRunsOf(t, api, "boom", 3)
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		var live struct {
			Snapshots []any `json:"snapshots"`
		}
		api.JSON(t, "GET", "/api/v1/snapshots?group=nobody", nil, http.StatusOK, &live)
		return len(live.Snapshots) >= 3, fmt.Sprintf("%d pending in group nobody", len(live.Snapshots))
	})
	out := p.Output()
	if n := strings.Count(out, `msg="run finished"`); n != 0 {
		t.Errorf("%d INFO lines for successful runs, want none at the default level", n)
	}
	failed := regexp.MustCompile(`level=WARN msg="run failed" .*job_name=boom.*status=failed error="command exited with status 3`)
	if n := len(failed.FindAllString(out, -1)); n < 3 {
		t.Errorf("%d WARN lines with the error for boom's 3+ failed runs:\n%s", n, out)
	}
	pending := regexp.MustCompile(`level=WARN msg="no live client; snapshot pending until a worker of the group registers" .*job_name=stranded group=nobody`)
	if n := len(pending.FindAllString(out, -1)); n != 1 {
		t.Errorf("%d warnings that group nobody has no worker, want 1 in the first minute", n)
	}
}

// TestDevStopsAtOnce: Ctrl-C of pink dev does not wait out a run in
// progress (it gave runs 10 s, and waited them out): the 3-second run is
// interrupted, not finished, recorded lost, and (the job has a retry) the
// next start runs it again to success.
func TestDevStopsAtOnce(t *testing.T) {
	dir := t.TempDir()
	dev := pinktest.StartProcess(t, "pink dev", nil, "dev", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--etcd-listen", "127.0.0.1:0", "--session-ttl", "2s", "--log-level", "debug")
	api := pinktest.NewAPI(dev.DevAddr())
	dev.WaitOutput("pink dev is running", 60*time.Second)
	api.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": "three-seconds", "group": "default", "schedule": "@yearly", "retries": 1,
		"retry_backoff": "1s", "target": "shell", "params": map[string]any{"command": []string{"sleep", "3"}}}, http.StatusCreated, nil)
	var trig struct {
		SnapshotID string `json:"snapshot_id"`
	}
	api.JSON(t, "POST", "/api/v1/jobs/three-seconds/trigger", nil, http.StatusAccepted, &trig)
	dev.WaitOutput("snapshot_id="+trig.SnapshotID, 30*time.Second)
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		var s struct{ State string }
		api.JSON(t, "GET", "/api/v1/snapshots/"+trig.SnapshotID, nil, http.StatusOK, &s)
		return s.State == "running", "the run has not started: " + s.State
	})
	dev.Stop(30 * time.Second)
	out := dev.Output()
	if !strings.Contains(out, `msg="run interrupted by shutdown; the leader will retry it"`) || strings.Contains(out, `msg="run finished"`) {
		t.Fatalf("the run was not interrupted by Ctrl-C:\n%s", out)
	}
	again := pinktest.StartProcess(t, "pink dev again", nil, "dev", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--etcd-listen", "127.0.0.1:0", "--session-ttl", "2s")
	api = pinktest.NewAPI(again.DevAddr())
	runs := waitRunsOf(t, api, "three-seconds", 1)
	pinktest.Eventually(t, 60*time.Second, func() (bool, string) {
		runs = api.Runs(t, "three-seconds")
		for _, r := range runs {
			if r.Status == "succeeded" && r.Attempt == 2 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no successful retry yet: %+v", runs)
	})
	again.Stop(30 * time.Second)
}
