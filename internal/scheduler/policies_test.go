package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// trigger creates a paused job (so only manual runs happen) and triggers it.
func trigger(t *testing.T, c *pinktest.Cluster, spec job.Spec) job.Spec {
	t.Helper()
	spec.Paused = true
	if spec.Schedule == "" {
		spec.Schedule = "@hourly"
	}
	spec = c.CreateJob(t, spec)
	c.Trigger(t, spec)
	return spec
}

// describe renders runs oldest first as "attempt trigger status client".
func describe(runs []snapshot.Run, clients map[string]string) []string {
	sorted := append([]snapshot.Run(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	var out []string
	for _, r := range sorted {
		out = append(out, fmt.Sprintf("%d %s %s %s", r.Attempt, r.Trigger, r.Status, clients[r.Client]))
	}
	return out
}

func waitHistory(t *testing.T, c *pinktest.Cluster, name string, n int) []snapshot.Run {
	t.Helper()
	var runs []snapshot.Run
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		runs = c.Runs(t, name)
		return len(runs) >= n, fmt.Sprintf("%d runs of %s", len(runs), name)
	})
	return runs
}

// TestRunningSnapshotOfDeadClientIsLostAndRetried: when a client dies
// mid-run, its attempt is recorded lost, the next attempt runs on another
// client, and the dead attempt's late result is refused — which each
// worker's Config.Reported hears (ErrRefused, nil).
func TestRunningSnapshotOfDeadClientIsLostAndRetried(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	c.StartScheduler(t, "n1")
	started, release := make(chan struct{}, 1), make(chan struct{})
	zombieLog := &pinktest.Buffer{}
	reportedA, reportedB := make(chan error, 1), make(chan error, 1)
	a := c.StartWorker(t, "g", map[string]worker.Handler{"work": func(context.Context, worker.Run) (string, error) {
		started <- struct{}{}
		<-release // ignores its context: a process that does not know it is dead
		return "late", nil
	}}, func(c *worker.Config) {
		c.Name, c.Logger = "a", slog.New(slog.NewTextHandler(zombieLog, nil))
		c.Reported = func(_ worker.Run, err error) { reportedA <- err }
	})
	aID := a.ID()
	spec := trigger(t, c, job.Spec{Name: "work", Group: "g", Target: "work", Retries: 1})
	<-started

	b := c.StartWorker(t, "g", map[string]worker.Handler{"work": func(_ context.Context, r worker.Run) (string, error) {
		return fmt.Sprintf("attempt %d", r.Attempt), nil
	}}, func(c *worker.Config) { c.Name, c.Reported = "b", func(_ worker.Run, err error) { reportedB <- err } })
	if err := st.EvictClient(context.Background(), "g", aID); err != nil {
		t.Fatal(err)
	}
	runs := waitHistory(t, c, spec.Name, 2)
	close(release)
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		return strings.Contains(zombieLog.String(), "result refused"), "the zombie's result was not refused"
	})
	if err := <-reportedA; !errors.Is(err, worker.ErrRefused) {
		t.Errorf("the zombie's Reported got %v, want ErrRefused", err)
	}
	if err := <-reportedB; err != nil {
		t.Errorf("the retry's Reported got %v, want nil (recorded)", err)
	}
	runs = c.Runs(t, spec.Name)
	got := describe(runs, map[string]string{aID: "a", b.ID(): "b"})
	want := []string{"1 manual lost a", "2 failover succeeded b"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history = %q, want %q", got, want)
	}
}

// TestUnstartedSnapshotMovesWithItsAttempt: work a dead client had not
// started moves to a live client as the same attempt; nothing is lost.
func TestUnstartedSnapshotMovesWithItsAttempt(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	ctx := context.Background()
	c.StartScheduler(t, "n1")
	// A client that registers but never claims anything.
	if err := st.EnsureGroup(ctx, cluster.Group{Name: "g"}); err != nil {
		t.Fatal(err)
	}
	lease, err := e.Client.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RegisterClient(ctx, lease.ID, cluster.Client{ID: "silent", Group: "g", Capacity: 1, Targets: []string{"work"}}); err != nil {
		t.Fatal(err)
	}
	spec := trigger(t, c, job.Spec{Name: "work", Group: "g", Target: "work"})
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, _ := st.ListLive(ctx, "g", "")
		return len(live) == 1 && live[0].Client == "silent", fmt.Sprintf("live %+v", live)
	})
	w := c.StartWorker(t, "g", map[string]worker.Handler{"work": func(context.Context, worker.Run) (string, error) { return "ok", nil }},
		func(c *worker.Config) { c.Name = "w" })
	if _, err := e.Client.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	runs := waitHistory(t, c, spec.Name, 1)
	if got := describe(runs, map[string]string{w.ID(): "w"}); fmt.Sprint(got) != "[1 manual succeeded w]" {
		t.Errorf("history = %q", got)
	}
}

// TestGracefulDrain: a worker that is stopped finishes its running run,
// takes no new work meanwhile, and nothing is lost.
func TestGracefulDrain(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	ctx := context.Background()
	c.StartScheduler(t, "n1")
	started, release := make(chan struct{}, 1), make(chan struct{})
	a := c.StartWorker(t, "g", map[string]worker.Handler{"work": func(context.Context, worker.Run) (string, error) {
		started <- struct{}{}
		<-release
		return "a", nil
	}}, func(c *worker.Config) { c.Name = "a"; c.DrainTimeout = 30 * time.Second })
	aID := a.ID()
	spec := trigger(t, c, job.Spec{Name: "work", Group: "g", Target: "work"})
	<-started
	b := c.StartWorker(t, "g", map[string]worker.Handler{"work": func(context.Context, worker.Run) (string, error) { return "b", nil }},
		func(c *worker.Config) { c.Name = "b" })

	stopped := make(chan struct{})
	go func() { a.Stop(); close(stopped) }()
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		cs, _ := st.ListClients(ctx, "g")
		for _, c := range cs {
			if c.ID == aID && c.Draining {
				return true, ""
			}
		}
		return false, "a is not draining"
	})
	c.Trigger(t, spec)
	waitHistory(t, c, spec.Name, 1) // the second run, on b
	close(release)
	<-stopped
	runs := waitHistory(t, c, spec.Name, 2)
	got := describe(runs, map[string]string{aID: "a", b.ID(): "b"})
	sort.Strings(got)
	if fmt.Sprint(got) != "[1 manual succeeded a 1 manual succeeded b]" {
		t.Errorf("history = %q", got)
	}
}

// TestDrainDeadline: a run still going when a stopping worker's drain
// timeout ends is canceled and left unreported; once the worker's lease is
// released the leader records it lost and retries it elsewhere if the job
// has retries left, like the run of a worker that died.
func TestDrainDeadline(t *testing.T) {
	for _, tt := range []struct {
		retries int
		want    string
	}{
		{0, "[1 manual lost a]"},
		{1, "[1 manual lost a 2 failover succeeded b]"},
	} {
		t.Run(fmt.Sprintf("retries=%d", tt.retries), func(t *testing.T) {
			c := pinktest.NewCluster(t)
			e := c.Etcd
			st := store.New(e.Client, "")
			c.StartScheduler(t, "n1")
			started, canceled := make(chan struct{}, 1), make(chan error, 1)
			a := c.StartWorker(t, "g", map[string]worker.Handler{"work": func(ctx context.Context, _ worker.Run) (string, error) {
				started <- struct{}{}
				<-ctx.Done()
				canceled <- ctx.Err()
				return "", ctx.Err()
			}}, func(c *worker.Config) { c.Name = "a"; c.DrainTimeout = 300 * time.Millisecond })
			aID := a.ID()
			spec := trigger(t, c, job.Spec{Name: "work", Group: "g", Target: "work", Retries: tt.retries})
			<-started
			b := c.StartWorker(t, "g", map[string]worker.Handler{"work": func(context.Context, worker.Run) (string, error) { return "b", nil }},
				func(c *worker.Config) { c.Name = "b" })
			a.Stop()
			if err := <-canceled; err == nil {
				t.Fatal("the handler was not canceled at the drain deadline")
			}
			waitHistory(t, c, spec.Name, 1+tt.retries)
			pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
				live, err := st.ListLive(context.Background(), "", spec.Name)
				return err == nil && len(live) == 0, fmt.Sprintf("%d snapshots live, %v", len(live), err)
			})
			runs := c.Runs(t, spec.Name)
			if got := fmt.Sprint(describe(runs, map[string]string{aID: "a", b.ID(): "b"})); got != tt.want {
				t.Errorf("history = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestMisfirePoliciesAfterDowntime: with no leader for a few seconds,
// run_all makes up every missed fire, run_once makes up one, skip none;
// every fire not run is counted.
func TestMisfirePoliciesAfterDowntime(t *testing.T) {
	c := pinktest.NewCluster(t)
	// Lookahead off: the fires a stopped leader wrote ahead would run
	// during the outage and blur the gap the policies are measured on.
	withThreshold := func(o *pinktest.SchedulerOptions) { o.MisfireThreshold, o.Lookahead = 300*time.Millisecond, -1 }
	for _, m := range []job.Misfire{job.MisfireRunAll, job.MisfireRunOnce, job.MisfireSkip} {
		c.CreateJob(t, job.Spec{Name: string(m), Group: "g", Schedule: "* * * * * *", Target: "noop", Misfire: m})
	}
	c.CreateJob(t, job.Spec{Name: "run_all_window", Group: "g", Schedule: "* * * * * *", Target: "noop",
		Misfire: job.MisfireRunAll, CatchupWindow: job.Duration(2 * time.Second)})
	policies := []string{"run_all", "run_all_window", "run_once", "skip"}
	c.StartWorker(t, "g", map[string]worker.Handler{"noop": func(context.Context, worker.Run) (string, error) { return "", nil }})
	stop1 := c.StartScheduler(t, "n1", withThreshold).Stop
	for _, m := range policies {
		waitHistory(t, c, m, 2)
	}
	stop1()
	// A deliberate outage with no leader, ending 400 ms into a second: the
	// new leader then plans the catch-up while even the latest missed fire
	// is past the threshold, so the policies differ in what they run.
	outage := 3*time.Second + (1400*time.Millisecond-time.Duration(time.Now().Nanosecond()))%time.Second
	time.Sleep(outage)
	reg := telemetry.NewRegistry()
	restart := time.Now()
	c.StartScheduler(t, "n2", withThreshold, func(o *pinktest.SchedulerOptions) { o.Registerer = reg })
	for _, m := range policies {
		pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
			runs := c.Runs(t, m)
			return len(runs) > 0 && runs[0].ScheduledAt.After(restart.Add(2*time.Second)), "no run after the outage yet"
		})
	}
	for _, m := range policies {
		runs := c.Runs(t, m)
		sort.Slice(runs, func(i, j int) bool { return runs[i].ScheduledAt.Before(runs[j].ScheduledAt) })
		var gaps []time.Duration
		catchups := 0
		for i, r := range runs {
			if r.Trigger == snapshot.TriggerCatchup {
				catchups++
			}
			if i > 0 {
				if d := r.ScheduledAt.Sub(runs[i-1].ScheduledAt); d > time.Second {
					gaps = append(gaps, d)
				}
			}
		}
		skipped := pinktest.Metric(t, reg.Prometheus(), "pink_fires_skipped_total", map[string]string{"job_name": m})
		switch m {
		case "run_all":
			if len(gaps) != 0 || catchups < 2 || skipped != 0 {
				t.Errorf("run_all: gaps %v, %d catch-up runs, %v skipped; want no gap, >= 2 catch-ups, 0 skipped", gaps, catchups, skipped)
			}
		case "run_all_window":
			// Only the missed fires within the 2 s window run; the older
			// ones are counted.
			window := pinktest.Metric(t, reg.Prometheus(), "pink_fires_skipped_total", map[string]string{"job_name": m, "reason": "misfire_window"})
			if len(gaps) != 1 || catchups < 1 || catchups > 2 || window != gaps[0].Seconds()-1 || !endsGapAsCatchup(runs) {
				t.Errorf("run_all_window: gaps %v, %d catch-up runs, %v skipped as misfire_window; want one gap ended by 1-2 catch-up runs, its fires counted", gaps, catchups, window)
			}
		case "run_once":
			// The missed fires collapse into one catch-up run of the latest,
			// the run that ends the gap; the others are counted.
			if len(gaps) != 1 || catchups != 1 || skipped != gaps[0].Seconds()-1 || !endsGapAsCatchup(runs) {
				t.Errorf("run_once: gaps %v, %d catch-up runs, %v skipped; want one gap ended by the one catch-up run, the other missed fires counted", gaps, catchups, skipped)
			}
		case "skip":
			if len(gaps) != 1 || catchups != 0 || skipped != gaps[0].Seconds()-1 {
				t.Errorf("skip: gaps %v, %d catch-up runs, %v skipped; want one gap whose fires are all counted", gaps, catchups, skipped)
			}
		}
	}
}

// endsGapAsCatchup reports whether the run after the one gap in runs
// (sorted by scheduled_at) is a catch-up run.
func endsGapAsCatchup(runs []snapshot.Run) bool {
	for i := 1; i < len(runs); i++ {
		if runs[i].ScheduledAt.Sub(runs[i-1].ScheduledAt) > time.Second {
			return runs[i].Trigger == snapshot.TriggerCatchup
		}
	}
	return false
}

// interval is one handler execution, for overlap checks.
type interval struct {
	id         string
	start, end time.Time
	cause      error
}

type intervals struct {
	mu   sync.Mutex
	list []interval
}

func (iv *intervals) handler(hold time.Duration) worker.Handler {
	return func(ctx context.Context, r worker.Run) (string, error) {
		start := time.Now()
		var err error
		select {
		case <-time.After(hold):
		case <-ctx.Done():
			err = ctx.Err()
		}
		iv.mu.Lock()
		iv.list = append(iv.list, interval{r.SnapshotID, start, time.Now(), context.Cause(ctx)})
		iv.mu.Unlock()
		return "", err
	}
}

func (iv *intervals) overlaps() []string {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	l := append([]interval(nil), iv.list...)
	sort.Slice(l, func(i, j int) bool { return l[i].start.Before(l[j].start) })
	var out []string
	for i := 1; i < len(l); i++ {
		if l[i].start.Before(l[i-1].end) {
			out = append(out, fmt.Sprintf("%s started before %s ended", l[i].id, l[i-1].id))
		}
	}
	return out
}

// TestConcurrencyForbid: fires while a run is live are skipped and counted,
// manual triggers are refused; runs never overlap.
func TestConcurrencyForbid(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	reg := telemetry.NewRegistry()
	c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) { o.Registerer = reg })
	iv := &intervals{}
	c.StartWorker(t, "g", map[string]worker.Handler{"slow": iv.handler(2200 * time.Millisecond)})
	c.StartWorker(t, "g", map[string]worker.Handler{"slow": iv.handler(2200 * time.Millisecond)})
	spec := c.CreateJob(t, job.Spec{Name: "slow", Group: "g", Schedule: "* * * * * *", Target: "slow", Concurrency: job.ConcurrencyForbid})
	runs := waitHistory(t, c, "slow", 3)
	now := time.Now()
	snap := snapshot.ForJob(&spec, snapshot.ManualID(spec.Name, now), snapshot.TriggerManual, now, now)
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		err := st.CreatePending(context.Background(), []snapshot.Snapshot{snap}, nil, true)
		return errors.Is(err, store.ErrOverlap), fmt.Sprintf("manual trigger while running: %v", err)
	})
	// A forced manual trigger is accepted but queued: it runs once the live
	// run has ended, never alongside it.
	forced := snapshot.ForJob(&spec, snapshot.ManualID(spec.Name, time.Now()), snapshot.TriggerManual, time.Now(), time.Now())
	if err := st.CreatePending(context.Background(), []snapshot.Snapshot{forced}, nil, false); err != nil {
		t.Fatal(err)
	}
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		for _, r := range c.Runs(t, "slow") {
			if r.SnapshotID == forced.ID {
				return r.Status == snapshot.StatusSucceeded, fmt.Sprintf("forced run ended %s", r.Status)
			}
		}
		return false, "forced manual run has not run"
	})
	if o := iv.overlaps(); len(o) > 0 {
		t.Errorf("runs overlapped: %v", o)
	}
	skipped := pinktest.Metric(t, reg.Prometheus(), "pink_fires_skipped_total", map[string]string{"job_name": "slow", "reason": "concurrency_forbid"})
	if skipped < float64(2*(len(runs)-1)) {
		t.Errorf("%v fires skipped for %d runs of 2.2s at 1/s; want at least %d", skipped, len(runs), 2*(len(runs)-1))
	}
}

// TestConcurrencyAllow: with allow (the default) a fire runs while the
// previous run of the job is still running.
func TestConcurrencyAllow(t *testing.T) {
	c := pinktest.NewCluster(t)
	c.StartScheduler(t, "n1")
	iv := &intervals{}
	c.StartWorker(t, "g", map[string]worker.Handler{"slow": iv.handler(1500 * time.Millisecond)})
	c.StartWorker(t, "g", map[string]worker.Handler{"slow": iv.handler(1500 * time.Millisecond)})
	c.CreateJob(t, job.Spec{Name: "slow", Group: "g", Schedule: "* * * * * *", Target: "slow"})
	runs := waitHistory(t, c, "slow", 3)
	checkConsecutive(t, runs)
	if o := iv.overlaps(); len(o) == 0 {
		t.Errorf("runs of 1.5 s at 1/s never overlapped under allow")
	}
}

// TestConcurrencyReplace: a new fire cancels the running run, which ends
// as canceled, and starts only after it stopped.
func TestConcurrencyReplace(t *testing.T) {
	c := pinktest.NewCluster(t)
	c.StartScheduler(t, "n1")
	iv := &intervals{}
	short := func(c *worker.Config) { c.DrainTimeout = 100 * time.Millisecond }
	c.StartWorker(t, "g", map[string]worker.Handler{"long": iv.handler(time.Hour)}, short)
	c.StartWorker(t, "g", map[string]worker.Handler{"long": iv.handler(time.Hour)}, short)
	c.CreateJob(t, job.Spec{Name: "long", Group: "g", Schedule: "*/2 * * * * *", Target: "long", Concurrency: job.ConcurrencyReplace})
	runs := waitHistory(t, c, "long", 3)
	for _, r := range runs {
		if r.Status != snapshot.StatusCanceled || r.Error != "replaced by a newer run of the job" {
			t.Errorf("run %s: %s %q, want canceled by replacement", r.ID, r.Status, r.Error)
		}
	}
	if o := iv.overlaps(); len(o) > 0 {
		t.Errorf("runs overlapped: %v", o)
	}
}

// TestShardsAndBroadcast: a sharded fire spreads its shards over distinct
// clients and succeeds only if every shard does; broadcast runs once per
// client.
func TestShardsAndBroadcast(t *testing.T) {
	c := pinktest.NewCluster(t)
	c.StartScheduler(t, "n1")
	var mu sync.Mutex
	ranOn := map[string][]string{} // snapshot id -> clients
	h := func(_ context.Context, r worker.Run) (string, error) {
		mu.Lock()
		ranOn[r.SnapshotID] = append(ranOn[r.SnapshotID], r.Client)
		mu.Unlock()
		if r.Job == "half-broken" && r.ShardIndex == 1 {
			return "", errors.New("shard 1 is broken")
		}
		return fmt.Sprintf("shard %d/%d", r.ShardIndex, r.ShardTotal), nil
	}
	for _, name := range []string{"w1", "w2", "w3"} {
		c.StartWorker(t, "g", map[string]worker.Handler{"part": h}, func(c *worker.Config) { c.Name = name })
	}
	for _, spec := range []job.Spec{
		{Name: "sharded", Shards: 3}, {Name: "half-broken", Shards: 3}, {Name: "everywhere", Strategy: job.StrategyBroadcast},
	} {
		spec.Group, spec.Schedule, spec.Target = "g", "*/2 * * * * *", "part"
		c.CreateJob(t, spec)
	}
	summary := func(name string) snapshot.Run {
		var sum snapshot.Run
		pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
			for _, r := range c.Runs(t, name) {
				if r.Attempt == 0 {
					sum = r
					return true, ""
				}
			}
			return false, "no summary run of " + name
		})
		return sum
	}
	for name, want := range map[string]string{
		"sharded":     "succeeded 3/3 shards succeeded ",
		"half-broken": "failed 2/3 shards succeeded shard 1: failed (shard 1 is broken)",
		"everywhere":  "succeeded 3/3 shards succeeded ",
	} {
		sum := summary(name)
		if got := fmt.Sprintf("%s %s %s", sum.Status, sum.Output, sum.Error); got != want {
			t.Errorf("%s summary = %q, want %q", name, got, want)
		}
		if sum.ShardTotal != 3 || strings.Contains(sum.ID, ".s") {
			t.Errorf("%s summary id %s shard_total %d", name, sum.ID, sum.ShardTotal)
		}
		mu.Lock()
		clients := map[string]bool{}
		for i := range 3 {
			for _, c := range ranOn[snapshot.ShardID(sum.ID, i)] {
				clients[c] = true
			}
		}
		mu.Unlock()
		if len(clients) != 3 {
			t.Errorf("%s: shards ran on %d distinct clients, want 3", name, len(clients))
		}
	}
}

// TestStrategies: round_robin alternates, hash sticks to one client,
// least_loaded fills clients by free capacity.
func TestStrategies(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	reg := telemetry.NewRegistry()
	c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) { o.Registerer = reg })
	release := make(chan struct{})
	defer close(release)
	h := func(ctx context.Context, r worker.Run) (string, error) {
		if r.Job == "loaded" {
			<-release
		}
		return "", nil
	}
	a := c.StartWorker(t, "g", map[string]worker.Handler{"x": h}, func(c *worker.Config) { c.Name = "a"; c.Capacity = 1 })
	b := c.StartWorker(t, "g", map[string]worker.Handler{"x": h}, func(c *worker.Config) { c.Name = "b"; c.Capacity = 3 })
	names := map[string]string{a.ID(): "a", b.ID(): "b"}
	// The leader must know both clients before the first fire: one it
	// places while b's registration is still on its way goes to a.
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		n := pinktest.Metric(t, reg, "pink_clients", map[string]string{"group": "g"})
		return n == 2, fmt.Sprintf("the leader knows %v clients of g, want 2", n)
	})
	for _, spec := range []job.Spec{{Name: "rr"}, {Name: "sticky", Strategy: job.StrategyHash}} {
		spec.Group, spec.Schedule, spec.Target = "g", "* * * * * *", "x"
		c.CreateJob(t, spec)
	}
	rr := waitHistory(t, c, "rr", 4)
	sticky := waitHistory(t, c, "sticky", 4)
	sort.Slice(rr, func(i, j int) bool { return rr[i].ScheduledAt.Before(rr[j].ScheduledAt) })
	for i := 1; i < len(rr); i++ {
		if rr[i].Client == rr[i-1].Client {
			t.Errorf("round_robin: %s and %s both on %s", rr[i-1].ID, rr[i].ID, names[rr[i].Client])
		}
	}
	for _, r := range sticky {
		if r.Client != sticky[0].Client {
			t.Errorf("hash: runs on %s and %s", names[sticky[0].Client], names[r.Client])
		}
	}

	// rr and sticky stop, so that no fire of theirs written ahead is
	// assigned while least_loaded counts the clients' loads.
	pause(t, st, "rr")
	pause(t, st, "sticky")
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, err := st.ListLive(context.Background(), "g", "")
		return err == nil && len(live) == 0, fmt.Sprintf("%d snapshots live, %v", len(live), err)
	})
	spec := c.CreateJob(t, job.Spec{Name: "loaded", Group: "g", Schedule: "@hourly", Target: "x", Paused: true, Strategy: job.StrategyLeastLoaded})
	for range 4 {
		c.Trigger(t, spec)
	}
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		live, _ := st.ListLive(context.Background(), "", "loaded")
		per := map[string]int{}
		for _, l := range live {
			per[names[l.Client]]++
		}
		return per["a"] == 1 && per["b"] == 3, fmt.Sprintf("assignments per client %v, want a:1 b:3 (their capacities)", per)
	})
}

// TestHistoryRetention: history keeps a job's newest history_limit runs.
func TestHistoryRetention(t *testing.T) {
	c := pinktest.NewCluster(t)
	const maxAge = 2 * time.Second
	c.StartScheduler(t, "n1", func(o *pinktest.SchedulerOptions) {
		o.RetentionInterval, o.HistoryMaxAge = 100*time.Millisecond, maxAge
	})
	rec := &recorder{}
	c.StartWorker(t, "g", map[string]worker.Handler{"record": rec.handle, "noop": func(context.Context, worker.Run) (string, error) { return "", nil }})
	c.CreateJob(t, job.Spec{Name: "tick", Group: "g", Schedule: "* * * * * *", Target: "record", HistoryLimit: 3})
	c.CreateJob(t, job.Spec{Name: "aged", Group: "g", Schedule: "* * * * * *", Target: "noop", HistoryLimit: 100})
	// The max age: once "aged" has run for a while, only its runs of the
	// last maxAge (plus a retention tick or two) are kept.
	start := time.Now()
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		runs := c.Runs(t, "aged")
		if time.Since(start) < 3*maxAge || len(runs) == 0 {
			return false, fmt.Sprintf("%d runs of aged", len(runs))
		}
		oldest := runs[len(runs)-1].FinishedAt
		return time.Since(oldest) < maxAge+time.Second, fmt.Sprintf("%d runs kept, the oldest finished %s ago", len(runs), time.Since(oldest))
	})
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		calls := rec.get()
		runs := c.Runs(t, "tick")
		if len(calls) < 6 || len(runs) != 3 {
			return false, fmt.Sprintf("%d calls, %d runs kept", len(calls), len(runs))
		}
		// The kept runs are the newest ones.
		newest := calls[len(calls)-1]
		return !runs[0].ScheduledAt.Before(newest.Add(-2 * time.Second)), fmt.Sprintf("newest kept %s, newest call %s", runs[0].ScheduledAt, newest)
	})
}

// TestBackfillRuns: a backfill runs each requested fire once, with trigger
// backfill; for a forbid job one at a time.
func TestBackfillRuns(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	c.StartScheduler(t, "n1")
	iv := &intervals{}
	c.StartWorker(t, "g", map[string]worker.Handler{"slow": iv.handler(300 * time.Millisecond)})
	c.StartWorker(t, "g", map[string]worker.Handler{"slow": iv.handler(300 * time.Millisecond)})
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name        string
		concurrency job.Concurrency
	}{{"loose", job.ConcurrencyAllow}, {"strict", job.ConcurrencyForbid}} {
		spec := c.CreateJob(t, job.Spec{Name: tc.name, Group: "g", Schedule: "0 * * * *", Target: "slow", Paused: true, Concurrency: tc.concurrency})
		bf := snapshot.Backfill{ID: "b" + tc.name, Job: spec.Name, Fires: []time.Time{at(1), at(2), at(3), at(4), at(5)}, CreatedAt: time.Now()}
		if err := st.CreateBackfill(context.Background(), bf); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"loose", "strict"} {
		runs := waitHistory(t, c, name, 5)
		var got []string
		for _, r := range runs {
			if r.Trigger != snapshot.TriggerBackfill || r.Status != snapshot.StatusSucceeded || r.Attempt != 1 {
				t.Errorf("%s run %s: %s %s", name, r.ID, r.Trigger, r.Status)
			}
			got = append(got, r.ScheduledAt.Format("15:04"))
		}
		sort.Strings(got)
		if fmt.Sprint(got) != "[01:00 02:00 03:00 04:00 05:00]" {
			t.Errorf("%s ran %v", name, got)
		}
	}
	var strict []interval
	for _, i := range iv.list {
		if strings.HasPrefix(i.id, "strict@") {
			strict = append(strict, i)
		}
	}
	sort.Slice(strict, func(a, b int) bool { return strict[a].start.Before(strict[b].start) })
	for i := 1; i < len(strict); i++ {
		if strict[i].start.Before(strict[i-1].end) {
			t.Errorf("forbid backfill overlapped: %s started before %s ended", strict[i].id, strict[i-1].id)
		}
	}
	if keys := e.Keys(t, "/pink/schedule/backfills/"); len(keys) != 0 {
		t.Errorf("backfill records left: %v", keys)
	}
}

// TestAutoResume: a job paused until a time is resumed by the leader then,
// and the resume is in the audit log.
func TestAutoResume(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	c.StartScheduler(t, "n1")
	until := time.Now().Add(time.Second)
	spec := job.Spec{Name: "napping", Group: "g", Schedule: "@hourly", Target: "x", Paused: true,
		PausedBy: "ops", PauseReason: "short nap", PausedUntil: &until}
	c.CreateJob(t, spec)
	pinktest.Eventually(t, 15*time.Second, func() (bool, string) {
		got, err := st.GetJob(context.Background(), "napping")
		return err == nil && !got.Paused && got.PausedBy == "" && got.PausedUntil == nil, fmt.Sprintf("job %+v %v", got, err)
	})
	page, err := st.ListAudit(context.Background(), 10, "")
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Action != "job.resume" || page.Entries[0].Who != "pink" {
		t.Errorf("audit = %+v %v", page.Entries, err)
	}
}
