package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/pink-scheduler/pink/internal/cluster"
)

// registerWorker registers a live client of group as a worker does, with
// its targets, under a lease that outlives the test.
func registerWorker(t *testing.T, e *env, c cluster.Client) {
	t.Helper()
	ctx := context.Background()
	lease, err := e.etcd.Client.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.RegisterClient(ctx, lease.ID, c); err != nil {
		t.Fatal(err)
	}
}

// answer decodes an answer's top-level fields.
func answer(t *testing.T, body []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return m
}

// warningsOf is the answer's warnings, and "absent" when it has none.
func warningsOf(t *testing.T, body []byte) string {
	t.Helper()
	raw, ok := answer(t, body)["warnings"]
	if !ok {
		return "absent"
	}
	return string(raw)
}

func jobBody(name, group, target string) string {
	params := `{"url":"https://reports.internal/run"}`
	if target != "http" {
		params = `{"command":["true"]}`
	}
	return fmt.Sprintf(`{"name":%q,"group":%q,"schedule":"@daily","target":%q,"params":%s}`, name, group, target, params)
}

// TestTargetWarnings: a job written for a target that no live worker of its
// group runs, or in a group with no live worker, is written all the same
// (201/200) and the answer says why its fires will wait; with a worker
// that runs the target there is no warnings field. A draining worker does
// not count, and a worker that lists no targets runs anything. GET
// answers carry no warnings.
func TestTargetWarnings(t *testing.T) {
	e := start(t)
	for _, g := range []string{"default", "empty", "legacy"} {
		e.api.JSON(t, "POST", "/api/v1/groups", fmt.Sprintf(`{"name":%q}`, g), 201, nil)
	}
	registerWorker(t, e, cluster.Client{ID: "w1", Group: "default", Capacity: 1, Targets: []string{"shell", "http"}})
	registerWorker(t, e, cluster.Client{ID: "w2", Group: "default", Capacity: 1, Targets: []string{"http"}})
	registerWorker(t, e, cluster.Client{ID: "w3", Group: "default", Capacity: 1, Targets: []string{"shel"}, Draining: true})
	registerWorker(t, e, cluster.Client{ID: "old", Group: "legacy", Capacity: 1})
	const (
		noTarget = `["no live worker of group \"default\" runs target \"shel\" (live workers run: http, shell); fires will wait as pending until one does"]`
		noWorker = `["no live worker in group \"empty\"; fires will wait as pending until one registers"]`
	)
	tests := []struct {
		name, method, path, body string
		status                   int
		warnings                 string
	}{
		{"target advertised", "POST", "/api/v1/jobs", jobBody("report", "default", "http"), 201, "absent"},
		{"target not advertised", "POST", "/api/v1/jobs", jobBody("typo", "default", "shel"), 201, noTarget},
		{"group without workers", "POST", "/api/v1/jobs", jobBody("stranded", "empty", "http"), 201, noWorker},
		{"worker listing no targets", "POST", "/api/v1/jobs", jobBody("anything", "legacy", "shel"), 201, "absent"},
		{"replaced with a typo", "PUT", "/api/v1/jobs/report", jobBody("report", "default", "shel"), 200, noTarget},
		{"replaced with the fix", "PUT", "/api/v1/jobs/report", jobBody("report", "default", "shell"), 200, "absent"},
		{"moved to a group without workers", "PUT", "/api/v1/jobs/report", jobBody("report", "empty", "http"), 200, noWorker},
		{"read", "GET", "/api/v1/jobs/typo", "", 200, "absent"},
	}
	for _, tt := range tests {
		var body any
		if tt.body != "" {
			body = tt.body
		}
		status, got := e.api.Do(t, tt.method, tt.path, body)
		if status != tt.status {
			t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, status, got, tt.status)
			continue
		}
		if w := warningsOf(t, got); w != tt.warnings {
			t.Errorf("%s: warnings %s, want %s", tt.name, w, tt.warnings)
		}
	}
	// The answer with warnings can be sent back as it was read.
	_, created := e.api.Do(t, "POST", "/api/v1/jobs", jobBody("echo", "empty", "http"))
	e.api.JSON(t, "PUT", "/api/v1/jobs/echo", string(created), 200, nil)
}

// TestPendingReason: a pending snapshot says why it waits when no live
// worker of its group would take it: none runs its target, or the group
// has none; a snapshot a live worker would take has no pending_reason (it
// waits for the leader). The list, a group's list and one snapshot agree.
func TestPendingReason(t *testing.T) {
	e := start(t)
	for _, g := range []string{"default", "empty"} {
		e.api.JSON(t, "POST", "/api/v1/groups", fmt.Sprintf(`{"name":%q}`, g), 201, nil)
	}
	registerWorker(t, e, cluster.Client{ID: "w1", Group: "default", Capacity: 1, Targets: []string{"http", "shell"}})
	want := map[string]string{
		"typo":     `no live worker of group "default" runs target "shel"`,
		"stranded": `no live worker in group "empty"`,
		"report":   "absent",
	}
	ids := map[string]string{}
	for name, job := range map[string]string{"typo": jobBody("typo", "default", "shel"),
		"stranded": jobBody("stranded", "empty", "http"), "report": jobBody("report", "default", "http")} {
		e.api.JSON(t, "POST", "/api/v1/jobs", job, 201, nil)
		var trig struct {
			SnapshotID string `json:"snapshot_id"`
		}
		e.api.JSON(t, "POST", "/api/v1/jobs/"+name+"/trigger", nil, 202, &trig)
		ids[name] = trig.SnapshotID
	}
	reasons := func(path string) map[string]string {
		var list struct {
			Snapshots []map[string]any `json:"snapshots"`
		}
		e.api.JSON(t, "GET", path, nil, http.StatusOK, &list)
		out := map[string]string{}
		for _, s := range list.Snapshots {
			r, ok := s["pending_reason"].(string)
			if !ok {
				r = "absent"
			}
			out[s["job"].(string)] = r
		}
		return out
	}
	if got := reasons("/api/v1/snapshots"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pending reasons = %q, want %q", got, want)
	}
	if got := reasons("/api/v1/snapshots?group=empty"); fmt.Sprint(got) != fmt.Sprint(map[string]string{"stranded": want["stranded"]}) {
		t.Errorf("pending reasons of group empty = %q", got)
	}
	for name, id := range ids {
		_, body := e.api.Do(t, "GET", "/api/v1/snapshots/"+id, nil)
		got := "absent"
		if raw, ok := answer(t, body)["pending_reason"]; ok {
			_ = json.Unmarshal(raw, &got)
		}
		if got != want[name] {
			t.Errorf("GET snapshot of %s: pending_reason %q, want %q", name, got, want[name])
		}
	}
}

// TestForbidRefusalNamesTheTarget: a refused trigger of a forbid job whose
// pending run no live worker runs says so, rather than that the group has
// no worker.
func TestForbidRefusalNamesTheTarget(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)
	registerWorker(t, e, cluster.Client{ID: "w1", Group: "default", Capacity: 1, Targets: []string{"http"}})
	e.api.JSON(t, "POST", "/api/v1/jobs", `{"name":"typo","group":"default","schedule":"@daily","target":"shel","concurrency":"forbid"}`, 201, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs/typo/trigger", nil, 202, nil)
	var refused struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	e.api.JSON(t, "POST", "/api/v1/jobs/typo/trigger", nil, 409, &refused)
	want := `a run of this job is pending because no live worker of group default runs target "shel", and its concurrency is forbid: ` +
		"start a worker of group default that runs it, or correct the job's target; or force it to queue after that one (?force=true, pink jobs trigger --force)"
	if refused.Error.Code != "concurrency_forbid" || refused.Error.Message != want {
		t.Errorf("refusal %+v, want concurrency_forbid %q", refused.Error, want)
	}
}
