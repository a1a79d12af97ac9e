package scheduler_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// leaderCounters are the leader-only counters kept in etcd.
var leaderCounters = []string{"pink_fires_total", "pink_fires_skipped_total", "pink_runs_lost_total", "pink_failovers_total"}

// counterSeries renders every series of the leader-only counters as
// "name{labels}" -> value.
func counterSeries(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	return pinktest.Values(t, g, leaderCounters...)
}

// node is a scheduler node with its own registry.
type node struct {
	s    *pinktest.Scheduler
	reg  *telemetry.Registry
	stop func()
}

func startNode(t *testing.T, c *pinktest.Cluster, id string, opts ...func(*pinktest.SchedulerOptions)) *node {
	t.Helper()
	reg := telemetry.NewRegistry()
	opts = append([]func(*pinktest.SchedulerOptions){func(o *pinktest.SchedulerOptions) { o.Registerer = reg }}, opts...)
	s := c.StartScheduler(t, id, opts...)
	return &node{s: s, reg: reg, stop: s.Stop}
}

func waitLeader(t *testing.T, n *node) {
	t.Helper()
	pinktest.Eventually(t, 15*time.Second, func() (bool, string) { return n.s.IsLeader(), n.s.NodeID() + " does not lead" })
}

func metric(t *testing.T, n *node, name string, labels map[string]string) float64 {
	t.Helper()
	return pinktest.Metric(t, n.reg.Prometheus(), name, labels)
}

// pause pauses a job the way the API does: moving its cursor to now, which
// must keep the counts that ride in the cursor.
func pause(t *testing.T, st *store.Store, name string) {
	t.Helper()
	spec, err := st.GetJob(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	spec.Paused = true
	if _, err := st.UpdateJob(context.Background(), spec, spec.Group, spec.Revision, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestCountersSurviveLeaderChange: the leader-only counters come from etcd.
// Leader A counts cron fires, a manual trigger, forbid skips, a lost run and
// its failover attempt; after A resigns, B exports exactly the same series
// with the same values. A follower exports none of them.
func TestCountersSurviveLeaderChange(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	a := startNode(t, c, "a")
	waitLeader(t, a)
	b := startNode(t, c, "b")

	ok := func(context.Context, worker.Run) (string, error) { return "ok", nil }
	block := func(ctx context.Context, _ worker.Run) (string, error) { <-ctx.Done(); return "", ctx.Err() }
	stopW1 := c.StartWorker(t, "g", map[string]worker.Handler{"ok": ok, "block": block},
		func(c *worker.Config) { c.DrainTimeout = 50 * time.Millisecond }).Stop

	c.CreateJob(t, job.Spec{Name: "tick", Group: "g", Schedule: "* * * * * *", Target: "ok"})
	c.CreateJob(t, job.Spec{Name: "solo", Group: "g", Schedule: "* * * * * *", Target: "block",
		Concurrency: job.ConcurrencyForbid, Retries: 1})
	trigger(t, c, job.Spec{Name: "manual", Group: "g", Target: "ok"})

	waitHistory(t, c, "manual", 1)
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		n := len(c.Runs(t, "tick"))
		skips := metric(t, a, "pink_fires_skipped_total", map[string]string{"job_name": "solo", "reason": string(snapshot.SkipForbid)})
		return n >= 2 && skips >= 2, fmt.Sprintf("%d tick runs, %v forbid skips", n, skips)
	})
	pause(t, st, "tick")
	pause(t, st, "solo")
	// A tick fire written just before the pause must have run, or w1's
	// drain would move it (a client_draining failover this test does not
	// expect).
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, err := st.ListLive(context.Background(), "", "tick")
		return err == nil && len(live) == 0, fmt.Sprintf("%d tick snapshots live, %v", len(live), err)
	})

	// solo's run is lost with its worker; its failover attempt runs on w2.
	stopW1()
	c.StartWorker(t, "g", map[string]worker.Handler{"ok": ok, "block": ok})
	solo := waitHistory(t, c, "solo", 2)
	slices.SortFunc(solo, func(x, y snapshot.Run) int { return x.Attempt - y.Attempt })
	if solo[0].Status != snapshot.StatusLost || solo[1].Trigger != snapshot.TriggerFailover || solo[1].Status != snapshot.StatusSucceeded {
		t.Fatalf("solo runs: %s, then %s %s", solo[0].Status, solo[1].Trigger, solo[1].Status)
	}

	var want map[string]float64
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		tick := c.Runs(t, "tick")
		want = counterSeries(t, a.reg.Prometheus())
		c := func(name, labels string) float64 { return want[name+"{"+labels+"}"] }
		got := map[string]float64{
			// A fire written ahead and taken back by the pause is counted
			// fired and skipped taken_back.
			"tick cron": c("pink_fires_total", `group="g",job_name="tick",trigger="cron"`) + c("pink_fires_total", `group="g",job_name="tick",trigger="catchup"`) -
				c("pink_fires_skipped_total", `group="g",job_name="tick",reason="taken_back"`),
			"manual manual": c("pink_fires_total", `group="g",job_name="manual",trigger="manual"`),
			"solo cron":     c("pink_fires_total", `group="g",job_name="solo",trigger="cron"`) + c("pink_fires_total", `group="g",job_name="solo",trigger="catchup"`),
			"solo failover": c("pink_fires_total", `group="g",job_name="solo",trigger="failover"`),
			"solo lost":     c("pink_runs_lost_total", `group="g",job_name="solo"`),
			"g client_lost": c("pink_failovers_total", `group="g",reason="client_lost"`),
			"g draining":    c("pink_failovers_total", `group="g",reason="client_draining"`),
		}
		exp := map[string]float64{"tick cron": float64(len(tick)), "manual manual": 1, "solo cron": 1, "solo failover": 1,
			"solo lost": 1, "g client_lost": 1, "g draining": 0}
		if !maps.Equal(got, exp) {
			return false, fmt.Sprintf("leader A counters %v, want %v", got, exp)
		}
		return true, ""
	})
	if skips := want[`pink_fires_skipped_total{group="g",job_name="solo",reason="concurrency_forbid"}`]; skips < 2 {
		t.Errorf("forbid skips of solo = %v, want >= 2", skips)
	}
	// 3 jobs x (6 triggers + 5 skip reasons + lost) + 3 failover reasons.
	if len(want) != 3*(len(snapshot.Triggers())+len(snapshot.SkipReasons())+1)+len(snapshot.FailoverReasons()) {
		t.Errorf("leader A exports %d counter series: %v", len(want), want)
	}
	if n := len(counterSeries(t, b.reg.Prometheus())); n != 0 {
		t.Errorf("follower B exports %d leader-only counter series", n)
	}

	a.stop()
	waitLeader(t, b)
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := counterSeries(t, b.reg.Prometheus())
		if !maps.Equal(got, want) {
			return false, fmt.Sprintf("new leader B exports\n%v\nwant (as A did)\n%v", got, want)
		}
		return true, ""
	})
	if n := len(counterSeries(t, a.reg.Prometheus())); n != 0 {
		t.Errorf("A exports %d leader-only counter series after it stopped leading", n)
	}
}

// TestGroupSeriesFollowGroups: a group created with no job or client gets
// its series at 0 on the leader; deleting it removes them.
func TestGroupSeriesFollowGroups(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	a := startNode(t, c, "a")
	waitLeader(t, a)
	ctx := context.Background()
	if err := st.CreateGroup(ctx, cluster.Group{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	series := func() map[string]int {
		out := map[string]int{}
		for _, name := range []string{"pink_clients", "pink_snapshots_pending", "pink_snapshots_inflight", "pink_failovers_total", "pink_group_jobs"} {
			out[name] = pinktest.Series(t, a.reg.Prometheus(), name, map[string]string{"group": "x"})
		}
		return out
	}
	want := map[string]int{"pink_clients": 1, "pink_snapshots_pending": 1, "pink_snapshots_inflight": 1, "pink_failovers_total": len(snapshot.FailoverReasons()),
		"pink_group_jobs": 2}
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := series()
		return maps.Equal(got, want), fmt.Sprintf("series of new group x: %v, want %v", got, want)
	})
	if v := metric(t, a, "pink_failovers_total", map[string]string{"group": "x"}) + metric(t, a, "pink_clients", map[string]string{"group": "x"}); v != 0 {
		t.Errorf("new group's series sum to %v, want 0", v)
	}
	if err := st.DeleteGroup(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := series()
		return maps.Equal(got, map[string]int{"pink_clients": 0, "pink_snapshots_pending": 0, "pink_snapshots_inflight": 0, "pink_failovers_total": 0, "pink_group_jobs": 0}),
			fmt.Sprintf("series of deleted group x: %v", got)
	})
}

// TestGroupJobsCounted: pink_group_jobs counts a group's active and paused
// jobs as they are created, paused and deleted, with the job label and
// without it (large fleets), where the per-job gauges are gone.
func TestGroupJobsCounted(t *testing.T) {
	for _, noJobLabel := range []bool{false, true} {
		t.Run(fmt.Sprintf("no job label %v", noJobLabel), func(t *testing.T) {
			c := pinktest.NewCluster(t)
			st := store.New(c.Etcd.Client, "")
			a := startNode(t, c, "a", func(o *pinktest.SchedulerOptions) { o.NoJobLabel = noJobLabel })
			waitLeader(t, a)
			c.CreateJob(t, job.Spec{Name: "one", Group: "g", Schedule: "@hourly", Target: "ok"})
			c.CreateJob(t, job.Spec{Name: "two", Group: "g", Schedule: "@hourly", Target: "ok"})
			c.CreateJob(t, job.Spec{Name: "held", Group: "g", Schedule: "@hourly", Target: "ok", Paused: true})
			c.CreateJob(t, job.Spec{Name: "other", Group: "h", Schedule: "@hourly", Target: "ok"})
			expect := func(want map[string]float64) {
				t.Helper()
				pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
					got := map[string]float64{}
					for k := range want {
						group, state, _ := strings.Cut(k, "/")
						got[k] = metric(t, a, "pink_group_jobs", map[string]string{"group": group, "state": state})
					}
					return maps.Equal(got, want), fmt.Sprintf("pink_group_jobs %v, want %v", got, want)
				})
			}
			expect(map[string]float64{"g/active": 2, "g/paused": 1, "h/active": 1, "h/paused": 0})
			pause(t, st, "two")
			if err := st.DeleteJob(context.Background(), "one", time.Now()); err != nil {
				t.Fatal(err)
			}
			expect(map[string]float64{"g/active": 0, "g/paused": 2, "h/active": 1, "h/paused": 0})
			if n := pinktest.Series(t, a.reg.Prometheus(), "pink_job_next_fire_timestamp_seconds", nil); noJobLabel && n != 0 {
				t.Errorf("without the job label %d per-job series", n)
			}
		})
	}
}

// TestJobInfoCarriesAllowedLabels: pink_job_info has one series per job
// with the allowed label keys as label_<key> (empty where the job has
// none), follows an edit of the labels and goes with the job.
func TestJobInfoCarriesAllowedLabels(t *testing.T) {
	c := pinktest.NewCluster(t)
	st := store.New(c.Etcd.Client, "")
	a := startNode(t, c, "a", func(o *pinktest.SchedulerOptions) { o.JobInfoLabels = []string{"team", "tier"} })
	waitLeader(t, a)
	c.CreateJob(t, job.Spec{Name: "invoices", Group: "g", Schedule: "@hourly", Target: "ok",
		Labels: map[string]string{"team": "payments", "tier": "1", "secret_ish": "not exported"}})
	c.CreateJob(t, job.Spec{Name: "bare", Group: "g", Schedule: "@hourly", Target: "ok"})
	info := func() map[string]float64 { return pinktest.Values(t, a.reg.Prometheus(), "pink_job_info") }
	expect := func(want map[string]float64) {
		t.Helper()
		pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
			got := info()
			return maps.Equal(got, want), fmt.Sprintf("pink_job_info\n%v\nwant\n%v", got, want)
		})
	}
	expect(map[string]float64{
		`pink_job_info{group="g",job_name="bare",label_team="",label_tier=""}`:              1,
		`pink_job_info{group="g",job_name="invoices",label_team="payments",label_tier="1"}`: 1,
	})
	spec, err := st.GetJob(context.Background(), "invoices")
	if err != nil {
		t.Fatal(err)
	}
	spec.Labels = map[string]string{"team": "billing"}
	if _, err := st.UpdateJob(context.Background(), spec, spec.Group, spec.Revision, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteJob(context.Background(), "bare", time.Now()); err != nil {
		t.Fatal(err)
	}
	expect(map[string]float64{`pink_job_info{group="g",job_name="invoices",label_team="billing",label_tier=""}`: 1})
}

// TestFailoverReasonLeaderChange: a client that dies while no leader
// watches has its work moved by the next leader as it takes over, counted
// with reason leader_change (not client_lost).
func TestFailoverReasonLeaderChange(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	a := startNode(t, c, "a")
	waitLeader(t, a)
	started := make(chan string, 1)
	w1 := c.StartWorker(t, "g", map[string]worker.Handler{"block": func(ctx context.Context, r worker.Run) (string, error) {
		select {
		case started <- r.Client:
		default:
		}
		<-ctx.Done()
		return "", ctx.Err()
	}})
	trigger(t, c, job.Spec{Name: "victim", Group: "g", Target: "block", Retries: 1})
	select {
	case <-started:
	case <-time.After(15 * time.Second):
		t.Fatal("the run did not start")
	}
	a.stop()
	// The client dies while no leader watches.
	if err := st.EvictClient(context.Background(), "g", w1.ID()); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, c, "b")
	waitLeader(t, b)
	runs := waitHistory(t, c, "victim", 1)
	if runs[0].Status != snapshot.StatusLost {
		t.Fatalf("victim attempt 1: %s, want lost", runs[0].Status)
	}
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := map[string]float64{}
		for _, r := range snapshot.FailoverReasons() {
			got[string(r)] = metric(t, b, "pink_failovers_total", map[string]string{"group": "g", "reason": string(r)})
		}
		want := map[string]float64{"leader_change": 1, "client_lost": 0, "client_draining": 0, "client_stalled": 0}
		return maps.Equal(got, want), fmt.Sprintf("failovers by reason %v, want %v", got, want)
	})
	gc, _, err := st.ReadGroupCounts(context.Background(), "g")
	if err != nil || gc.Failovers["leader_change"] != 1 {
		t.Errorf("stored group counts %v (%v), want leader_change 1", gc, err)
	}
}

// TestCountersCostNoWrites: counting rides in the transactions a run makes
// anyway: a manual run is still the trigger, the dispatch, the claim and the
// result (4 requests, 4 etcd revisions), the dispatch writing the count,
// and nothing reads or writes counters on its own. (A cron run's counts
// ride in the cursor its fire writes: see TestCountsRideInCursor.)
func TestCountersCostNoWrites(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	a := startNode(t, c, "a")
	ops := &opCounter{t: t, reg: a.reg}
	st := ops.store(c)
	waitLeader(t, a)
	c.StartWorker(t, "g", map[string]worker.Handler{"ok": func(context.Context, worker.Run) (string, error) { return "", nil }},
		func(c *worker.Config) { c.Registerer = ops.reg })
	spec := c.CreateJob(t, job.Spec{Name: "m", Group: "g", Schedule: "@hourly", Target: "ok", Paused: true})

	writes := func() map[string]int {
		out := map[string]int{}
		for _, op := range []string{"fire", "fire_batch", "move", "claim", "claim_batch", "complete", "complete_batch", "pending_create", "counts_get"} {
			if n := ops.get(op); n > 0 {
				out[op] = n
			}
		}
		return out
	}
	before, rev := writes(), e.Revision(t)
	// The trigger goes through the observed store, as the API's does.
	now := time.Now()
	if err := st.CreatePending(context.Background(), []snapshot.Snapshot{snapshot.ForJob(&spec, snapshot.ManualID(spec.Name, now),
		snapshot.TriggerManual, now, now)}, nil, false); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, c, "m", 1)
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		v := metric(t, a, "pink_fires_total", map[string]string{"job_name": "m", "trigger": "manual"})
		return v == 1, fmt.Sprintf("manual fires %v", v)
	})
	got := writes()
	for op, n := range before {
		got[op] -= n
		if got[op] == 0 {
			delete(got, op)
		}
	}
	if want := map[string]int{"pending_create": 1, "move": 1, "claim": 1, "complete": 1}; !maps.Equal(got, want) {
		t.Errorf("requests of one manual run: %v, want %v", got, want)
	}
	if d := e.Revision(t) - rev; d != 4 {
		t.Errorf("one manual run took %d etcd revisions, want 4 (trigger, dispatch, claim, result)", d)
	}
	if c, _, err := st.ReadJobCounts(context.Background(), "m"); err != nil || c.Fires["manual"] != 1 {
		t.Errorf("stored counts of m: %+v %v", c, err)
	}
}

// TestManualFireCountedOnce: a manual run counts as one fire even when it
// is dispatched twice: first to a worker that drains before starting it
// (back to pending, no other worker), then to the worker that runs it.
func TestManualFireCountedOnce(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	a := startNode(t, c, "a")
	waitLeader(t, a)
	ok := func(context.Context, worker.Run) (string, error) { return "ok", nil }
	block := func(ctx context.Context, _ worker.Run) (string, error) { <-ctx.Done(); return "", ctx.Err() }
	wa := c.StartWorker(t, "g", map[string]worker.Handler{"ok": ok, "block": block},
		func(c *worker.Config) { c.Name, c.Capacity, c.DrainTimeout = "a", 1, 100*time.Millisecond })
	trigger(t, c, job.Spec{Name: "busy", Group: "g", Target: "block"})
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, err := st.ListLive(context.Background(), "", "busy")
		return err == nil && len(live) == 1 && live[0].State == snapshot.StateRunning, "busy is not running on a"
	})
	// a is full: the manual run of m waits on it, dispatched but not started.
	trigger(t, c, job.Spec{Name: "m", Group: "g", Target: "ok"})
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, err := st.ListLive(context.Background(), "", "m")
		return err == nil && len(live) == 1 && live[0].Client == wa.ID() && live[0].State == snapshot.StateDispatched,
			fmt.Sprintf("m not waiting on a: %+v %v", live, err)
	})
	wa.Stop()
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, err := st.ListLive(context.Background(), "", "m")
		return err == nil && len(live) == 1 && live[0].State == snapshot.StatePending, "m is not back to pending"
	})
	c.StartWorker(t, "g", map[string]worker.Handler{"ok": ok, "block": ok}, func(c *worker.Config) { c.Name = "b" })
	waitHistory(t, c, "m", 1)
	manual := map[string]string{"job_name": "m", "trigger": "manual"}
	pinktest.Eventually(t, 5*time.Second, func() (bool, string) {
		n := metric(t, a, "pink_fires_total", manual)
		return n == 1, fmt.Sprintf("manual fires of m = %v, want 1", n)
	})
}

// TestBadCountersKeyDoesNotStall: a counters key that does not decode
// (damaged, or from another version) neither blocks the events it would
// count nor the job: the leader counts on from zero and replaces the key.
func TestBadCountersKeyDoesNotStall(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	a := startNode(t, c, "a")
	waitLeader(t, a)
	c.StartWorker(t, "g", map[string]worker.Handler{"ok": func(context.Context, worker.Run) (string, error) { return "ok", nil }})
	spec := c.CreateJob(t, job.Spec{Name: "m", Group: "g", Schedule: "@hourly", Target: "ok", Paused: true})
	if _, err := e.Client.Put(context.Background(), st.Root()+"/counters/job/m", "{not json"); err != nil {
		t.Fatal(err)
	}
	c.Trigger(t, spec)
	waitHistory(t, c, "m", 1)
	pinktest.Eventually(t, 5*time.Second, func() (bool, string) {
		n := metric(t, a, "pink_fires_total", map[string]string{"job_name": "m", "trigger": "manual"})
		return n == 1, fmt.Sprintf("manual fires of m = %v, want 1", n)
	})
	resp, err := e.Client.Get(context.Background(), st.Root()+"/counters/job/m")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != `{"fires":{"manual":1}}` {
		t.Fatalf("counters key after the run: %v %v", resp, err)
	}
}
