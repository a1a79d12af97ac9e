package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// call is one request the http target made to the test's service.
type call struct {
	job, snapshot  string
	v              string // the ?v= of the job's url: which version of the job ran
	scheduled      time.Time
	attempt, shard int
	start, end     time.Time
}

// service is the "user's service" the jobs call: it records every call,
// holds it for ?hold=, and fails attempt 1 when ?fail_first=1.
type service struct {
	mu    sync.Mutex
	calls []call
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := call{job: r.Header.Get("Pink-Job"), snapshot: r.Header.Get("Pink-Snapshot-Id"), v: r.URL.Query().Get("v"), start: start}
	c.scheduled, _ = time.Parse(time.RFC3339, r.Header.Get("Pink-Scheduled-At"))
	c.attempt, _ = strconv.Atoi(r.Header.Get("Pink-Attempt"))
	c.shard, _ = strconv.Atoi(r.Header.Get("Pink-Shard-Index"))
	hold, _ := time.ParseDuration(r.URL.Query().Get("hold"))
	select {
	case <-time.After(hold):
	case <-r.Context().Done(): // the worker died mid-call
	}
	c.end = time.Now()
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	if r.URL.Query().Get("fail_first") == "1" && c.attempt == 1 {
		http.Error(w, "first attempts fail", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "ok %s", c.snapshot)
}

func (s *service) get() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

type chaosJob struct {
	name, misfire, concurrency, strategy, query string
	shards, retries                             int
}

var chaosJobs = []chaosJob{
	{name: "all-1", misfire: "run_all", query: "hold=100ms"},
	{name: "all-2", misfire: "run_all", strategy: "random", query: "hold=300ms"},
	{name: "all-3", misfire: "run_all", strategy: "least_loaded", query: "hold=50ms"},
	{name: "all-hash", misfire: "run_all", strategy: "hash", query: "hold=200ms"},
	{name: "all-shards", misfire: "run_all", shards: 3, query: "hold=100ms"},
	{name: "all-retry", misfire: "run_all", retries: 2, query: "fail_first=1"},
	{name: "once-1", misfire: "run_once", query: "hold=100ms"},
	{name: "once-2", misfire: "run_once", strategy: "random", query: "hold=500ms"},
	{name: "skip-1", misfire: "skip", query: "hold=100ms"},
	{name: "forbid-1", misfire: "run_once", concurrency: "forbid", query: "hold=1500ms"},
	{name: "forbid-2", misfire: "run_all", concurrency: "forbid", strategy: "least_loaded", query: "hold=2500ms"},
}

// TestChaos runs a real etcd server, three scheduler processes and three
// worker processes, with eleven jobs firing every second, written ahead
// (the default --lookahead), and breaks things: kill -9 the leader twice,
// kill -9 a worker, SIGTERM another, restart etcd. Then it checks guarantees 1-4 from what the jobs' service
// recorded and from the API.
func TestChaos(t *testing.T) {
	svc := &service{}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	etcd := pinktest.StartEtcdProcess(t)
	endpoints := strings.Join(etcd.Endpoints, ",")

	type node struct {
		id   string
		proc *pinktest.Process
		api  *pinktest.API
	}
	var nodes []*node
	for _, id := range []string{"s1", "s2", "s3"} {
		p, api := pinktest.StartSchedulerProcess(t, etcd.Endpoints, id)
		nodes = append(nodes, &node{id: id, proc: p, api: api})
	}
	workers := map[string]*pinktest.Process{}
	for _, name := range []string{"w1", "w2", "w3"} {
		workers[name] = pinktest.StartProcess(t, "worker "+name, nil, "worker", "--group", "default",
			"--etcd-endpoints", endpoints, "--listen", "127.0.0.1:0", "--name", name,
			"--lease-ttl", "2s", "--drain-timeout", "10s", "--capacity", "16",
			// The jobs' service runs on loopback, which workers deny by default.
			"--http-allow", "127.0.0.1")
		workers[name].WaitOutput("worker registered", 30*time.Second)
	}
	api := func() *pinktest.API { // any live node serves the API
		for _, n := range nodes {
			if !n.proc.Exited() {
				return n.api
			}
		}
		t.Fatal("no scheduler alive (how each ended is under its output below)")
		return nil
	}
	leader := func() *node {
		var found *node
		pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
			id, err := leaderAsSeenBy(t, api())
			for _, n := range nodes {
				if n.id == id && !n.proc.Exited() {
					found = n
					return true, ""
				}
			}
			return false, fmt.Sprintf("no live leader (%q, %v)", id, err)
		})
		return found
	}

	firstFire := map[string]time.Time{} // each job's first nominal fire
	for _, j := range chaosJobs {
		spec := map[string]any{"name": j.name, "group": "default", "schedule": "* * * * * *", "target": "http",
			"params": map[string]any{"url": srv.URL + "/?" + j.query}, "misfire": j.misfire, "timeout": "10s"}
		for k, v := range map[string]string{"concurrency": j.concurrency, "strategy": j.strategy} {
			if v != "" {
				spec[k] = v
			}
		}
		if j.shards > 0 {
			spec["shards"] = j.shards
		}
		// The check reads every run of the chaos from history: keep them
		// all (a sharded job writes a run per shard and one per fire).
		spec["history_limit"] = 1000
		if j.retries > 0 {
			spec["retries"], spec["retry_backoff"] = j.retries, "200ms"
		}
		var created struct {
			NextFires []time.Time `json:"next_fires"`
		}
		api().JSON(t, "POST", "/api/v1/jobs", spec, http.StatusCreated, &created)
		if len(created.NextFires) == 0 {
			t.Fatalf("%s: created without next_fires", j.name)
		}
		firstFire[j.name] = created.NextFires[0]
	}
	start := time.Now()
	settle := func(d time.Duration) { time.Sleep(d) } // chaos needs time to pass between blows

	var leaderKills []time.Time
	settle(5 * time.Second)
	first := leader()
	leaderKills = append(leaderKills, time.Now())
	first.proc.Kill()
	t.Logf("killed leader %s", first.id)
	settle(4 * time.Second)

	workers["w1"].Kill()
	t.Log("killed worker w1")
	settle(3 * time.Second)
	workers["w2"].Stop(30 * time.Second)
	t.Log("stopped worker w2 (SIGTERM)")
	settle(3 * time.Second)

	etcd.Kill()
	t.Log("killed etcd")
	settle(time.Second)
	etcd.Start()
	t.Log("restarted etcd")
	settle(5 * time.Second)

	second := leader()
	leaderKills = append(leaderKills, time.Now())
	second.proc.Kill()
	t.Logf("killed leader %s", second.id)
	settle(6 * time.Second)

	// Stop firing, then everything that was scheduled must finish.
	pausedAt := time.Now()
	for _, j := range chaosJobs {
		api().JSON(t, "POST", "/api/v1/jobs/"+j.name+"/pause", nil, http.StatusOK, nil)
	}
	pinktest.Eventually(t, 60*time.Second, func() (bool, string) {
		var live struct {
			Snapshots []struct{ ID, State string } `json:"snapshots"`
		}
		api().JSON(t, "GET", "/api/v1/snapshots", nil, http.StatusOK, &live)
		return len(live.Snapshots) == 0, fmt.Sprintf("%d snapshots still live: %v", len(live.Snapshots), live.Snapshots)
	})

	history := map[string][]snapshot.Run{}
	for _, j := range chaosJobs {
		history[j.name] = api().Runs(t, j.name)
	}
	calls := svc.get()
	checkChaos(t, history, calls, firstFire, start, pausedAt, leaderKills)
	for _, p := range []*pinktest.Process{workers["w3"]} {
		if p.Exited() {
			t.Errorf("%s exited during the chaos", p.Name)
		}
	}
}

func checkChaos(t *testing.T, history map[string][]snapshot.Run, calls []call, firstFire map[string]time.Time, start, pausedAt time.Time, kills []time.Time) {
	t.Helper()
	// Guarantee 2: for run_all jobs no nominal second is missing, from the
	// job's first fire on.
	expected, lost, ahead := 0, 0, 0
	statuses := map[string]int{}
	for _, j := range chaosJobs {
		runs := history[j.name]
		seen := map[time.Time]bool{}
		for _, r := range runs {
			seen[r.ScheduledAt] = true
			if r.DispatchedAt != nil && r.DispatchedAt.Before(r.ScheduledAt) {
				ahead++
			}
			statuses[string(r.Trigger)+"/"+string(r.Status)]++
			if r.Status == snapshot.StatusLost {
				lost++
			}
		}
		if j.misfire != "run_all" || j.concurrency == "forbid" {
			continue
		}
		for at := firstFire[j.name]; at.Before(pausedAt.Add(-2 * time.Second)); at = at.Add(time.Second) {
			expected++
			if !seen[at] {
				t.Errorf("%s: no run for %s", j.name, at.Format(time.TimeOnly))
			}
		}
	}
	// The schedulers run with their default --lookahead: most fires were
	// written ahead, so the kills fell inside the window.
	if ahead < expected/2 {
		t.Errorf("%d runs were dispatched ahead of their nominal time, want at least half of %d", ahead, expected)
	}

	// A worker stopped with SIGTERM drains: it ran work before, and none of
	// its runs was lost.
	drained, drainedLost := 0, 0
	for _, runs := range history {
		for _, r := range runs {
			if strings.HasPrefix(r.Client, "w2-") {
				drained++
				if r.Status == snapshot.StatusLost {
					drainedLost++
				}
			}
		}
	}
	if drained == 0 || drainedLost > 0 {
		t.Errorf("worker w2 (SIGTERM): %d runs, %d lost; want some runs and none lost", drained, drainedLost)
	}

	// Guarantee 1 and 3: no (job, nominal time, shard) ran twice, unless an
	// earlier attempt was lost or failed (a retry); no attempt ran twice.
	type fireKey struct {
		job       string
		scheduled time.Time
		shard     int
	}
	byFire := map[fireKey][]call{}
	for _, c := range calls {
		k := fireKey{c.job, c.scheduled, c.shard}
		byFire[k] = append(byFire[k], c)
	}
	retried := map[string]bool{} // snapshot ids with a lost or failed attempt
	for _, runs := range history {
		for _, r := range runs {
			if r.Status == snapshot.StatusLost || r.Status == snapshot.StatusFailed || r.Status == snapshot.StatusTimedOut {
				retried[r.SnapshotID] = true
			}
		}
	}
	duplicates := 0
	for k, cs := range byFire {
		attempts := map[int]bool{}
		for _, c := range cs {
			if attempts[c.attempt] {
				duplicates++
				t.Errorf("%s %s shard %d attempt %d ran twice", k.job, k.scheduled.Format(time.TimeOnly), k.shard, c.attempt)
			}
			attempts[c.attempt] = true
		}
		if len(cs) > 1 && !retried[cs[0].snapshot] {
			duplicates++
			t.Errorf("%s %s shard %d ran %d times without a lost or failed attempt", k.job, k.scheduled.Format(time.TimeOnly), k.shard, len(cs))
		}
	}

	// Overlap: forbid jobs never ran two calls at once.
	for _, j := range chaosJobs {
		if j.concurrency != "forbid" {
			continue
		}
		var mine []call
		for _, c := range calls {
			if c.job == j.name {
				mine = append(mine, c)
			}
		}
		sort.Slice(mine, func(a, b int) bool { return mine[a].start.Before(mine[b].start) })
		for i := 1; i < len(mine); i++ {
			if mine[i].start.Before(mine[i-1].end) {
				t.Errorf("%s: %s started while %s ran", j.name, mine[i].snapshot, mine[i-1].snapshot)
			}
		}
	}

	// Time from each leader kill to the next dispatch.
	var takeovers []string
	for _, k := range kills {
		var next time.Time
		for _, runs := range history {
			for _, r := range runs {
				if r.DispatchedAt != nil && r.DispatchedAt.After(k) && (next.IsZero() || r.DispatchedAt.Before(next)) {
					next = *r.DispatchedAt
				}
			}
		}
		takeovers = append(takeovers, next.Sub(k).Round(10*time.Millisecond).String())
	}
	figures := map[string]any{
		"duration_s": pausedAt.Sub(start).Round(time.Second).Seconds(), "jobs": len(chaosJobs),
		"run_all_fires_expected": expected, "calls": len(calls), "duplicates": duplicates, "lost": lost,
		"first_dispatch_after_leader_kill": takeovers, "runs_by_trigger_and_status": statuses,
	}
	b, _ := json.Marshal(figures)
	t.Logf("chaos figures: %s", b)
	// `make test` passes a file to print the figures from: go test shows a
	// passing test's log only with -v.
	if path := os.Getenv("PINK_CHAOS_FIGURES"); path != "" {
		b, _ = json.MarshalIndent(figures, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Errorf("write chaos figures: %v", err)
		}
	}
}
