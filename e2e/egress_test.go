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
// through a redirect, under another name for the same server, or to the
// member's peer URL, which the worker was never given) fails with
// egress_denied and deletes nothing; the worker's own listen address and
// the cloud metadata address are refused too; every refusal is counted. A
// second worker, given its etcd endpoint without a scheme and no allow
// list, refuses etcd and, by default, loopback.
func TestEgressProtectsEtcd(t *testing.T) {
	etcd := pinktest.StartEtcd(t)
	_, api := pinktest.StartSchedulerProcess(t, etcd.Endpoints, "s1")
	_, workerAddr := pinktest.StartWorkerProcess(t, etcd.Endpoints, "w1")
	etcdURL := etcd.Endpoints[0]
	etcdHostPort := strings.TrimPrefix(etcdURL, "http://")
	_, etcdPort, _ := strings.Cut(etcdHostPort, ":")
	members, err := etcd.Client.MemberList(t.Context())
	if err != nil || len(members.Members) != 1 || len(members.Members[0].PeerURLs) != 1 {
		t.Fatalf("member list: %v %v", members, err)
	}
	peerURL := members.Members[0].PeerURLs[0]
	bare := pinktest.StartProcess(t, "worker bare", nil, "worker", "--group", "bare",
		"--etcd-endpoints", etcdHostPort, "--listen", "127.0.0.1:0", "--name", "bare", "--lease-ttl", "2s")
	bare.WaitOutput("worker registered", 30*time.Second)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, etcdURL+"/v3/kv/deleterange", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	deleteAudit := `"method":"POST","body":"{\"key\":\"L3BpbmsvYXVkaXQv\",\"range_end\":\"L3BpbmsvYXVkaXQw\"}"`
	jobs := map[string]string{
		"direct":        `{"url":"` + etcdURL + `/v3/kv/deleterange",` + deleteAudit + `}`,
		"redirect":      `{"url":"` + redirector.URL + `/x",` + deleteAudit + `}`,
		"renamed":       `{"url":"http://localhost:` + etcdPort + `/v3/kv/range","method":"POST","body":"{\"key\":\"Lw==\",\"range_end\":\"MA==\"}"}`,
		"self":          `{"url":"http://` + workerAddr + `/metrics"}`,
		"metadata":      `{"url":"http://169.254.169.254/latest/meta-data/"}`,
		"peer":          `{"url":"` + peerURL + `/members"}`,
		"bare-etcd":     `{"url":"` + etcdURL + `/v3/kv/deleterange",` + deleteAudit + `}`,
		"bare-loopback": `{"url":"` + redirector.URL + `/x"}`,
	}
	for name, params := range jobs {
		group, _, _ := strings.Cut(name, "-")
		if group != "bare" {
			group = "default"
		}
		api.JSON(t, "POST", "/api/v1/jobs", fmt.Sprintf(`{"name":%q,"group":%q,"schedule":"@yearly","target":"http","params":%s}`, name, group, params),
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
		"self": "always denied", "metadata": "link-local", "peer": "always denied",
		"bare-etcd": "always denied", "bare-loopback": "loopback addresses are denied by default"} {
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
	if n := pinktest.Metric(t, metrics, "pink_http_egress_denied_total", map[string]string{"group": "default", "rule": "protected"}); n != 5 {
		t.Errorf("protected denials counted: %v, want 5", n)
	}
	if n := pinktest.Metric(t, metrics, "pink_http_egress_denied_total", map[string]string{"group": "default", "rule": "link_local"}); n != 1 {
		t.Errorf("link-local denials counted: %v, want 1", n)
	}
}
