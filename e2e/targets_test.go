package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestDevUnknownTarget: on pink dev (whose worker runs http and shell) a
// job with target "shel" is created (201) with a warning that says so; its
// fires wait as pending, each with the reason in the snapshot list, and no
// run fails, while a shell job next to it runs. The leader says it once.
func TestDevUnknownTarget(t *testing.T) {
	p := pinktest.StartProcess(t, "pink dev", nil, "dev", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0",
		"--etcd-listen", "127.0.0.1:0", "--session-ttl", "2s")
	api := pinktest.NewAPI(p.DevAddr())
	p.WaitOutput("pink dev is running", 60*time.Second)
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		var clients struct {
			Clients []struct{ Targets []string } `json:"clients"`
		}
		api.JSON(t, "GET", "/api/v1/groups/default/clients", nil, http.StatusOK, &clients)
		return len(clients.Clients) == 1, fmt.Sprintf("workers of default: %+v", clients.Clients)
	})

	job := func(name, target string) map[string]any {
		return map[string]any{"name": name, "group": "default", "schedule": "* * * * * *", "target": target,
			"params": map[string]any{"command": []string{"true"}}}
	}
	var created map[string]json.RawMessage
	api.JSON(t, "POST", "/api/v1/jobs", job("typo", "shel"), http.StatusCreated, &created)
	want := `["no live worker of group \"default\" runs target \"shel\" (live workers run: http, shell); fires will wait as pending until one does"]`
	if got := string(created["warnings"]); got != want {
		t.Errorf("warnings of the created job: %s, want %s", got, want)
	}
	created = nil
	api.JSON(t, "POST", "/api/v1/jobs", job("ok", "shell"), http.StatusCreated, &created)
	if w, ok := created["warnings"]; ok {
		t.Errorf("a shell job got warnings %s", w)
	}

	// While the shell job runs, typo's fires wait, each saying why.
	waitRunsOf(t, api, "ok", 3)
	var live struct {
		Snapshots []struct {
			ID, State, Client, Target string
			PendingReason             string `json:"pending_reason"`
		} `json:"snapshots"`
	}
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		api.JSON(t, "GET", "/api/v1/snapshots?job=typo", nil, http.StatusOK, &live)
		return len(live.Snapshots) >= 2, fmt.Sprintf("%d live snapshots of typo", len(live.Snapshots))
	})
	for _, s := range live.Snapshots {
		if s.State != "pending" || s.Client != "" || s.Target != "shel" || s.PendingReason != `no live worker of group "default" runs target "shel"` {
			t.Errorf("snapshot %s: state %s client %q target %s pending_reason %q", s.ID, s.State, s.Client, s.Target, s.PendingReason)
		}
	}
	if runs, err := api.TryRuns("typo"); err != nil || len(runs) != 0 {
		t.Errorf("typo has %d runs (%v), want none: its fires wait", len(runs), err)
	}
	notice := regexp.MustCompile(`level=WARN msg="no live worker of the group runs the job's target; snapshot pending until one that does registers" .*` +
		`job_name=typo group=default target=shel live_workers_run=http,shell `)
	if n := len(notice.FindAllString(p.Output(), -1)); n != 1 {
		t.Errorf("%d warnings that no worker runs target shel, want 1 in the first minute:\n%s", n, p.Output())
	}
	p.Stop(30 * time.Second)
}
