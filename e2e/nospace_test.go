package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// noSpaceQuota is the etcd quota of TestNoSpace: small enough to fill in a
// moment, large enough for pink's own state.
const noSpaceQuota = 16 << 20

// TestNoSpace: when etcd raises its NOSPACE alarm (here: something else
// filled its quota), pink says so — /readyz fails with etcd_no_space, a
// write through the API answers 503 etcd_no_space with a Retry-After, the
// scheduler logs it at ERROR and exports the alarm — and once an operator
// frees space and disarms the alarm (the runbook's steps), pink recovers
// by itself: the fires due meanwhile are caught up by each job's misfire
// policy, and none is lost or run twice.
func TestNoSpace(t *testing.T) {
	etcd := pinktest.StartEtcdProcess(t, "--quota-backend-bytes", fmt.Sprint(noSpaceQuota))
	cli := pinktest.StartEtcdClient(t, etcd.Endpoints)
	sched, api := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "s1")
	pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1")
	for _, j := range []struct{ name, misfire string }{{"once", "run_once"}, {"all", "run_all"}} {
		api.JSON(t, "POST", "/api/v1/jobs", fmt.Sprintf(`{"name":%q,"group":"default","schedule":"@every 1s","target":"shell",
			"params":{"command":["true"]},"misfire":%q}`, j.name, j.misfire), http.StatusCreated, nil)
	}
	waitRunsOf(t, api, "once", 2)

	fillEtcd(t, cli)
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		status, body, err := api.TryDo("GET", "/readyz", nil)
		return err == nil && status == http.StatusServiceUnavailable && strings.Contains(string(body), "etcd_no_space"),
			fmt.Sprintf("readyz: %d %s %v", status, body, err)
	})
	status, body := api.Do(t, "POST", "/api/v1/groups", `{"name":"more"}`)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "etcd_no_space") {
		t.Errorf("a write during NOSPACE: %d %s", status, body)
	}
	if !strings.Contains(sched.Output(), "level=ERROR") || !strings.Contains(sched.Output(), "etcd is out of space") {
		t.Errorf("no ERROR line about the NOSPACE alarm in the scheduler's log")
	}
	metrics := pinktest.Scrape(t, api.Base+"/metrics")
	if n := pinktest.Metric(t, metrics, "pink_etcd_alarm", map[string]string{"alarm": "NOSPACE"}); n != 1 {
		t.Errorf("pink_etcd_alarm{alarm=NOSPACE} = %v during NOSPACE", n)
	}
	// Fires fall due while etcd refuses every write.
	full := time.Now()
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		return time.Since(full) > 4*time.Second, "waiting for fires to fall due"
	})

	freeEtcd(t, cli)
	pinktest.Eventually(t, 60*time.Second, func() (bool, string) {
		status, body, err := api.TryDo("GET", "/readyz", nil)
		return err == nil && status == http.StatusOK, fmt.Sprintf("readyz after recovery: %d %s %v", status, body, err)
	})
	sched.WaitOutput("NOSPACE alarm is cleared", 30*time.Second)
	recovered := time.Now()
	waitFor(t, api, "all", func(runs []snapshot.Run) bool {
		return len(runs) > 0 && runs[0].ScheduledAt.After(recovered.Add(2*time.Second))
	})
	waitFor(t, api, "once", func(runs []snapshot.Run) bool {
		return len(runs) > 0 && runs[0].ScheduledAt.After(recovered.Add(2*time.Second))
	})

	// run_all: every second from the first fire to the last ran once.
	all := api.Runs(t, "all")
	pinktest.RequireNoDuplicates(t, all)
	requireEverySecond(t, "all", all)
	// run_once: the fires missed during NOSPACE collapse into the newest,
	// the others are counted as skipped: every second is accounted for
	// once, as a run or as a skip.
	once := api.Runs(t, "once")
	pinktest.RequireNoDuplicates(t, once)
	gaps := secondsSkipped(once)
	metrics = pinktest.Scrape(t, api.Base+"/metrics")
	skipped := pinktest.Metric(t, metrics, "pink_fires_skipped_total", map[string]string{"job_name": "once", "reason": "misfire_run_once"})
	if gaps < 3 || float64(gaps) != skipped {
		t.Errorf("once: %d fires missing from history, %v counted as skipped (misfire_run_once); want the same, at least 3", gaps, skipped)
	}
}

// secondsSkipped is how many whole seconds between the oldest and the
// newest run have no run.
func secondsSkipped(runs []snapshot.Run) int {
	at := scheduledTimes(runs)
	n := 0
	for i := 1; i < len(at); i++ {
		n += int(at[i].Sub(at[i-1])/time.Second) - 1
	}
	return n
}

func scheduledTimes(runs []snapshot.Run) []time.Time {
	var at []time.Time
	for _, r := range runs {
		at = append(at, r.ScheduledAt.UTC())
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	return at
}

// fillEtcd writes junk outside pink's prefix until etcd refuses a write for
// lack of space.
func fillEtcd(t *testing.T, cli *clientv3.Client) {
	t.Helper()
	junk := strings.Repeat("x", 1<<20)
	for i := 0; ; i++ {
		if i > 2*noSpaceQuota>>20 {
			t.Fatal("etcd did not run out of space")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := cli.Put(ctx, fmt.Sprintf("/junk/%04d", i), junk)
		cancel()
		if errors.Is(err, rpctypes.ErrNoSpace) {
			return
		}
		if err != nil {
			t.Fatalf("fill etcd: %v", err)
		}
	}
}

// freeEtcd is the runbook's recovery: delete what filled etcd, compact,
// defragment, disarm the alarm.
func freeEtcd(t *testing.T, cli *clientv3.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	del, err := cli.Delete(ctx, "/junk/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("delete the junk: %v", err)
	}
	if _, err := cli.Compact(ctx, del.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact: %v", err)
	}
	for _, ep := range cli.Endpoints() {
		if _, err := cli.Defragment(ctx, ep); err != nil {
			t.Fatalf("defragment %s: %v", ep, err)
		}
	}
	alarms, err := cli.AlarmList(ctx)
	if err != nil {
		t.Fatalf("alarm list: %v", err)
	}
	for _, a := range alarms.Alarms {
		if _, err := cli.AlarmDisarm(ctx, (*clientv3.AlarmMember)(a)); err != nil {
			t.Fatalf("disarm %v: %v", a, err)
		}
	}
}

// waitFor waits until the runs of job (newest first) satisfy ok.
func waitFor(t *testing.T, api *pinktest.API, job string, ok func([]snapshot.Run) bool) {
	t.Helper()
	pinktest.Eventually(t, 60*time.Second, func() (bool, string) {
		runs, err := api.TryRuns(job)
		return err == nil && ok(runs), fmt.Sprintf("runs of %s: %d %v", job, len(runs), err)
	})
}

// requireEverySecond fails unless runs hold exactly one run of each second
// from the oldest fire to the newest.
func requireEverySecond(t *testing.T, job string, runs []snapshot.Run) {
	t.Helper()
	at := scheduledTimes(runs)
	for i := 1; i < len(at); i++ {
		if d := at[i].Sub(at[i-1]); d != time.Second {
			t.Errorf("%s: fires %s and %s are %s apart, want 1s (a fire lost or doubled)", job,
				at[i-1].Format(time.TimeOnly), at[i].Format(time.TimeOnly), d)
		}
	}
}
