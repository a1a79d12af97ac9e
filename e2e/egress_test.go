package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TestEgressProtectsEtcd is the SSRF of the security review: a job whose
// http target posts to etcd's deleterange on the audit prefix (directly,
// through a redirect, or under another name for the same server) fails
// with egress_denied and deletes nothing; the worker's own listen address
// and the cloud metadata address are refused too; every refusal is counted.
func TestEgressProtectsEtcd(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	_, api := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "s1")
	_, workerAddr := pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1")
	etcdURL := etcd.Endpoints[0]
	_, etcdPort, _ := strings.Cut(strings.TrimPrefix(etcdURL, "http://"), ":")
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, etcdURL+"/v3/kv/deleterange", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	deleteAudit := `"method":"POST","body":"{\"key\":\"L3BpbmsvYXVkaXQv\",\"range_end\":\"L3BpbmsvYXVkaXQw\"}"`
	jobs := map[string]string{
		"direct":   `{"url":"` + etcdURL + `/v3/kv/deleterange",` + deleteAudit + `}`,
		"redirect": `{"url":"` + redirector.URL + `/x",` + deleteAudit + `}`,
		"renamed":  `{"url":"http://localhost:` + etcdPort + `/v3/kv/range","method":"POST","body":"{\"key\":\"Lw==\",\"range_end\":\"MA==\"}"}`,
		"self":     `{"url":"http://` + workerAddr + `/metrics"}`,
		"metadata": `{"url":"http://169.254.169.254/latest/meta-data/"}`,
	}
	for name, params := range jobs {
		api.JSON(t, "POST", "/api/v1/jobs", fmt.Sprintf(`{"name":%q,"group":"default","schedule":"@yearly","target":"http","params":%s}`, name, params),
			http.StatusCreated, nil)
	}
	var before struct {
		Entries []struct{ ID string } `json:"entries"`
	}
	api.JSON(t, "GET", "/api/v1/audit?limit=1000", nil, http.StatusOK, &before)
	if len(before.Entries) < len(jobs) {
		t.Fatalf("%d audit entries before the runs", len(before.Entries))
	}
	for name := range jobs {
		api.JSON(t, "POST", "/api/v1/jobs/"+name+"/trigger", nil, http.StatusAccepted, nil)
	}
	for name, rule := range map[string]string{"direct": "always denied", "redirect": "always denied", "renamed": "always denied",
		"self": "always denied", "metadata": "link-local"} {
		var runs []snapshot.Run
		pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
			var err error
			runs, err = api.TryRuns(name)
			return err == nil && len(runs) == 1, fmt.Sprintf("runs of %s: %d %v", name, len(runs), err)
		})
		r := runs[0]
		if r.Status != snapshot.StatusFailed || r.ErrorCode != "egress_denied" || !strings.Contains(r.Error, rule) || r.Output != "" {
			t.Errorf("%s: status %s, code %q, error %q, output %q; want failed egress_denied (%s)", name, r.Status, r.ErrorCode, r.Error, r.Output, rule)
		}
	}

	var after struct {
		Entries []struct{ ID string } `json:"entries"`
	}
	api.JSON(t, "GET", "/api/v1/audit?limit=1000", nil, http.StatusOK, &after)
	kept := map[string]bool{}
	for _, e := range after.Entries {
		kept[e.ID] = true
	}
	for _, e := range before.Entries {
		if !kept[e.ID] {
			t.Errorf("audit entry %s is gone", e.ID)
		}
	}
	metrics := pinktest.Scrape(t, "http://"+workerAddr+"/metrics")
	if n := pinktest.Metric(t, metrics, "pink_http_egress_denied_total", map[string]string{"group": "default", "rule": "protected"}); n != 4 {
		t.Errorf("protected denials counted: %v, want 4", n)
	}
	if n := pinktest.Metric(t, metrics, "pink_http_egress_denied_total", map[string]string{"group": "default", "rule": "link_local"}); n != 1 {
		t.Errorf("link-local denials counted: %v, want 1", n)
	}
}
