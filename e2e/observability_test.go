package e2e

import (
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// obsService is the user's service the http jobs call: /ok answers 200,
// /fail 500, /slow outlives any timeout, /lose-first holds attempt 1 until
// the caller goes away. It records the traceparent of every call.
type obsService struct {
	mu          sync.Mutex
	traceparent map[string]string // snapshot id -> traceparent header
	calls       map[string]int    // path -> calls
}

func newObsService() *obsService {
	return &obsService{traceparent: map[string]string{}, calls: map[string]int{}}
}

func (s *obsService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.traceparent[r.Header.Get("Pink-Snapshot-Id")+"#"+r.Header.Get("Pink-Attempt")] = r.Header.Get("Traceparent")
	s.calls[r.URL.Path]++
	s.mu.Unlock()
	switch r.URL.Path {
	case "/fail":
		http.Error(w, "boom", http.StatusInternalServerError)
	case "/slow":
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	case "/lose-first":
		if r.Header.Get("Pink-Attempt") == "1" {
			<-r.Context().Done()
		}
	}
}

func (s *obsService) seen(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

func (s *obsService) parent(snapshotID string, attempt int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.traceparent[fmt.Sprintf("%s#%d", snapshotID, attempt)]
}

func httpJob(name, group, url string, extra string) string {
	return fmt.Sprintf(`{"name":%q,"group":%q,"schedule":"* * * * * *","target":"http","params":{"url":%q},"paused":true%s}`,
		name, group, url, extra)
}

// waitRunsOf waits until job has at least n finished runs.
func waitRunsOf(t *testing.T, api *pinktest.API, job string, n int) []snapshot.Run {
	t.Helper()
	var runs []snapshot.Run
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		var err error
		runs, err = api.TryRuns(job)
		return err == nil && len(runs) >= n, fmt.Sprintf("%d runs of %s (%v)", len(runs), job, err)
	})
	return runs
}

// leaderOf returns the index of the leading node among apis.
func leaderOf(t *testing.T, apis []*pinktest.API, ids []string) int {
	t.Helper()
	idx := -1
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		for _, api := range apis {
			id, err := leaderAsSeenBy(t, api)
			if err != nil {
				continue
			}
			for i := range ids {
				if ids[i] == id {
					idx = i
					return true, ""
				}
			}
		}
		return false, "no leader"
	})
	return idx
}

// TestMetrics runs a scripted scenario on scheduler and worker processes and
// checks the values /metrics reports, the exemplars, a leader change, and
// that deleting a job removes its series.
func TestMetrics(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	otlp := startOTLP(t)
	svc := newObsService()
	srv := httptest.NewServer(svc)
	defer srv.Close()
	ids := []string{"s-a", "s-b"}
	var procs []*pinktest.Process
	var apis []*pinktest.API
	for _, id := range ids {
		p, api := pinktest.StartSchedulerProcess(t, etcd.Endpoints, id, otlp.env()...)
		procs, apis = append(procs, p), append(apis, api)
	}
	_, workerAddr := pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1", otlp.env()...)
	api := apis[0]

	api.JSON(t, "POST", "/api/v1/groups", `{"name":"empty"}`, http.StatusCreated, nil)
	for _, body := range []string{
		httpJob("ok", "default", srv.URL+"/ok", ""),
		httpJob("fail", "default", srv.URL+"/fail", ""),
		httpJob("slow", "default", srv.URL+"/slow", `,"timeout":"300ms"`),
		httpJob("orphan", "empty", srv.URL+"/ok", ""),
		strings.Replace(httpJob("tick", "default", srv.URL+"/ok", ""), `"paused":true`, `"paused":false`, 1),
	} {
		api.JSON(t, "POST", "/api/v1/jobs", body, http.StatusCreated, nil)
	}
	for job, n := range map[string]int{"ok": 3, "fail": 2, "slow": 1, "orphan": 1} {
		for range n {
			api.JSON(t, "POST", "/api/v1/jobs/"+job+"/trigger", nil, http.StatusAccepted, nil)
		}
	}
	okRuns := waitRunsOf(t, api, "ok", 3)
	failRuns := waitRunsOf(t, api, "fail", 2)
	slowRuns := waitRunsOf(t, api, "slow", 1)
	waitRunsOf(t, api, "tick", 2)
	if slowRuns[0].Status != snapshot.StatusTimedOut {
		t.Fatalf("slow run: %s", slowRuns[0].Status)
	}

	li := leaderOf(t, apis, ids)
	leader, follower := apis[li], apis[1-li]
	var lm map[string]float64
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		g := pinktest.Scrape(t, leader.Base+"/metrics")
		lm = map[string]float64{
			"leader":         pinktest.Metric(t, g, "pink_scheduler_leader", nil),
			"ok manual":      pinktest.Metric(t, g, "pink_fires_total", map[string]string{"job_name": "ok", "trigger": "manual"}),
			"fail manual":    pinktest.Metric(t, g, "pink_fires_total", map[string]string{"job_name": "fail", "trigger": "manual"}),
			"slow manual":    pinktest.Metric(t, g, "pink_fires_total", map[string]string{"job_name": "slow", "trigger": "manual"}),
			"orphan manual":  pinktest.Metric(t, g, "pink_fires_total", map[string]string{"job_name": "orphan", "trigger": "manual"}),
			"pending empty":  pinktest.Metric(t, g, "pink_snapshots_pending", map[string]string{"group": "empty"}),
			"clients empty":  pinktest.Metric(t, g, "pink_clients", map[string]string{"group": "empty"}),
			"clients dflt":   pinktest.Metric(t, g, "pink_clients", map[string]string{"group": "default"}),
			"jobs paused":    pinktest.Metric(t, g, "pink_jobs", map[string]string{"state": "paused"}),
			"jobs active":    pinktest.Metric(t, g, "pink_jobs", map[string]string{"state": "active"}),
			"tick interval":  pinktest.Metric(t, g, "pink_job_interval_seconds", map[string]string{"job_name": "tick"}),
			"tick next":      pinktest.Metric(t, g, "pink_job_next_fire_timestamp_seconds", map[string]string{"job_name": "tick"}),
			"ok next series": float64(pinktest.Series(t, g, "pink_job_next_fire_timestamp_seconds", map[string]string{"job_name": "ok"})),
			"ok success":     pinktest.Metric(t, g, "pink_job_last_success_timestamp_seconds", map[string]string{"job_name": "ok"}),
			"fail failure":   pinktest.Metric(t, g, "pink_job_last_failure_timestamp_seconds", map[string]string{"job_name": "fail"}),
			"fail success":   pinktest.Metric(t, g, "pink_job_last_success_timestamp_seconds", map[string]string{"job_name": "fail"}),
			"slow failure":   pinktest.Metric(t, g, "pink_job_last_failure_timestamp_seconds", map[string]string{"job_name": "slow"}),
			"ok cron series": float64(pinktest.Series(t, g, "pink_fires_total", map[string]string{"job_name": "ok", "trigger": "cron"})),
			"ok forbid":      float64(pinktest.Series(t, g, "pink_fires_skipped_total", map[string]string{"job_name": "ok", "reason": "concurrency_forbid"})),
			"lag samples":    pinktest.Metric(t, g, "pink_schedule_lag_seconds", nil),
			"etcd requests":  pinktest.Metric(t, g, "pink_etcd_request_duration_seconds", map[string]string{"op": "fire"}),
		}
		return lm["ok success"] > 0, "last success not exported yet"
	})
	ts := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
	// The leader exports finish times as recorded (to the nanosecond; the
	// API answers them to the millisecond).
	st := store.New(etcd.Client, "")
	latest := func(runs []snapshot.Run) float64 {
		m := 0.0
		for _, r := range storedRuns(t, st, runs) {
			m = math.Max(m, ts(r.FinishedAt))
		}
		return m
	}
	now := ts(time.Now())
	for name, want := range map[string]float64{
		"leader": 1, "ok manual": 3, "fail manual": 2, "slow manual": 1, "orphan manual": 0,
		"pending empty": 1, "clients empty": 0, "clients dflt": 1, "jobs paused": 4, "jobs active": 1,
		"tick interval": 1, "ok next series": 0, "ok success": latest(okRuns), "fail failure": latest(failRuns),
		"fail success": 0, "slow failure": latest(slowRuns), "ok cron series": 1, "ok forbid": 1,
	} {
		if math.Abs(lm[name]-want) > 0.001 {
			t.Errorf("leader metric %s = %v, want %v", name, lm[name], want)
		}
	}
	if lm["tick next"] < now-1 || lm["tick next"] > now+2 {
		t.Errorf("tick next fire %v, now %v", lm["tick next"], now)
	}
	if lm["lag samples"] < 2 || lm["etcd requests"] < 2 {
		t.Errorf("schedule lag samples %v, etcd fire requests %v: want at least one per tick run", lm["lag samples"], lm["etcd requests"])
	}
	fg := pinktest.Scrape(t, follower.Base+"/metrics")
	if n := pinktest.Series(t, pinktest.Scrape(t, leader.Base+"/metrics"), "pink_scheduler_lookahead_seconds", nil); n != 1 {
		t.Errorf("the leader exports %d pink_scheduler_lookahead_seconds series, want 1", n)
	}
	if n := pinktest.Series(t, fg, "pink_fires_total", nil) + pinktest.Series(t, fg, "pink_snapshots_pending", nil) +
		pinktest.Series(t, fg, "pink_scheduler_lookahead_seconds", nil); n != 0 {
		t.Errorf("the follower exports %d leader-only series", n)
	}
	if v := pinktest.Metric(t, fg, "pink_scheduler_leader", nil); v != 0 {
		t.Errorf("follower pink_scheduler_leader = %v", v)
	}

	wg := pinktest.Scrape(t, "http://"+workerAddr+"/metrics")
	for labels, want := range map[[2]string]float64{
		{"ok", "succeeded"}: 3, {"fail", "failed"}: 2, {"slow", "timed_out"}: 1,
	} {
		got := pinktest.Metric(t, wg, "pink_worker_runs_total", map[string]string{"job_name": labels[0], "status": labels[1]})
		if got != want {
			t.Errorf("pink_worker_runs_total{job=%s,status=%s} = %v, want %v", labels[0], labels[1], got, want)
		}
	}
	if got := pinktest.Metric(t, wg, "pink_worker_capacity", map[string]string{"group": "default"}); got != 8 {
		t.Errorf("pink_worker_capacity = %v", got)
	}
	checkExemplar(t, "http://"+workerAddr+"/metrics", okRuns)
	checkClockOffset(t, "http://"+workerAddr+"/metrics")

	// Leader change: the new leader exports the same etcd-derived values,
	// counters included. tick is paused first so the counters stand still:
	// once every fire of tick has finished, the leader counted them all.
	leader.JSON(t, "POST", "/api/v1/jobs/tick/pause", nil, http.StatusOK, nil)
	lm["jobs paused"]++
	var counters map[string]float64
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		counters = leaderCounters(t, pinktest.Scrape(t, leader.Base+"/metrics"))
		// A fire written ahead and taken back by the pause counts as fired
		// and as skipped taken_back.
		fired := counters[`pink_fires_total{group="default",job_name="tick",trigger="cron"}`] +
			counters[`pink_fires_total{group="default",job_name="tick",trigger="catchup"}`] -
			counters[`pink_fires_skipped_total{group="default",job_name="tick",reason="taken_back"}`]
		runs, err := leader.TryRuns("tick")
		return err == nil && fired == float64(len(runs)), fmt.Sprintf("tick: %v fires counted, %d runs (%v)", fired, len(runs), err)
	})
	for series, want := range map[string]float64{
		`pink_fires_total{group="default",job_name="ok",trigger="manual"}`:              3,
		`pink_fires_total{group="empty",job_name="orphan",trigger="manual"}`:            0,
		`pink_failovers_total{group="empty",reason="client_lost"}`:                      0,
		`pink_fires_skipped_total{group="default",job_name="ok",reason="misfire_skip"}`: 0,
	} {
		if got, ok := counters[series]; !ok || got != want {
			t.Errorf("leader %s = %v (exported %v), want %v", series, got, ok, want)
		}
	}
	procs[li].Stop(30 * time.Second)
	newLeader := follower
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		g := pinktest.Scrape(t, newLeader.Base+"/metrics")
		got := map[string]float64{
			"leader":        pinktest.Metric(t, g, "pink_scheduler_leader", nil),
			"ok success":    pinktest.Metric(t, g, "pink_job_last_success_timestamp_seconds", map[string]string{"job_name": "ok"}),
			"fail failure":  pinktest.Metric(t, g, "pink_job_last_failure_timestamp_seconds", map[string]string{"job_name": "fail"}),
			"pending empty": pinktest.Metric(t, g, "pink_snapshots_pending", map[string]string{"group": "empty"}),
			"clients dflt":  pinktest.Metric(t, g, "pink_clients", map[string]string{"group": "default"}),
			"jobs paused":   pinktest.Metric(t, g, "pink_jobs", map[string]string{"state": "paused"}),
		}
		for _, k := range []string{"leader", "ok success", "fail failure", "pending empty", "clients dflt", "jobs paused"} {
			want := map[string]float64{"leader": 1}[k]
			if k != "leader" {
				want = lm[k]
			}
			if math.Abs(got[k]-want) > 0.001 {
				return false, fmt.Sprintf("new leader's %s = %v, want %v", k, got[k], want)
			}
		}
		if got := leaderCounters(t, g); !maps.Equal(got, counters) {
			return false, fmt.Sprintf("new leader's counters\n%v\nwant the old leader's\n%v", got, counters)
		}
		return true, ""
	})

	// Deleting a job removes its series.
	newLeader.JSON(t, "DELETE", "/api/v1/jobs/fail", nil, http.StatusOK, nil)
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		g := pinktest.Scrape(t, newLeader.Base+"/metrics")
		n := 0
		for _, name := range []string{"pink_fires_total", "pink_fires_skipped_total", "pink_job_last_success_timestamp_seconds",
			"pink_job_last_failure_timestamp_seconds", "pink_job_interval_seconds", "pink_job_next_fire_timestamp_seconds"} {
			n += pinktest.Series(t, g, name, map[string]string{"job_name": "fail"})
		}
		return n == 0, fmt.Sprintf("%d series of the deleted job remain", n)
	})
	// ... on the worker too.
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		g := pinktest.Scrape(t, "http://"+workerAddr+"/metrics")
		n := pinktest.Series(t, g, "pink_worker_runs_total", map[string]string{"job_name": "fail"}) +
			pinktest.Series(t, g, "pink_worker_run_duration_seconds", map[string]string{"job_name": "fail"})
		return n == 0, fmt.Sprintf("%d worker series of the deleted job remain", n)
	})
	// Deleting a group removes its series.
	newLeader.JSON(t, "DELETE", "/api/v1/jobs/orphan", nil, http.StatusOK, nil)
	newLeader.JSON(t, "DELETE", "/api/v1/groups/empty", nil, http.StatusOK, nil)
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		g := pinktest.Scrape(t, newLeader.Base+"/metrics")
		n := 0
		for _, name := range []string{"pink_clients", "pink_snapshots_pending", "pink_snapshots_inflight", "pink_failovers_total"} {
			n += pinktest.Series(t, g, name, map[string]string{"group": "empty"})
		}
		return n == 0, fmt.Sprintf("%d series of the deleted group remain", n)
	})
}

// leaderCounters renders the leader-only counters of a scrape as
// name{labels} -> value.
func leaderCounters(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	return pinktest.Values(t, g, "pink_fires_total", "pink_fires_skipped_total", "pink_runs_lost_total", "pink_failovers_total")
}

var exemplarLine = regexp.MustCompile(`(?m)^pink_worker_run_duration_seconds_bucket\{[^}]*job_name="ok"[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\}`)

// checkExemplar asks for OpenMetrics and finds a run-duration exemplar that
// names the trace of one of the runs.
func checkExemplar(t *testing.T, url string, runs []snapshot.Run) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("Content-Type %q, want OpenMetrics", ct)
	}
	m := exemplarLine.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no trace_id exemplar on pink_worker_run_duration_seconds for job ok")
	}
	for _, r := range runs {
		if r.TraceID == string(m[1]) {
			return
		}
	}
	t.Errorf("exemplar trace_id %s is not the trace of any ok run", m[1])
}

// TestTraces: a run's spans share one trace across the scheduler and the
// worker process, with pink's attributes; the called service receives the
// trace; a failover starts a trace that links to the lost attempt's.
func TestTraces(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	otlp := startOTLP(t)
	svc := newObsService()
	srv := httptest.NewServer(svc)
	defer srv.Close()
	_, api := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "s1", otlp.env()...)
	w1, _ := pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1", otlp.env()...)

	api.JSON(t, "POST", "/api/v1/jobs", strings.Replace(httpJob("traced", "default", srv.URL+"/ok", ""),
		`"paused":true`, `"paused":false`, 1), http.StatusCreated, nil)
	run := waitRunsOf(t, api, "traced", 1)[0]
	api.JSON(t, "POST", "/api/v1/jobs/traced/pause", nil, http.StatusOK, nil)
	if run.TraceID == "" {
		t.Fatal("the run record has no trace_id")
	}
	var byName map[string]span
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		byName = map[string]span{}
		for _, s := range otlp.get() {
			if s.traceID == run.TraceID {
				byName[s.name] = s
			}
		}
		return len(byName) == 5, fmt.Sprintf("spans of trace %s: %v", run.TraceID, keys(byName))
	})
	fire, dispatch, execute, report := byName["pink.fire"], byName["pink.dispatch"], byName["pink.execute"], byName["pink.report"]
	// The http target's request is a CLIENT span under pink.execute.
	client := byName["GET"]
	for _, c := range []struct {
		s               span
		service, parent string
	}{
		{fire, "pink-scheduler", ""}, {dispatch, "pink-scheduler", fire.spanID},
		{execute, "pink-worker", dispatch.spanID}, {report, "pink-worker", execute.spanID}, {client, "pink-worker", execute.spanID},
	} {
		if c.s.service != c.service || c.s.parentID != c.parent {
			t.Errorf("%s: service %q parent %q, want service %q parent %q", c.s.name, c.s.service, c.s.parentID, c.service, c.parent)
		}
	}
	wantAttrs := map[string]string{"pink.job": "traced", "pink.group": "default", "pink.snapshot_id": run.SnapshotID,
		"pink.attempt": "1", "pink.trigger": "cron", "pink.scheduled_at": run.ScheduledAt.Format(time.RFC3339)}
	for _, s := range []span{fire, dispatch, execute} {
		for k, v := range wantAttrs {
			if s.attrs[k] != v {
				t.Errorf("%s attribute %s = %q, want %q", s.name, k, s.attrs[k], v)
			}
		}
	}
	if execute.attrs["pink.client"] != run.Client || execute.attrs["pink.status"] != "succeeded" || dispatch.attrs["pink.client"] != run.Client {
		t.Errorf("client/status attributes: execute %v, dispatch %v", execute.attrs, dispatch.attrs)
	}
	if tp := svc.parent(run.SnapshotID, 1); !strings.Contains(tp, run.TraceID+"-"+client.spanID) {
		t.Errorf("the called service got traceparent %q, want trace %s under the CLIENT span %s", tp, run.TraceID, client.spanID)
	}
	if client.attrs["http.request.method"] != "GET" || client.attrs["url.full"] != srv.URL+"/ok" || client.attrs["http.response.status_code"] != "200" {
		t.Errorf("CLIENT span attributes %v", client.attrs)
	}

	// A manual trigger's trace starts with its own pink.fire too, made by
	// the leader when it dispatches the trigger: fire -> dispatch -> execute.
	api.JSON(t, "POST", "/api/v1/jobs/traced/trigger", nil, http.StatusAccepted, nil)
	var manual snapshot.Run
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		for _, r := range api.Runs(t, "traced") {
			if r.Trigger == snapshot.TriggerManual {
				manual = r
				return true, ""
			}
		}
		return false, "no manual run of traced"
	})
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		byName := map[string]span{}
		for _, s := range otlp.get() {
			if s.traceID == manual.TraceID {
				byName[s.name] = s
			}
		}
		fire, dispatch, execute := byName["pink.fire"], byName["pink.dispatch"], byName["pink.execute"]
		switch {
		case fire.name == "" || dispatch.name == "" || execute.name == "":
			return false, fmt.Sprintf("spans of the manual run's trace %s: %v", manual.TraceID, keys(byName))
		case fire.parentID != "" || dispatch.parentID != fire.spanID || execute.parentID != dispatch.spanID:
			return false, fmt.Sprintf("manual trace parents: fire %q, dispatch %q (fire %s), execute %q (dispatch %s)",
				fire.parentID, dispatch.parentID, fire.spanID, execute.parentID, dispatch.spanID)
		case fire.service != "pink-scheduler" || execute.service != "pink-worker":
			return false, fmt.Sprintf("services: fire %s, execute %s", fire.service, execute.service)
		case fire.attrs["pink.trigger"] != "manual" || fire.attrs["pink.snapshot_id"] != manual.SnapshotID || execute.attrs["pink.trigger"] != "manual":
			return false, fmt.Sprintf("manual trace attributes: fire %v, execute %v", fire.attrs, execute.attrs)
		}
		return true, ""
	})

	// Failover: attempt 1 is lost with its worker; attempt 2's trace links
	// to attempt 1's.
	api.JSON(t, "POST", "/api/v1/jobs", httpJob("victim", "default", srv.URL+"/lose-first", `,"retries":1`), http.StatusCreated, nil)
	api.JSON(t, "POST", "/api/v1/jobs/victim/trigger", nil, http.StatusAccepted, nil)
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) { return svc.seen("/lose-first") == 1, "attempt 1 not started" })
	pinktest.StartWorkerProcess(t, etcd.Endpoints, "w2", otlp.env()...)
	w1.Kill()
	runs := waitRunsOf(t, api, "victim", 2)
	var lost, second snapshot.Run
	for _, r := range runs {
		if r.Attempt == 1 {
			lost = r
		} else {
			second = r
		}
	}
	if lost.Status != snapshot.StatusLost || second.Status != snapshot.StatusSucceeded || second.Trigger != snapshot.TriggerFailover {
		t.Fatalf("victim runs: attempt 1 %s, attempt 2 %s (%s)", lost.Status, second.Status, second.Trigger)
	}
	if lost.TraceID == "" || second.TraceID == "" || lost.TraceID == second.TraceID {
		t.Fatalf("trace ids: lost %q, retry %q: want two different traces", lost.TraceID, second.TraceID)
	}
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		var failover, execute *span
		for _, s := range otlp.get() {
			s := s
			if s.traceID != second.TraceID {
				continue
			}
			switch s.name {
			case "pink.failover":
				failover = &s
			case "pink.execute":
				execute = &s
			}
		}
		if failover == nil || execute == nil {
			return false, "failover or execute span of attempt 2 missing"
		}
		if len(failover.links) != 1 || failover.links[0] != lost.TraceID {
			return false, fmt.Sprintf("failover links %v, want the lost attempt's trace %s", failover.links, lost.TraceID)
		}
		if failover.attrs["pink.attempt"] != "2" || failover.attrs["pink.trigger"] != "failover" || execute.attrs["pink.attempt"] != "2" {
			return false, fmt.Sprintf("attributes: failover %v execute %v", failover.attrs, execute.attrs)
		}
		return true, ""
	})
}

func keys(m map[string]span) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
