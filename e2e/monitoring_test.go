package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// emptyOK lists the dashboard queries that may return no data in this
// scenario, with the reason.
// (The etcd errors panel needs none: its counters exist at 0.) The
// annotations mark events — leader changes, restarts, job changes — that
// may fall outside the window: they must run, not return data.
var emptyOK = map[string]string{}

// flakyService answers /flaky with success, failure and a hang in turn, and
// /hold after a delay.
type flakyService struct{ n atomic.Int64 }

func (s *flakyService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/flaky":
		switch s.n.Add(1) % 3 {
		case 1:
			http.Error(w, "flaky failure", http.StatusInternalServerError)
		case 2:
			<-r.Context().Done() // times out
		}
	case "/hold":
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-r.Context().Done():
		}
	}
}

// promAPI queries a Prometheus server's HTTP API.
type promAPI struct{ base string }

type promResult struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
		Groups     []struct {
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
				Query     string `json:"query"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"data"`
}

func (p promAPI) get(path string, params url.Values) (promResult, error) {
	var r promResult
	resp, err := http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return r, fmt.Errorf("%s: status %d: %w", path, resp.StatusCode, err)
	}
	return r, nil
}

// dashboardQuery is one query of one panel, with variables substituted.
type dashboardQuery struct {
	panel   string
	expr    string
	instant bool
}

func dashboardQueries(t *testing.T) []dashboardQuery {
	t.Helper()
	files, err := filepath.Glob("../dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	var out []dashboardQuery
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Title  string
			Panels []struct {
				Title   string
				Targets []struct {
					Expr    string
					Instant bool
				}
			}
			Annotations struct {
				List []struct{ Name, Expr string }
			}
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		// $job_name before $job: the pink job, then the scrape job.
		vars := strings.NewReplacer("$__rate_interval", "15s", "$group", ".*", "$instance", ".*", "$job_name", "flaky", "$job", ".*", "$cluster", "e2e")
		if d.Title == "Pink / Job" {
			vars = strings.NewReplacer("$__rate_interval", "15s", "$group", "default", "$instance", ".*", "$job_name", "flaky", "$job", ".*", "$cluster", "e2e")
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				out = append(out, dashboardQuery{panel: d.Title + " / " + p.Title, expr: vars.Replace(tg.Expr), instant: tg.Instant})
			}
		}
		for _, a := range d.Annotations.List {
			name := d.Title + " / annotation " + a.Name
			emptyOK[name] = "an event this scenario may not have in the window"
			out = append(out, dashboardQuery{panel: name, expr: vars.Replace(a.Expr)})
		}
	}
	return out
}

// startPrometheus runs the Debian prometheus binary with deploy/prometheus's
// config, its targets pointed at the test cluster (cluster label e2e),
// scraping every second.
func startPrometheus(t *testing.T, targets map[string][]string) promAPI {
	t.Helper()
	groups := map[string][]targetGroup{}
	for job, addrs := range targets {
		groups[job] = []targetGroup{{addrs: addrs, cluster: "e2e"}}
	}
	return startPrometheusClusters(t, groups)
}

// targetGroup is one static_config of a scrape job: the targets of one pink
// cluster, with its cluster label (when the shipped config sets one).
type targetGroup struct {
	addrs   []string
	cluster string
	// later are targets that start during the test (down at first).
	later []string
}

// startPrometheusClusters is startPrometheus for the target groups of each
// scrape job: several pink clusters in one Prometheus.
func startPrometheusClusters(t *testing.T, targets map[string][]targetGroup) promAPI {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed: run make test, which installs it (Debian package prometheus)")
	}
	b, err := os.ReadFile("../deploy/prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	addr := pinktest.FreeAddr(t)
	rules, _ := filepath.Abs("../alerts")
	cfg["global"] = map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"}
	cfg["rule_files"] = []string{rules + "/*.yml"}
	delete(cfg, "alerting")
	up := 0 // the targets, Prometheus's own included
	for _, sc := range cfg["scrape_configs"].([]any) {
		job := sc.(map[string]any)
		name := job["job_name"].(string)
		if name == "prometheus" {
			targets[name] = []targetGroup{{addrs: []string{addr}}}
		}
		groups, ok := targets[name]
		if !ok {
			t.Fatalf("deploy/prometheus/prometheus.yml scrapes %s, which this test does not run", name)
		}
		// The shipped config's target labels (cluster), with each group's
		// value.
		var shipped map[string]any
		if old, ok := job["static_configs"].([]any); ok && len(old) > 0 {
			shipped, _ = old[0].(map[string]any)["labels"].(map[string]any)
		}
		var static []any
		for _, g := range groups {
			sc := map[string]any{"targets": append(slices.Clone(g.addrs), g.later...)}
			if shipped != nil {
				labels := map[string]any{}
				for k := range shipped {
					labels[k] = g.cluster
				}
				sc["labels"] = labels
			}
			static = append(static, sc)
			up += len(g.addrs)
		}
		job["static_configs"] = static
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	pinktest.StartCommand(t, "prometheus", bin, nil, "--config.file="+path, "--web.listen-address="+addr,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--enable-feature=exemplar-storage", "--log.level=warn")
	p := promAPI{base: "http://" + addr}
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		r, err := p.get("/api/v1/query", url.Values{"query": {`count(up == 1)`}})
		if err != nil || r.Status != "success" || len(r.Data.Result) == 0 {
			return false, fmt.Sprintf("prometheus not scraping yet: %v %+v", err, r)
		}
		var v struct {
			Value [2]any `json:"value"`
		}
		_ = json.Unmarshal(r.Data.Result[0], &v)
		return v.Value[1] == strconv.Itoa(up), fmt.Sprintf("targets up: %v, want %d", v.Value[1], up)
	})
	return p
}

// TestMonitoringStack runs a real Prometheus with the shipped scrape and
// rule configuration against a pink cluster and checks that every dashboard
// query and every rule expression parses and returns data, and that
// exemplars link runs to traces.
func TestMonitoringStack(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	otlp := startOTLP(t)
	svc := &flakyService{}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	schedProc, api := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "s1", otlp.env()...)
	_, workerAddr := pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1", otlp.env()...)
	_ = schedProc
	schedAddr := strings.TrimPrefix(api.Base, "http://")

	api.JSON(t, "POST", "/api/v1/groups", `{"name":"empty"}`, http.StatusCreated, nil)
	active := func(body string) string { return strings.Replace(body, `"paused":true`, `"paused":false`, 1) }
	for _, body := range []string{
		active(httpJob("ok", "default", srv.URL+"/ok", "")),
		active(strings.Replace(httpJob("flaky", "default", srv.URL+"/flaky", `,"timeout":"300ms","retries":1,"retry_backoff":"100ms"`), "* * * * * *", "*/2 * * * * *", 1)),
		active(httpJob("overrun", "default", srv.URL+"/hold", `,"concurrency":"forbid"`)),
		active(httpJob("orphan", "empty", srv.URL+"/ok", "")),
		httpJob("resting", "default", srv.URL+"/ok", ""),
	} {
		api.JSON(t, "POST", "/api/v1/jobs", body, http.StatusCreated, nil)
	}

	prom := startPrometheus(t, map[string][]string{"pink-scheduler": {schedAddr}, "pink-worker": {workerAddr}})
	queries := dashboardQueries(t)
	var empty []string
	pinktest.Eventually(t, 120*time.Second, func() (bool, string) {
		empty = empty[:0]
		now := time.Now()
		for _, q := range queries {
			var r promResult
			var err error
			if q.instant {
				r, err = prom.get("/api/v1/query", url.Values{"query": {q.expr}})
			} else {
				r, err = prom.get("/api/v1/query_range", url.Values{"query": {q.expr},
					"start": {strconv.FormatInt(now.Add(-30*time.Second).Unix(), 10)}, "end": {strconv.FormatInt(now.Unix(), 10)}, "step": {"1"}})
			}
			if err != nil {
				return false, err.Error()
			}
			if r.Status != "success" {
				t.Fatalf("%s: query does not run: %s %s\n%s", q.panel, r.ErrorType, r.Error, q.expr)
			}
			if len(r.Data.Result) == 0 {
				if _, ok := emptyOK[q.panel]; !ok {
					empty = append(empty, q.panel+": "+q.expr)
				}
			}
		}
		return len(empty) == 0, fmt.Sprintf("%d queries without data:\n%s", len(empty), strings.Join(empty, "\n"))
	})
	t.Logf("%d dashboard queries return data", len(queries))

	// Every rule parses and evaluates without error in Prometheus.
	r, err := prom.get("/api/v1/rules", nil)
	if err != nil || r.Status != "success" {
		t.Fatalf("rules: %v %+v", err, r)
	}
	n := 0
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			n++
			if rule.Health == "err" {
				t.Errorf("rule %s: %s", rule.Name, rule.LastError)
			}
			qr, err := prom.get("/api/v1/query", url.Values{"query": {rule.Query}})
			if err != nil || qr.Status != "success" {
				t.Errorf("rule %s does not run as a query: %v %s", rule.Name, err, qr.Error)
			}
		}
	}
	if n < 20 {
		t.Errorf("prometheus loaded %d rules from alerts/, want all of them", n)
	}

	// Exemplars are stored and carry the run's trace id.
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		now := time.Now()
		resp, err := http.Get(prom.base + "/api/v1/query_exemplars?" + url.Values{"query": {`pink_worker_run_duration_seconds_bucket{job_name="ok"}`},
			"start": {strconv.FormatInt(now.Add(-2*time.Minute).Unix(), 10)}, "end": {strconv.FormatInt(now.Unix(), 10)}}.Encode())
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var body struct {
			Data []struct {
				Exemplars []struct {
					Labels map[string]string `json:"labels"`
				} `json:"exemplars"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return false, err.Error()
		}
		var ids []string
		for _, s := range body.Data {
			for _, e := range s.Exemplars {
				ids = append(ids, e.Labels["trace_id"])
			}
		}
		sort.Strings(ids)
		return len(ids) > 0 && len(ids[0]) == 32, fmt.Sprintf("exemplar trace ids: %v", ids)
	})
}
