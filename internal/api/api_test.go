package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) { pinktest.Main(m) }

// now is the API's clock in these tests, so responses are reproducible.
var now = time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)

type env struct {
	etcd *pinktest.Etcd
	st   *store.Store
	api  *pinktest.API
}

func start(t *testing.T) *env {
	t.Helper()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	srv := httptest.NewServer(api.New(api.Config{Store: st, Now: func() time.Time { return now }}))
	t.Cleanup(srv.Close)
	return &env{etcd: e, st: st, api: pinktest.NewAPI(strings.TrimPrefix(srv.URL, "http://"))}
}

const validJob = `{"name":"report","group":"default","schedule":"0 9 * * 1-5","timezone":"Europe/Berlin",
	"target":"http","params":{"url":"https://reports.internal/run","method":"POST"},"labels":{"team":"data"}}`

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestJobLifecycle walks a job through create, read, replace, pause,
// resume, trigger and delete, checking statuses and bodies.
func TestJobLifecycle(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default","description":"the default group"}`, 201, nil)
	// A worker runs the job's target: the answer has no warnings (see
	// TestTargetWarnings), so it is the GET's.
	registerWorker(t, e, cluster.Client{ID: "w1", Group: "default", Capacity: 1, Targets: []string{"http"}})
	// Indented on request (?pretty=1), compact otherwise.
	status, body := e.api.Do(t, "POST", "/api/v1/jobs?pretty=1", validJob)
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	golden(t, "job_created.json", body)
	_, compact := e.api.Do(t, "GET", "/api/v1/jobs/report", nil)
	var indented bytes.Buffer
	if err := json.Indent(&indented, compact, "", "  "); err != nil || indented.String() != string(body) || bytes.Contains(compact, []byte("\n  ")) {
		t.Errorf("GET without ?pretty is not the compact form of the created job:\n%s", compact)
	}

	var j struct {
		Revision  int64    `json:"revision"`
		NextFires []string `json:"next_fires"`
		Paused    bool     `json:"paused"`
		Schedule  string   `json:"schedule"`
	}
	e.api.JSON(t, "GET", "/api/v1/jobs/report", nil, 200, &j)
	// Friday 2026-11-27 09:00 in Berlin is 08:00 UTC; next fires skip the
	// weekend, and read in UTC like every time of an answer.
	want := []string{"2026-11-27T08:00:00.000Z", "2026-11-30T08:00:00.000Z", "2026-12-01T08:00:00.000Z",
		"2026-12-02T08:00:00.000Z", "2026-12-03T08:00:00.000Z"}
	if fmt.Sprint(j.NextFires) != fmt.Sprint(want) {
		t.Errorf("next_fires = %v, want %v", j.NextFires, want)
	}

	var list struct {
		Jobs []struct {
			Name string `json:"name"`
		} `json:"jobs"`
	}
	e.api.JSON(t, "GET", "/api/v1/jobs?group=default", nil, 200, &list)
	if len(list.Jobs) != 1 || list.Jobs[0].Name != "report" {
		t.Errorf("list = %+v", list)
	}
	e.api.JSON(t, "GET", "/api/v1/jobs?group=other", nil, 200, &list)
	if len(list.Jobs) != 0 {
		t.Errorf("list of another group = %+v", list)
	}

	// Replace with the current revision; the revision then moves on.
	replaced := strings.Replace(validJob, `"0 9 * * 1-5"`, `"30 9 * * 1-5"`, 1)
	replaced = strings.Replace(replaced, `{"name"`, fmt.Sprintf(`{"revision":%d,"name"`, j.Revision), 1)
	old := j.Revision
	e.api.JSON(t, "PUT", "/api/v1/jobs/report", replaced, 200, &j)
	if j.Revision <= old || j.Schedule != "30 9 * * 1-5" {
		t.Errorf("after replace: revision %d (was %d), schedule %q", j.Revision, old, j.Schedule)
	}
	// GET, edit, PUT works with the body as read (next_fires included).
	_, raw := e.api.Do(t, "GET", "/api/v1/jobs/report", nil)
	e.api.JSON(t, "PUT", "/api/v1/jobs/report", strings.Replace(string(raw), `"30 9 * * 1-5"`, `"45 9 * * 1-5"`, 1), 200, &j)

	e.api.JSON(t, "POST", "/api/v1/jobs/report/pause", nil, 200, &j)
	if !j.Paused || len(j.NextFires) != 0 {
		t.Errorf("paused job: paused=%v next_fires=%v", j.Paused, j.NextFires)
	}
	e.api.JSON(t, "POST", "/api/v1/jobs/report/resume", nil, 200, &j)
	if j.Paused {
		t.Error("resume left the job paused")
	}

	var trig struct {
		SnapshotID string `json:"snapshot_id"`
		State      string `json:"state"`
	}
	e.api.JSON(t, "POST", "/api/v1/jobs/report/trigger", nil, 202, &trig)
	if !strings.HasPrefix(trig.SnapshotID, "report@20261126T160000Z-m") || trig.State != "pending" {
		t.Errorf("trigger = %+v", trig)
	}
	var snaps struct {
		Snapshots []struct {
			ID, State, Trigger string
		} `json:"snapshots"`
	}
	e.api.JSON(t, "GET", "/api/v1/snapshots?job=report", nil, 200, &snaps)
	if len(snaps.Snapshots) != 1 || snaps.Snapshots[0].ID != trig.SnapshotID || snaps.Snapshots[0].State != "pending" || snaps.Snapshots[0].Trigger != "manual" {
		t.Errorf("snapshots = %+v", snaps)
	}
	e.api.JSON(t, "DELETE", "/api/v1/snapshots/"+trig.SnapshotID, nil, 200, nil)
	var run struct {
		Status, Trigger, Error string
	}
	e.api.JSON(t, "GET", "/api/v1/runs/"+trig.SnapshotID+".001", nil, 200, &run)
	if run.Status != "canceled" || run.Trigger != "manual" {
		t.Errorf("canceled snapshot's run = %+v", run)
	}
	var runs struct {
		Runs []struct{ ID string } `json:"runs"`
	}
	e.api.JSON(t, "GET", "/api/v1/runs?job=report&status=canceled", nil, 200, &runs)
	if len(runs.Runs) != 1 {
		t.Errorf("runs = %+v", runs)
	}

	e.api.JSON(t, "DELETE", "/api/v1/jobs/report", nil, 200, nil)
	e.api.JSON(t, "GET", "/api/v1/jobs/report", nil, 404, nil)
	if keys := e.etcd.Keys(t, "/pink/job/"); len(keys) != 0 {
		t.Errorf("job keys left after delete: %v", keys)
	}
	if keys := e.etcd.Keys(t, "/pink/schedule/"); len(keys) != 0 {
		t.Errorf("schedule keys left after delete: %v", keys)
	}
}

func TestHealthAndNodes(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "GET", "/healthz", nil, 200, nil)
	e.api.JSON(t, "GET", "/readyz", nil, 200, nil)
	var nodes struct {
		Nodes  []any  `json:"nodes"`
		Leader string `json:"leader"`
	}
	e.api.JSON(t, "GET", "/api/v1/nodes", nil, 200, &nodes)
	if len(nodes.Nodes) != 0 || nodes.Leader != "" {
		t.Errorf("nodes without schedulers = %+v", nodes)
	}
	e.etcd.Close()
	e.api.JSON(t, "GET", "/healthz", nil, 200, nil)
	e.api.JSON(t, "GET", "/readyz", nil, 503, nil)
}

// TestBadInput: every client mistake gets a 4xx with the error shape and a
// stable code, and writes nothing (etcd's revision does not move).
func TestBadInput(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", validJob, 201, nil)
	var current struct {
		Revision int64 `json:"revision"`
	}
	e.api.JSON(t, "GET", "/api/v1/jobs/report", nil, 200, &current)

	job := func(field, value string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(validJob), &m); err != nil {
			t.Fatal(err)
		}
		m["name"] = "new-job"
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Fatal(err)
		}
		m[field] = v
		b, _ := json.Marshal(m)
		return string(b)
	}
	big := `{"name":"big","description":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`
	tests := []struct {
		name         string
		method, path string
		body         string
		contentType  string
		status       int
		code         string
		field        string
	}{
		{"invalid cron", "POST", "/api/v1/jobs", job("schedule", `"61 * * * *"`), "", 400, "invalid_schedule", "schedule"},
		{"cron that never fires", "POST", "/api/v1/jobs", job("schedule", `"0 0 30 2 *"`), "", 400, "invalid_schedule", "schedule"},
		{"unknown timezone", "POST", "/api/v1/jobs", job("timezone", `"Europe/Atlantis"`), "", 400, "invalid_timezone", "timezone"},
		{"unknown group", "POST", "/api/v1/jobs", job("group", `"nope"`), "", 400, "unknown_group", ""},
		{"bad job name", "POST", "/api/v1/jobs", job("name", `"Bad Name"`), "", 400, "invalid_name", "name"},
		{"bad group name", "POST", "/api/v1/jobs", job("group", `"a/b"`), "", 400, "invalid_name", "group"},
		{"unknown field", "POST", "/api/v1/jobs", job("retires", `3`), "", 400, "unknown_field", "retires"},
		{"wrong type", "POST", "/api/v1/jobs", job("retries", `"3"`), "", 400, "wrong_type", "retries"},
		{"duration as number", "POST", "/api/v1/jobs", job("timeout", `30`), "", 400, "wrong_type", "timeout"},
		{"bad enum", "POST", "/api/v1/jobs", job("concurrency", `"sometimes"`), "", 400, "invalid_field", "concurrency"},
		{"bad http params", "POST", "/api/v1/jobs", job("params", `{"url":"not a url"}`), "", 400, "invalid_field", "params.url"},
		{"params not an object", "POST", "/api/v1/jobs", job("params", `"x"`), "", 400, "invalid_field", "params"},
		{"malformed json", "POST", "/api/v1/jobs", `{"name":`, "", 400, "malformed_json", ""},
		{"empty body", "POST", "/api/v1/jobs", ``, "", 400, "malformed_json", ""},
		{"array body", "POST", "/api/v1/jobs", `[]`, "", 400, "malformed_json", ""},
		{"trailing data", "POST", "/api/v1/jobs", validJob + `{}`, "", 400, "malformed_json", ""},
		{"body over 1 MiB", "POST", "/api/v1/jobs", big, "", 413, "body_too_large", ""},
		{"xml body", "POST", "/api/v1/jobs", `<job/>`, "application/xml", 415, "unsupported_media_type", ""},
		{"duplicate job", "POST", "/api/v1/jobs", validJob, "", 409, "job_exists", ""},
		{"replace with stale revision", "PUT", "/api/v1/jobs/report", strings.Replace(validJob, `{"name"`, fmt.Sprintf(`{"revision":%d,"name"`, current.Revision-1), 1), "", 409, "revision_mismatch", ""},
		{"replace renaming", "PUT", "/api/v1/jobs/report", job("name", `"other"`), "", 400, "name_mismatch", "name"},
		{"replace unknown job", "PUT", "/api/v1/jobs/ghost", strings.Replace(validJob, `"report"`, `"ghost"`, 1), "", 404, "job_not_found", ""},
		{"replace with invalid cron", "PUT", "/api/v1/jobs/report", strings.Replace(validJob, `"0 9 * * 1-5"`, `"0 9 * *"`, 1), "", 400, "invalid_schedule", "schedule"},
		{"get unknown job", "GET", "/api/v1/jobs/ghost", "", "", 404, "job_not_found", ""},
		{"get invalid name", "GET", "/api/v1/jobs/Ghost", "", "", 400, "invalid_name", "name"},
		{"list jobs of invalid group", "GET", "/api/v1/jobs?group=A", "", "", 400, "invalid_name", "group"},
		{"delete unknown job", "DELETE", "/api/v1/jobs/ghost", "", "", 404, "job_not_found", ""},
		{"pause unknown job", "POST", "/api/v1/jobs/ghost/pause", "", "", 404, "job_not_found", ""},
		{"trigger unknown job", "POST", "/api/v1/jobs/ghost/trigger", "", "", 404, "job_not_found", ""},
		{"group with bad name", "POST", "/api/v1/groups", `{"name":"-x"}`, "", 400, "invalid_name", "name"},
		{"group unknown field", "POST", "/api/v1/groups", `{"name":"x","size":3}`, "", 400, "unknown_field", "size"},
		{"duplicate group", "POST", "/api/v1/groups", `{"name":"default"}`, "", 409, "group_exists", ""},
		{"clients of unknown group", "GET", "/api/v1/groups/ghost/clients", "", "", 404, "group_not_found", ""},
		{"runs of one job filtered by group", "GET", "/api/v1/runs?job=report&group=default", "", "", 400, "invalid_parameter", "group"},
		{"runs with bad limit", "GET", "/api/v1/runs?job=report&limit=0", "", "", 400, "invalid_parameter", "limit"},
		{"runs with huge limit", "GET", "/api/v1/runs?job=report&limit=100000", "", "", 400, "invalid_parameter", "limit"},
		{"runs with bad status", "GET", "/api/v1/runs?job=report&status=great", "", "", 400, "invalid_parameter", "status"},
		{"runs with bad cursor", "GET", "/api/v1/runs?job=report&cursor=../x", "", "", 400, "invalid_cursor", "cursor"},
		{"run with bad id", "GET", "/api/v1/runs/nope", "", "", 400, "invalid_id", "id"},
		{"unknown run", "GET", "/api/v1/runs/report@20260101T000000Z.001", "", "", 404, "run_not_found", ""},
		{"delete unknown snapshot", "DELETE", "/api/v1/snapshots/report@20260101T000000Z", "", "", 404, "snapshot_not_found", ""},
		{"unknown route", "GET", "/api/v2/jobs", "", "", 404, "route_not_found", ""},
		{"wrong method", "PATCH", "/api/v1/jobs/report", "", "", 405, "method_not_allowed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.etcd.Revision(t)
			req, err := http.NewRequest(tc.method, e.api.Base+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := e.api.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
					Field   string `json:"field"`
				} `json:"error"`
			}
			dec := json.NewDecoder(resp.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil || got.Error == nil {
				t.Fatalf("body is not the error shape: %v", err)
			}
			if resp.StatusCode != tc.status || got.Error.Code != tc.code || got.Error.Field != tc.field {
				t.Errorf("got %d %s field %q (%q), want %d %s field %q", resp.StatusCode, got.Error.Code, got.Error.Field,
					got.Error.Message, tc.status, tc.code, tc.field)
			}
			if got.Error.Message == "" || strings.Contains(got.Error.Message, "etcd") {
				t.Errorf("message %q: want a human explanation without internals", got.Error.Message)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if after := e.etcd.Revision(t); after != before {
				t.Errorf("a refused request wrote to etcd: revision %d -> %d", before, after)
			}
		})
	}
}

// TestNoPartialWriteOnRace: a job created while its group is being checked
// is still all-or-nothing: the job and its cursor exist together or not at
// all.
func TestJobAndCursorWrittenTogether(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", validJob, 201, nil)
	keys := e.etcd.Keys(t, "/pink/")
	if _, ok := keys["/pink/job/conf/report"]; !ok {
		t.Fatal("job key missing")
	}
	if keys["/pink/schedule/cursor/report"] != "2026-11-26T16:00:00.000000000Z" {
		t.Errorf("cursor = %q, want the creation time", keys["/pink/schedule/cursor/report"])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.st.GetJob(ctx, "report"); err != nil {
		t.Fatal(err)
	}
}

// TestTriggerRespectsForbid: a manual trigger of a forbid job is refused
// while a run of it is live, unless forced.
func TestTriggerRespectsForbid(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", strings.Replace(validJob, `"labels"`, `"concurrency":"forbid","labels"`, 1), 201, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs/report/trigger", nil, 202, nil)
	before := e.etcd.Revision(t)
	var refused struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	e.api.JSON(t, "POST", "/api/v1/jobs/report/trigger", nil, 409, &refused)
	// No worker here: the live run waits for one, and the answer says so.
	want := "a run of this job is pending because group default has no live worker, and its concurrency is forbid: " +
		"start a worker of group default; or force it to queue after that one (?force=true, pink jobs trigger --force)"
	if refused.Error.Code != "concurrency_forbid" || refused.Error.Message != want {
		t.Errorf("refusal %+v, want concurrency_forbid %q", refused.Error, want)
	}
	if after := e.etcd.Revision(t); after != before {
		t.Errorf("refused trigger wrote: %d -> %d", before, after)
	}
	e.api.JSON(t, "POST", "/api/v1/jobs/report/trigger?force=true", nil, 202, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs/report/trigger?force=maybe", nil, 400, nil)
	var snaps struct {
		Snapshots []struct{ ID string } `json:"snapshots"`
	}
	e.api.JSON(t, "GET", "/api/v1/snapshots?job=report", nil, 200, &snaps)
	if len(snaps.Snapshots) != 2 {
		t.Errorf("%d live snapshots, want 2", len(snaps.Snapshots))
	}
}

// TestTriggerAnswer: a trigger that makes one snapshot answers its
// snapshot_id; one that makes several (shards, a broadcast to several
// workers) answers their snapshot_ids, never both.
func TestTriggerAnswer(t *testing.T) {
	for _, c := range []struct {
		name, fields string
		workers      int
		want         []string // "" for the answer's snapshot_id, else suffixes of its snapshot_ids
	}{
		{"one", ``, 0, []string{""}},
		{"sharded", `"shards":3,`, 0, []string{".s000", ".s001", ".s002"}},
		{"broadcast to two workers", `"strategy":"broadcast",`, 2, []string{".s000", ".s001"}},
		{"broadcast to none", `"strategy":"broadcast",`, 0, []string{""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := start(t)
			e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)
			e.api.JSON(t, "POST", "/api/v1/jobs", strings.Replace(validJob, `"labels"`, c.fields+`"labels"`, 1), 201, nil)
			for i := range c.workers {
				registerRunning(t, e.etcd.Client, e.st, "default", fmt.Sprintf("w%d", i), "http")
			}
			_, raw := e.api.Do(t, "POST", "/api/v1/jobs/report/trigger", nil)
			var trig map[string]json.RawMessage
			if err := json.Unmarshal(raw, &trig); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range trig {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var ids []string
			var one string
			_ = json.Unmarshal(trig["snapshot_ids"], &ids)
			_ = json.Unmarshal(trig["snapshot_id"], &one)
			if len(c.want) == 1 {
				if fmt.Sprint(keys) != "[job snapshot_id state]" || !strings.HasPrefix(one, "report@20261126T160000Z-m") {
					t.Fatalf("answer %s: want job, snapshot_id and state only", raw)
				}
				ids = []string{one}
			} else if fmt.Sprint(keys) != "[job snapshot_ids state]" || len(ids) != len(c.want) {
				t.Fatalf("answer %s: want job, %d snapshot_ids and state only", raw, len(c.want))
			}
			base, _ := snapshot.ShardBase(ids[0])
			var live struct {
				Snapshots []struct{ ID string } `json:"snapshots"`
			}
			e.api.JSON(t, "GET", "/api/v1/snapshots?job=report", nil, 200, &live)
			if len(live.Snapshots) != len(ids) {
				t.Fatalf("%d live snapshots, want %d", len(live.Snapshots), len(ids))
			}
			for i, id := range ids {
				if id != base+c.want[i] || live.Snapshots[i].ID != id {
					t.Errorf("id %d: %s (live %v), want %s%s", i, id, live.Snapshots, base, c.want[i])
				}
			}
		})
	}
}

func readAll(resp *http.Response) string {
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String()
}

func decodeJSON(b []byte, v any) error { return json.Unmarshal(b, v) }
