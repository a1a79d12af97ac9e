package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"regexp"
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

// The answer conventions (docs/api.md): every time is RFC 3339 in UTC with
// exactly milliseconds, except a preview's fire "at", which is the same
// precision in the job's zone; every duration is a Go string <name> with
// its twin <name>_seconds. What etcd holds keeps its own encoding.

var (
	utcTime   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	zonedTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$`)
)

// fineNow is the API's clock in these tests: a time with nanoseconds, in a
// zone that is not UTC (16:00:00.123456789 UTC), which no answer may show
// as such.
var fineNow = time.Date(2026, 11, 26, 17, 0, 0, 123456789, berlin)

var berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

// Text that looks like times and durations, in a job's params and a run's
// output and error: answers carry it byte for byte.
const (
	lookalikeParams = `{"since":"2026-11-26T17:00:00.123456789+01:00","note":"ran at 2026-11-26T16:00:00Z","timeout":"90s"}`
	lookalikeOutput = "started 2026-11-26T17:00:01.5+01:00\nfinished 2026-11-26T16:00:02.75Z after 1.25s\n"
	lookalikeError  = "deadline 2026-11-26T17:00:00+01:00 (timeout 30s)"
)

// answers is a cluster's state written through the API and the store the
// way a scheduler and a worker write it: a job with a finished run (and
// timestamp-like text), a dispatched snapshot, a paused job, a node (the
// leader), a worker, a backfill and the audit log.
type answers struct {
	*env
	fired, done string // a dispatched snapshot's id, a finished run's id
}

func startAnswers(t *testing.T) answers {
	t.Helper()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	srv := httptest.NewServer(api.New(api.Config{Store: st, Now: func() time.Time { return fineNow }}))
	t.Cleanup(srv.Close)
	a := answers{env: &env{etcd: e, st: st, api: pinktest.NewAPI(strings.TrimPrefix(srv.URL, "http://"))}}
	a.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)
	a.api.JSON(t, "POST", "/api/v1/jobs", `{"name":"report","group":"default","schedule":"0 * * * *","timezone":"Europe/Berlin",
		"target":"noop","params":`+lookalikeParams+`}`, 201, nil)
	a.api.JSON(t, "POST", "/api/v1/jobs", `{"name":"later","group":"default","schedule":"@daily","target":"noop"}`, 201, nil)
	a.api.JSON(t, "POST", "/api/v1/jobs/later/pause", `{"until":"90m","reason":"maintenance"}`, 200, nil)
	a.api.JSON(t, "POST", "/api/v1/jobs/report/backfill", `{"from":"2026-11-26T12:00:00+01:00","to":"2026-11-26T14:00:00+01:00"}`, 202, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, key, rev := pinktest.Campaign(t, e.Client, st.ElectionPrefix(), "node-1")
	fence := store.Fence{Key: key, Rev: rev}
	if err := st.RegisterNode(ctx, sess.Lease(), cluster.Node{ID: "node-1", Addr: "127.0.0.1:8080", Version: "test", Host: "h", PID: 1, StartedAt: fineNow}); err != nil {
		t.Fatal(err)
	}
	w := a.worker(ctx, t)
	// Two hourly fires of report, assigned to the worker: the first runs
	// to its end, the second stays dispatched.
	first, second := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
	a.fire(ctx, t, fence, w, first)
	a.fired = a.fire(ctx, t, fence, w, second)
	a.done = a.finish(ctx, t, w, snapshot.CronID("report", first))
	return a
}

// worker registers a client of group default, started at fineNow.
func (a answers) worker(ctx context.Context, t *testing.T) cluster.Client {
	t.Helper()
	lease, err := a.etcd.Client.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	c := cluster.Client{ID: "w1", Group: "default", Host: "h", PID: 2, Capacity: 4, Targets: []string{"noop"}, Version: "test", StartedAt: fineNow}
	if c.CreateRevision, err = a.st.RegisterClient(ctx, lease.ID, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// fire writes report's cron fire at nominal as the leader does, assigned
// to c at once, and returns its snapshot id.
func (a answers) fire(ctx context.Context, t *testing.T, fence store.Fence, c cluster.Client, nominal time.Time) string {
	t.Helper()
	spec, err := a.st.GetJob(ctx, "report")
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot.ForJob(&spec, snapshot.CronID("report", nominal), snapshot.TriggerCron, nominal, fineNow)
	res, err := a.st.WriteFire(ctx, fence, store.Fire{Job: "report", JobRevision: spec.Revision, Cursor: nominal,
		Placements: []store.Placement{{Snapshot: snap, Client: &c}}}, fineNow.Add(250*time.Millisecond))
	if err != nil || res.Outcome != store.FireWritten {
		t.Fatalf("fire %s: %v %v", snap.ID, res.Outcome, err)
	}
	return snap.ID
}

// finish claims snapshot id as c's worker does, 1.5 s after fineNow (on
// the worker's clock, in its zone), and reports it failed 1.25 s later
// with timestamp-like output and error; it returns the run's id.
func (a answers) finish(ctx context.Context, t *testing.T, c cluster.Client, id string) string {
	t.Helper()
	l, err := a.st.GetAssignment(ctx, "default", c.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	started := fineNow.Add(1500 * time.Millisecond)
	claimRev, err := a.st.Claim(ctx, c, l, started)
	if err != nil {
		t.Fatal(err)
	}
	l.State, l.StartedAt = snapshot.StateRunning, &started
	run := l.Finish(snapshot.StatusFailed, lookalikeOutput, lookalikeError, started.Add(1250*time.Millisecond))
	if err := a.st.Complete(ctx, c.ID, claimRev, run, nil); err != nil {
		t.Fatal(err)
	}
	return run.ID
}

// TestAnswerTimesAndDurations: every answer that carries times or
// durations — jobs, snapshots, runs (one job's and across jobs), groups,
// clients, nodes, the audit log, previews, validation, statistics and a
// backfill — writes every time in UTC with milliseconds (a fire's at in its
// zone) and every duration in both forms; the times it must carry are
// there; params, output and error are as written.
func TestAnswerTimesAndDurations(t *testing.T) {
	a := startAnswers(t)
	for _, c := range []struct {
		method, path, body string
		// must are the paths (see walk) of times and durations the answer
		// has to carry, so the checks cannot pass on an empty answer.
		must []string
	}{
		{"GET", "/api/v1/jobs/report", "", []string{"created_at", "updated_at", "next_fires.0", "last_run.finished_at", "timeout", "retry_backoff", "catchup_window"}},
		{"GET", "/api/v1/jobs/later", "", []string{"paused_until", "created_at"}},
		{"GET", "/api/v1/jobs", "", []string{"jobs.0.paused_until", "jobs.1.created_at", "jobs.1.timeout", "jobs.1.last_run.finished_at"}},
		{"GET", "/api/v1/snapshots", "", []string{"snapshots.0.scheduled_at", "snapshots.0.created_at", "snapshots.0.dispatched_at", "snapshots.0.timeout", "snapshots.0.retry_backoff"}},
		{"GET", "/api/v1/snapshots/" + a.fired, "", []string{"scheduled_at", "dispatched_at", "timeout"}},
		{"GET", "/api/v1/runs/" + a.done, "", []string{"scheduled_at", "dispatched_at", "started_at", "finished_at", "duration"}},
		{"GET", "/api/v1/runs?job=report", "", []string{"runs.0.finished_at", "runs.0.duration"}},
		{"GET", "/api/v1/runs", "", []string{"runs.0.started_at", "runs.0.duration"}},
		{"GET", "/api/v1/groups", "", []string{"groups.0.created_at"}},
		{"GET", "/api/v1/groups/default", "", []string{"created_at"}},
		{"GET", "/api/v1/groups/default/clients", "", []string{"clients.0.started_at"}},
		{"GET", "/api/v1/nodes", "", []string{"nodes.0.started_at"}},
		{"GET", "/api/v1/audit", "", []string{"entries.0.at"}},
		{"GET", "/api/v1/jobs/report/preview?n=3", "", []string{"fires.0.at", "fires.0.utc"}},
		{"POST", "/api/v1/schedules/validate", `{"schedule":"*/30 * * * * *","timezone":"Asia/Kolkata","n":2}`, []string{"fires.1.at", "fires.1.utc", "interval"}},
		{"GET", "/api/v1/stats?from=2026-11-26T16:00:00Z&to=2026-11-26T19:00:00Z", "", []string{"from", "to", "step", "buckets.0.start", "buckets.1.duration.p50", "buckets.1.duration.max"}},
		{"POST", "/api/v1/jobs/report/backfill", `{"from":"2026-11-26T09:00:00.5+01:00","to":"2026-11-26T10:00:00+01:00"}`, []string{"first", "last"}},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			status, raw := a.api.Do(t, c.method, c.path, body)
			if status >= 300 {
				t.Fatalf("%d %s", status, raw)
			}
			checkConventions(t, raw, c.must)
		})
	}
}

// leaf is a string or number of an answer at its path ("runs.0.status").
type leaf struct {
	path string
	v    any
}

// walk lists the leaves of a decoded answer, leaving out what the caller
// wrote or a worker reported (params, output, error, reasons, details):
// text, not the API's own times.
func walk(v any, path string, out *[]leaf) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "params", "output", "error", "pause_reason", "reason", "detail":
				continue
			}
			walk(e, strings.TrimPrefix(path+"."+k, "."), out)
		}
	case []any:
		for i, e := range x {
			walk(e, strings.TrimPrefix(fmt.Sprintf("%s.%d", path, i), "."), out)
		}
	default:
		*out = append(*out, leaf{path, x})
	}
}

// checkConventions checks the times and durations of one answer.
func checkConventions(t *testing.T, raw []byte, must []string) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var leaves []leaf
	walk(doc, "", &leaves)
	byPath := map[string]any{}
	for _, l := range leaves {
		byPath[l.path] = l.v
	}
	for _, l := range leaves {
		s, ok := l.v.(string)
		if !ok {
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
			re := utcTime
			if isFireAt(l.path) {
				re = zonedTime
			}
			if !re.MatchString(s) {
				t.Errorf("%s = %q: not a time in the answer format %s", l.path, s, re)
			}
		}
		if d, err := time.ParseDuration(s); err == nil && strings.ContainsAny(s, "hmsuµn") {
			checkTwin(t, l.path, d, byPath)
		}
	}
	for _, l := range leaves {
		if base, ok := strings.CutSuffix(twinBase(l.path), "_seconds"); ok {
			text, _ := byPath[base+twinTail(l.path)].(string)
			if d, err := time.ParseDuration(text); err != nil || math.Abs(d.Seconds()-l.v.(float64)) > 1e-9 {
				t.Errorf("%s = %v has no duration string %s%s of the same value next to it (%q)", l.path, l.v, base, twinTail(l.path), text)
			}
		}
	}
	for _, p := range must {
		if _, ok := byPath[p]; !ok {
			keys := make([]string, 0, len(byPath))
			for k := range byPath {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			t.Errorf("the answer has no %s (it has %v)", p, keys)
		}
	}
}

// isFireAt reports whether path is a preview fire's at.
func isFireAt(path string) bool {
	return regexp.MustCompile(`^fires\.\d+\.at$`).MatchString(path)
}

// twinBase and twinTail split a path at its duration field: a duration of
// percentiles ("buckets.3.duration_seconds.p50") has its number inside.
func twinBase(path string) string {
	if i := strings.Index(path, "_seconds."); i >= 0 {
		return path[:i+len("_seconds")]
	}
	return path
}

func twinTail(path string) string {
	if i := strings.Index(path, "_seconds."); i >= 0 {
		return path[i+len("_seconds"):]
	}
	return ""
}

// checkTwin checks that the duration d at path has its twin in seconds
// with the same value (to the nanosecond).
func checkTwin(t *testing.T, path string, d time.Duration, byPath map[string]any) {
	t.Helper()
	twin := path + "_seconds"
	if i := strings.LastIndexByte(path, '.'); i >= 0 && strings.HasSuffix(path[:i], "duration") {
		twin = path[:i] + "_seconds" + path[i:] // buckets.N.duration.p50
	}
	v, ok := byPath[twin].(float64)
	if !ok {
		t.Errorf("%s = %q has no number %s next to it", path, d, twin)
		return
	}
	if math.Abs(v-d.Seconds()) > 1e-9 {
		t.Errorf("%s = %s but %s = %v", path, d, twin, v)
	}
}

// TestAnswerGoldens: a dispatched snapshot and a finished run, exactly (the
// worker's clock ran in Berlin, with nanoseconds).
func TestAnswerGoldens(t *testing.T) {
	a := startAnswers(t)
	for name, path := range map[string]string{"snapshot.json": "/api/v1/snapshots/" + a.fired, "run.json": "/api/v1/runs/" + a.done} {
		_, body := a.api.Do(t, "GET", path+"?pretty=1", nil)
		golden(t, name, body)
	}
}

// TestAnswerTextUntouched: text that looks like a time or a duration in
// what users and workers wrote (params, output, error) is answered as
// written; only the API's own fields are normalised.
func TestAnswerTextUntouched(t *testing.T) {
	a := startAnswers(t)
	var j struct{ Params json.RawMessage }
	a.api.JSON(t, "GET", "/api/v1/jobs/report", nil, 200, &j)
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(lookalikeParams)); err != nil {
		t.Fatal(err)
	}
	if string(j.Params) != compact.String() {
		t.Errorf("job params = %s, want %s", j.Params, compact.String())
	}
	var sn struct{ Params json.RawMessage }
	a.api.JSON(t, "GET", "/api/v1/snapshots/"+a.fired, nil, 200, &sn)
	if string(sn.Params) != compact.String() {
		t.Errorf("snapshot params = %s, want %s", sn.Params, compact.String())
	}
	var r struct{ Output, Error string }
	a.api.JSON(t, "GET", "/api/v1/runs/"+a.done, nil, 200, &r)
	if r.Output != lookalikeOutput || r.Error != lookalikeError {
		t.Errorf("run output %q error %q, want %q and %q", r.Output, r.Error, lookalikeOutput, lookalikeError)
	}
}

// TestStoredRecordsKeepTheirPrecision: answers are normalised, what etcd
// holds is not: a snapshot's and a run's times keep their nanoseconds (a
// manual snapshot's id and its scheduled_at agree to the nanosecond), the
// worker's started_at its zone, a snapshot its timeout in nanoseconds.
func TestStoredRecordsKeepTheirPrecision(t *testing.T) {
	a := startAnswers(t)
	var trig struct {
		SnapshotID string `json:"snapshot_id"`
	}
	a.api.JSON(t, "POST", "/api/v1/jobs/later/trigger", nil, 202, &trig)
	for prefix, want := range map[string][]string{
		"/pink/schedule/snapshots/" + trig.SnapshotID:   {`"scheduled_at":"2026-11-26T16:00:00.123456789Z"`, `"timeout_ns":3600000000000`},
		"/pink/execute/snapshots/default/w1/" + a.fired: {`"created_at":"2026-11-26T16:00:00.123456789Z"`, `"dispatched_at":"2026-11-26T16:00:00.373456789Z"`},
		"/pink/execute/history/snapshots/report/" + a.done: {`"started_at":"2026-11-26T17:00:01.623456789+01:00"`, `"finished_at":"2026-11-26T16:00:02.873456789Z"`,
			`"duration_seconds":1.25`},
	} {
		vals := a.etcd.Keys(t, prefix)
		if len(vals) != 1 {
			t.Fatalf("%s: %d keys", prefix, len(vals))
		}
		for _, v := range vals {
			for _, w := range want {
				if !strings.Contains(v, w) {
					t.Errorf("%s holds %s; want it to hold %s", prefix, v, w)
				}
			}
		}
	}
	var sn struct {
		ScheduledAt string `json:"scheduled_at"`
	}
	a.api.JSON(t, "GET", "/api/v1/snapshots/"+trig.SnapshotID, nil, 200, &sn)
	if sn.ScheduledAt != "2026-11-26T16:00:00.123Z" {
		t.Errorf("the manual snapshot's scheduled_at answers %q, want 2026-11-26T16:00:00.123Z", sn.ScheduledAt)
	}
}
