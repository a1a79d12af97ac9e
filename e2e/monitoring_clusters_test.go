package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// startClusterScheduler runs a scheduler of the pink cluster named cluster
// (--cluster-name, the target label Prometheus gives it), without
// lookahead: a stop of it misses fires as soon as the misfire threshold
// has passed.
func startClusterScheduler(t *testing.T, etcd *pinktest.Etcd, cluster, id, listen string) (*pinktest.Process, *pinktest.API) {
	t.Helper()
	p := pinktest.StartProcess(t, "scheduler "+id, nil, "scheduler", "--etcd-endpoints", strings.Join(etcd.Endpoints, ","),
		"--listen", listen, "--node-id", id, "--session-ttl", "2s", "--lookahead", "0", "--cluster-name", cluster)
	api := pinktest.NewAPI(p.SchedulerAddr())
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		var n struct{ Leader string }
		api.JSON(t, "GET", "/api/v1/nodes", nil, http.StatusOK, &n)
		return n.Leader == id, "leader " + n.Leader + ", want " + id
	})
	return p, api
}

// activeAlerts are the pending and firing alerts of name, by their labels
// without alertname and severity.
func activeAlerts(t *testing.T, prom promAPI, name string) []string {
	t.Helper()
	r, err := prom.get("/api/v1/query", url.Values{"query": {`ALERTS{alertname="` + name + `"}`}})
	if err != nil || r.Status != "success" {
		t.Fatalf("ALERTS: %v %+v", err, r)
	}
	var out []string
	for _, raw := range r.Data.Result {
		var s struct{ Metric map[string]string }
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		var ls []string
		for k, v := range s.Metric {
			if k != "__name__" && k != "alertname" && k != "severity" && k != "alertstate" {
				ls = append(ls, k+"="+v)
			}
		}
		slices.Sort(ls)
		out = append(out, strings.Join(ls, ","))
	}
	slices.Sort(out)
	return out
}

// samples runs an instant query and returns its values keyed by the
// values of labels, joined by "/".
func samples(t *testing.T, prom promAPI, query string, labels ...string) map[string]string {
	t.Helper()
	r, err := prom.get("/api/v1/query", url.Values{"query": {query}})
	if err != nil || r.Status != "success" {
		t.Fatalf("%s: %v %+v", query, err, r)
	}
	out := map[string]string{}
	for _, raw := range r.Data.Result {
		var s struct {
			Metric map[string]string
			Value  [2]any
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		var key []string
		for _, l := range labels {
			key = append(key, s.Metric[l])
		}
		out[strings.Join(key, "/")] = fmt.Sprint(s.Value[1])
	}
	return out
}

// TestMonitoringClustersAndOutage is issue 16's two findings in a real
// Prometheus with the shipped rules: two pink clusters (eu, us) scraped
// into one Prometheus, told apart by the cluster target label, raise no
// leader alert while each has its leader; when us loses its only scheduler
// PinkNoLeader names us alone; and an outage of eu's scheduler that loses
// the fires of two jobs (misfire skip) is one PinkFiresMissed for the
// cluster — not one per job — while the fires a catch-up run covered
// (misfire run_once) are no loss.
func TestMonitoringClustersAndOutage(t *testing.T) {
	euEtcd, usEtcd := pinktest.StartEtcd(t), pinktest.StartEtcd(t)
	eu, euAPI := startClusterScheduler(t, euEtcd, "eu", "eu-1", "127.0.0.1:0")
	us, _ := startClusterScheduler(t, usEtcd, "us", "us-1", "127.0.0.1:0")
	// eu's second scheduler starts after the outage, on an address
	// Prometheus scrapes from the start (down until then).
	eu2Addr := pinktest.FreeAddr(t)
	_, euWorker := pinktest.StartWorkerProcess(t, euEtcd.Endpoints, "w-eu", "PINK_CLUSTER_NAME=eu")
	_, usWorker := pinktest.StartWorkerProcess(t, usEtcd.Endpoints, "w-us", "PINK_CLUSTER_NAME=us")
	for _, j := range []struct{ name, misfire string }{{"skip-a", "skip"}, {"skip-b", "skip"}, {"once", "run_once"}} {
		euAPI.JSON(t, "POST", "/api/v1/jobs", map[string]any{"name": j.name, "group": "default", "schedule": "* * * * * *", "target": "shell",
			"params": map[string]any{"command": []string{"true"}}, "misfire": j.misfire}, http.StatusCreated, nil)
	}
	prom := startPrometheusClusters(t, map[string][]targetGroup{
		"pink-scheduler": {{addrs: []string{strings.TrimPrefix(euAPI.Base, "http://")}, later: []string{eu2Addr}, cluster: "eu"}, {addrs: []string{us.SchedulerAddr()}, cluster: "us"}},
		"pink-worker":    {{addrs: []string{euWorker}, cluster: "eu"}, {addrs: []string{usWorker}, cluster: "us"}},
	})
	// The rule group has been evaluated over both clusters' leaders: a
	// recording rule of the same group holds both clusters, and the
	// leaders were scraped before it could.
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		r, err := prom.get("/api/v1/query", url.Values{"query": {`count(count by (cluster) (pink:etcd_request_error_ratio:rate5m)) == 2 and on () count(pink_scheduler_leader == 1) == 2`}})
		return err == nil && len(r.Data.Result) == 1, fmt.Sprintf("both clusters in the rules: %v %v", err, r.Data.Result)
	})
	for _, name := range []string{"PinkMultipleLeaders", "PinkNoLeader", "PinkFiresMissed"} {
		if a := activeAlerts(t, prom, name); len(a) != 0 {
			t.Errorf("%s with one leader per cluster: %v", name, a)
		}
	}

	// us loses its only scheduler: PinkNoLeader for us, not for eu.
	us.Kill()
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		a := activeAlerts(t, prom, "PinkNoLeader")
		return slices.Equal(a, []string{"cluster=us"}), fmt.Sprintf("PinkNoLeader %v, want cluster us alone", a)
	})

	// eu's scheduler stops for 9 s: fires older than the misfire threshold
	// (5 s) are missed; skip-a and skip-b lose theirs, once's catch-up
	// covers its own.
	eu.Kill()
	time.Sleep(9 * time.Second) // the outage itself
	startClusterScheduler(t, euEtcd, "eu", "eu-2", eu2Addr)
	var lost map[string]string
	pinktest.Eventually(t, 60*time.Second, func() (bool, string) {
		lost = samples(t, prom, `pink:job_fires_lost:increase1h > 0`, "cluster", "job_name")
		a := activeAlerts(t, prom, "PinkFiresMissed")
		return len(lost) == 2 && lost["eu/skip-a"] != "" && lost["eu/skip-b"] != "" && slices.Equal(a, []string{"cluster=eu"}),
			fmt.Sprintf("lost fires by job %v; PinkFiresMissed %v, want one for cluster eu", lost, a)
	})
	// once's missed fires were counted as recovered: one catch-up run
	// covered them.
	if got := samples(t, prom, `sum by (job_name) (pink_fires_skipped_total{cluster="eu",reason="misfire_run_once"}) > 0`, "job_name"); len(got) != 1 || got["once"] == "" {
		t.Errorf("fires counted recovered (misfire_run_once) by job: %v, want once's", got)
	}
	t.Logf("lost fires by job: %v; PinkFiresMissed: one alert, cluster eu", lost)
}
