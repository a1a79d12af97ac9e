package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// How long each fault of TestEtcdMemberFaults lasts, and how long the
// cluster runs steadily after it before the next.
const (
	efRestartAfter = 5 * time.Second  // a killed member is started again
	efFrozenFor    = 10 * time.Second // SIGSTOP to SIGCONT
	efOutageFor    = 15 * time.Second // two of three members down
	efSteady       = 3 * time.Second  // every job runs this far past the healing
	efRecoverLimit = 45 * time.Second // every job is back to that point within this
	efProbeEvery   = 250 * time.Millisecond
)

// TestEtcdMemberFaults is issue 22's scenario: a real 3-member etcd
// cluster, three `pink scheduler` and two `pink worker` processes given all
// three endpoints, pink's default settings, five jobs every second
// (run_all). One fault after the other — kill -9 the etcd leader, kill -9 a
// follower, SIGSTOP the leader for 10 s, two members down for 15 s (no
// quorum), kill -9 the etcd leader and the pink leader together — each
// healed and followed by steady running. Meanwhile a prober asks a live
// scheduler for its jobs every 250 ms. From what the jobs' service recorded
// the test checks that every nominal second ran exactly once and counts,
// per fault, the runs that started more than 1 s late (the limits are in
// etcdfaults_check_test.go); the API answers in time, with 200 or with 503
// and Retry-After, and /readyz fails soon after the quorum is lost.
func TestEtcdMemberFaults(t *testing.T) {
	svc := &service{}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	h := startEtcdFaultsCluster(t, svc)
	firstFire := h.createJobs(srv.URL)
	prober := startAPIProber(t, h.nodes)
	defer prober.stop()
	h.waitCalls(time.Now().Add(2 * time.Second))

	faults := []struct {
		name string
		blow func(*faultPhase)
	}{
		{phaseKillLeader, h.killEtcdMember(h.etcd.Leader)},
		{phaseKillFollower, h.killEtcdMember(h.etcd.Follower)},
		{phaseStopLeader, h.freezeEtcdLeader},
		{phaseQuorum, h.loseQuorum},
		{phaseBothLeaders, h.killBothLeaders},
	}
	var phases []*faultPhase
	for _, f := range faults {
		p := &faultPhase{name: f.name}
		f.blow(p) // sets p.from when the blow falls
		p.healed = time.Now()
		t.Logf("phase %s: from %s, healed %s later", p.name, p.from.Format(time.TimeOnly+".000"), p.healed.Sub(p.from).Round(time.Millisecond))
		h.waitCalls(p.healed.Add(efSteady))
		phases = append(phases, p)
	}

	pausedAt := h.pauseAndDrain()
	prober.stop()
	checkEtcdFaults(t, svc.get(), h.jobs, firstFire, phases, pausedAt.Add(-time.Second))
	checkProbes(t, prober.get(), phases)
	for _, n := range h.nodes {
		if !n.down.Load() && n.proc.Exited() {
			t.Errorf("scheduler %s exited during the faults", n.id)
		}
	}
	for _, w := range h.workers {
		if w.Exited() {
			t.Errorf("%s exited during the faults", w.Name)
		}
	}
}

// faultPhase is one fault of TestEtcdMemberFaults: its runs are those whose
// nominal time lies from its blow to the next phase's.
type faultPhase struct {
	name   string
	from   time.Time // the blow fell
	healed time.Time // the member is back (or the fault ended)
	// For the quorum phase: when a majority of members agreed on a leader
	// again, and when /readyz first answered 503 (zero: never did).
	quorumBack, notReadyAt time.Time
}

// efNode is one `pink scheduler` process; down marks the one the test
// killed (set before the kill), which the prober no longer asks.
type efNode struct {
	id   string
	proc *pinktest.Process
	api  *pinktest.API
	down atomic.Bool
}

// efCluster is TestEtcdMemberFaults' cluster: etcd, pink, the jobs.
type efCluster struct {
	t       *testing.T
	svc     *service
	etcd    *pinktest.EtcdCluster
	nodes   []*efNode
	workers []*pinktest.Process
	jobs    []string
}

func startEtcdFaultsCluster(t *testing.T, svc *service) *efCluster {
	t.Helper()
	h := &efCluster{t: t, svc: svc, etcd: pinktest.StartEtcdCluster(t, 3), jobs: []string{"ef-1", "ef-2", "ef-3", "ef-4", "ef-5"}}
	endpoints := strings.Join(h.etcd.Endpoints(), ",")
	for _, id := range []string{"s1", "s2", "s3"} {
		p := pinktest.StartProcess(t, "scheduler "+id, nil, "scheduler", "--etcd-endpoints", endpoints,
			"--listen", "127.0.0.1:0", "--node-id", id)
		h.nodes = append(h.nodes, &efNode{id: id, proc: p, api: pinktest.NewAPI(p.SchedulerAddr())})
	}
	for _, name := range []string{"w1", "w2"} {
		w := pinktest.StartProcess(t, "worker "+name, nil, "worker", "--group", "default", "--name", name,
			"--etcd-endpoints", endpoints, "--listen", "127.0.0.1:0", "--capacity", "16", "--http-allow", "127.0.0.1")
		w.WaitOutput("worker registered", 30*time.Second)
		h.workers = append(h.workers, w)
	}
	return h
}

// createJobs creates the five jobs and returns each one's first fire.
func (h *efCluster) createJobs(serviceURL string) map[string]time.Time {
	h.t.Helper()
	api := h.pinkLeader(nil).api
	first := map[string]time.Time{}
	for _, name := range h.jobs {
		var created struct {
			NextFires []time.Time `json:"next_fires"`
		}
		api.JSON(h.t, "POST", "/api/v1/jobs", map[string]any{"name": name, "group": "default", "schedule": "* * * * * *",
			"target": "http", "misfire": "run_all", "params": map[string]any{"url": serviceURL + "/?hold=50ms"}, "timeout": "10s",
			"history_limit": 1000}, http.StatusCreated, &created)
		if len(created.NextFires) == 0 {
			h.t.Fatalf("%s: created without next_fires", name)
		}
		first[name] = created.NextFires[0]
	}
	return first
}

// live returns the schedulers the test has not killed.
func (h *efCluster) live() []*efNode {
	var out []*efNode
	for _, n := range h.nodes {
		if !n.down.Load() {
			out = append(out, n)
		}
	}
	return out
}

// pinkLeader waits until a live scheduler other than skip leads, as a live
// scheduler's API tells, and returns it.
func (h *efCluster) pinkLeader(skip *efNode) *efNode {
	h.t.Helper()
	var found *efNode
	pinktest.Eventually(h.t, 30*time.Second, func() (bool, string) {
		var why []string
		for _, n := range h.live() {
			id, err := leaderAsSeenBy(h.t, n.api)
			for _, l := range h.live() {
				if l.id == id && l != skip {
					found = l
					return true, ""
				}
			}
			why = append(why, fmt.Sprintf("%s sees %q (%v)", n.id, id, err))
		}
		return false, "no live pink leader: " + strings.Join(why, "; ")
	})
	return found
}

// waitCalls waits until every job has run a fire nominally after after.
func (h *efCluster) waitCalls(after time.Time) {
	h.t.Helper()
	pinktest.Eventually(h.t, efRecoverLimit, func() (bool, string) {
		calls := h.svc.get()
		for _, name := range h.jobs {
			c := callsOf(calls, name)
			if len(c) == 0 || !c[len(c)-1].scheduled.After(after) {
				return false, fmt.Sprintf("%s has not run past %s", name, after.Format(time.TimeOnly))
			}
		}
		return true, ""
	})
}

// holdUntil sleeps out a deliberate fault: until d after from.
func holdUntil(from time.Time, d time.Duration) { time.Sleep(time.Until(from.Add(d))) }

// killEtcdMember is the blow "kill -9 the member pick names, start it again
// efRestartAfter later".
func (h *efCluster) killEtcdMember(pick func() *pinktest.EtcdProcess) func(*faultPhase) {
	return func(p *faultPhase) {
		m := pick()
		p.from = time.Now()
		m.Kill()
		h.t.Logf("phase %s: killed etcd %s", p.name, m.Name())
		holdUntil(p.from, efRestartAfter)
		m.Start()
	}
}

// freezeEtcdLeader is the blow "SIGSTOP the etcd leader for efFrozenFor".
func (h *efCluster) freezeEtcdLeader(p *faultPhase) {
	m := h.etcd.Leader()
	p.from = time.Now()
	m.Pause()
	h.t.Logf("phase %s: froze etcd %s", p.name, m.Name())
	holdUntil(p.from, efFrozenFor)
	m.Resume()
}

// loseQuorum is the blow "kill -9 both followers, start them again
// efOutageFor later"; about readyzWithin into the outage a live
// scheduler's /readyz must answer 503.
func (h *efCluster) loseQuorum(p *faultPhase) {
	leader := h.etcd.Leader()
	var down []*pinktest.EtcdProcess
	for _, m := range h.etcd.Members() {
		if m != leader {
			down = append(down, m)
		}
	}
	p.from = time.Now()
	for _, m := range down {
		m.Kill()
	}
	h.t.Logf("phase %s: killed etcd %s and %s; %s alone", p.name, down[0].Name(), down[1].Name(), leader.Name())
	p.notReadyAt = h.awaitNotReady(p.from)
	holdUntil(p.from, efOutageFor)
	restart := time.Now()
	p.quorumBack = h.etcd.StartMembers(down...)
	h.t.Logf("phase %s: quorum back %s after the restart began, %s after it was lost", p.name,
		p.quorumBack.Sub(restart).Round(time.Millisecond), p.quorumBack.Sub(p.from).Round(time.Millisecond))
}

// awaitNotReady polls a live scheduler's /readyz until it answers 503, for
// up to readyzWithin after from, and returns when it did (zero: it did not,
// and the test has failed).
func (h *efCluster) awaitNotReady(from time.Time) time.Time {
	h.t.Helper()
	n := h.live()[0]
	client := &http.Client{Timeout: readyzWithin}
	deadline := from.Add(readyzWithin)
	last := "no answer yet"
	for {
		resp, err := client.Get(n.api.Base + "/readyz")
		now := time.Now()
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable && !now.After(deadline) {
				return now
			}
			last = fmt.Sprintf("status %d %s after the quorum was lost", resp.StatusCode, now.Sub(from).Round(time.Millisecond))
		} else {
			last = fmt.Sprintf("%v after %s", err, now.Sub(from).Round(time.Millisecond))
		}
		if now.After(deadline) {
			h.t.Errorf("/readyz of %s did not answer 503 within %s of the quorum's loss; last: %s", n.id, readyzWithin, last)
			return time.Time{}
		}
		time.Sleep(50 * time.Millisecond) // the poll's pace, not a wait for a state
	}
}

// killBothLeaders is the blow "kill -9 the etcd leader and the pink leader
// together; start the etcd member again efRestartAfter later". The pink
// leader stays dead; another must take over.
func (h *efCluster) killBothLeaders(p *faultPhase) {
	pink := h.pinkLeader(nil)
	m := h.etcd.Leader()
	pink.down.Store(true)
	p.from = time.Now()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); m.Kill() }()
	go func() { defer wg.Done(); pink.proc.Kill() }()
	wg.Wait()
	h.t.Logf("phase %s: killed etcd %s and scheduler %s", p.name, m.Name(), pink.id)
	holdUntil(p.from, efRestartAfter)
	m.Start()
	h.t.Logf("phase %s: scheduler %s leads now", p.name, h.pinkLeader(pink).id)
}

// pauseAndDrain pauses every job and waits until no snapshot is live, so
// that every run has reported to the service; it returns when the pause
// began.
func (h *efCluster) pauseAndDrain() time.Time {
	h.t.Helper()
	pausedAt := time.Now()
	api := h.pinkLeader(nil).api
	for _, name := range h.jobs {
		api.JSON(h.t, "POST", "/api/v1/jobs/"+name+"/pause", nil, http.StatusOK, nil)
	}
	pinktest.Eventually(h.t, 30*time.Second, func() (bool, string) {
		var l struct {
			Snapshots []struct{ ID string } `json:"snapshots"`
		}
		api.JSON(h.t, "GET", "/api/v1/snapshots", nil, http.StatusOK, &l)
		return len(l.Snapshots) == 0, fmt.Sprintf("%d snapshots live", len(l.Snapshots))
	})
	return pausedAt
}

// probe is one answer (or failure) of GET /api/v1/jobs.
type probe struct {
	node       string
	at         time.Time
	took       time.Duration
	status     int
	retryAfter string
	err        error
}

// apiProber asks a live scheduler (each in turn) for its jobs every
// efProbeEvery, each request on its own so that one that hangs does not
// hold back the next, and records every answer.
type apiProber struct {
	stopc chan struct{}
	done  chan struct{} // the asking loop has ended
	wg    sync.WaitGroup
	once  sync.Once
	mu    sync.Mutex
	got   []probe
}

func startAPIProber(t *testing.T, nodes []*efNode) *apiProber {
	p := &apiProber{stopc: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 15 * time.Second}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(efProbeEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-p.stopc:
				return
			case <-tick.C:
			}
			for k := range nodes {
				if n := nodes[(i+k)%len(nodes)]; !n.down.Load() {
					p.wg.Add(1)
					go p.ask(client, n)
					break
				}
			}
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *apiProber) ask(client *http.Client, n *efNode) {
	defer p.wg.Done()
	pr := probe{node: n.id, at: time.Now()}
	resp, err := client.Get(n.api.Base + "/api/v1/jobs")
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		pr.status, pr.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	}
	pr.took, pr.err = time.Since(pr.at), err
	if n.down.Load() {
		return // the test killed it: no answer is owed
	}
	p.mu.Lock()
	p.got = append(p.got, pr)
	p.mu.Unlock()
}

// stop ends the asking and waits for the requests in flight.
func (p *apiProber) stop() {
	p.once.Do(func() {
		close(p.stopc)
		<-p.done
		p.wg.Wait()
	})
}

func (p *apiProber) get() []probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]probe(nil), p.got...)
}
