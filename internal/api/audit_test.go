package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestAuditEveryChange: every mutating route writes exactly one audit entry
// saying who (token name and role), what, on what and why, whichever way
// the reason came (header, query or body).
func TestAuditEveryChange(t *testing.T) {
	a := startAuth(t, false)
	st := store.New(a.etcd.Client, "")
	admin, op := tokens["admin"], tokens["operator"]
	registerClient(t, a.etcd.Client, st, "default", "w-1")
	var snapID string // set by the trigger step, used by the cancel step
	steps := []struct {
		method, path, token, body string
		headers                   []string
		status                    int
		// want: who, role, action, target, reason
		who, role, action, target, reason string
	}{
		{"POST", "/api/v1/groups", admin, `{"name":"default"}`, []string{"Pink-Reason", "new pool"}, 201,
			"admin-user", "admin", "group.create", "default", "new pool"},
		{"POST", "/api/v1/groups?reason=scratch", admin, `{"name":"other"}`, nil, 201,
			"admin-user", "admin", "group.create", "other", "scratch"},
		{"PUT", "/api/v1/groups/default", admin, `{"description":"the workers"}`, []string{"Pink-Reason", "describe"}, 200,
			"admin-user", "admin", "group.update", "default", "describe"},
		{"POST", "/api/v1/jobs", admin, validJob, nil, 201,
			"admin-user", "admin", "job.create", "report", ""},
		{"PUT", "/api/v1/jobs/report", admin, strings.Replace(validJob, `"0 9 * * 1-5"`, `"0 10 * * 1-5"`, 1), []string{"Pink-Reason", "later"}, 200,
			"admin-user", "admin", "job.update", "report", "later"},
		{"POST", "/api/v1/jobs/report/pause", op, "", []string{"Pink-Reason", "deploy freeze"}, 200,
			"operator-user", "operator", "job.pause", "report", "deploy freeze"},
		{"POST", "/api/v1/jobs/report/resume?reason=thaw", op, "", nil, 200,
			"operator-user", "operator", "job.resume", "report", "thaw"},
		{"POST", "/api/v1/jobs/report/trigger", op, "", []string{"Pink-Reason", "rerun"}, 202,
			"operator-user", "operator", "job.trigger", "report", "rerun"},
		{"DELETE", "/api/v1/snapshots/{snap}", op, "", []string{"Pink-Reason", "mistake"}, 200,
			"operator-user", "operator", "snapshot.cancel", "{snap}", "mistake"},
		{"POST", "/api/v1/jobs/report/backfill", op, `{"from":"2026-11-23T00:00:00Z","to":"2026-11-25T00:00:00Z","reason":"outage"}`, nil, 202,
			"operator-user", "operator", "job.backfill", "report", "outage"},
		{"DELETE", "/api/v1/groups/default/clients/w-1", op, "", []string{"Pink-Reason", "hung"}, 200,
			"operator-user", "operator", "client.evict", "w-1", "hung"},
		{"DELETE", "/api/v1/jobs/report?reason=retired", admin, "", nil, 200,
			"admin-user", "admin", "job.delete", "report", "retired"},
		{"DELETE", "/api/v1/groups/other", admin, "", []string{"Pink-Reason", "unused"}, 200,
			"admin-user", "admin", "group.delete", "other", "unused"},
	}
	covered := map[string]bool{}
	for _, st := range steps {
		path := strings.ReplaceAll(st.path, "{snap}", snapID)
		before := auditEntries(t, a)
		status, body := a.do(t, st.method, path, st.token, st.body, st.headers...)
		if status != st.status {
			t.Fatalf("%s %s: %d %s, want %d", st.method, path, status, body, st.status)
		}
		if st.action == "job.trigger" {
			var trig struct {
				SnapshotID string `json:"snapshot_id"`
			}
			if err := json.Unmarshal([]byte(body), &trig); err != nil {
				t.Fatal(err)
			}
			snapID = trig.SnapshotID
		}
		after := auditEntries(t, a)
		if len(after) != len(before)+1 {
			t.Errorf("%s %s: %d audit entries added, want 1", st.method, path, len(after)-len(before))
			continue
		}
		e := after[0]
		target := strings.ReplaceAll(st.target, "{snap}", snapID)
		got := strings.Join([]string{e.Who, e.Role, e.Action, e.Target, e.Reason, e.At.Format(time.RFC3339)}, " | ")
		want := strings.Join([]string{st.who, st.role, st.action, target, st.reason, "2026-11-26T16:00:00Z"}, " | ")
		if got != want {
			t.Errorf("%s %s: audit entry\n  %s\nwant\n  %s", st.method, path, got, want)
		}
		covered[e.Action] = true
	}
	// Every route that changes something is in the table above.
	var missing []string
	for _, rt := range a.srv.Routes() {
		if rt.Action != "" && !covered[rt.Action] {
			missing = append(missing, rt.Method+" "+rt.Path+" ("+rt.Action+")")
		}
	}
	if len(missing) > 0 {
		t.Errorf("mutating routes without an audit check: %v", missing)
	}
}

// auditEntries reads the whole audit log, newest first.
func auditEntries(t *testing.T, a *authEnv) []audit.Entry {
	t.Helper()
	status, body := a.do(t, "GET", "/api/v1/audit?limit=1000", tokens["viewer"], "")
	if status != http.StatusOK {
		t.Fatalf("audit: %d %s", status, body)
	}
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

// TestServerErrorsHideEtcd: when etcd fails under the API, reads and writes
// answer 500/503 with the error shape and a generic message; etcd's own
// error text goes to the node's log, never to the client.
func TestServerErrorsHideEtcd(t *testing.T) {
	e := pinktest.StartEtcd(t)
	cli := pinktest.StartEtcdClient(t, e.Endpoints)
	var logs pinktest.Buffer
	st := store.New(cli, "")
	srv := httptest.NewServer(api.New(api.Config{Store: st, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	t.Cleanup(srv.Close)
	a := pinktest.NewAPI(strings.TrimPrefix(srv.URL, "http://"))
	a.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	a.JSON(t, "POST", "/api/v1/jobs", validJob, http.StatusCreated, nil)

	// etcd starts refusing the API's client: authentication is turned on
	// and the client has no user. What etcd says then:
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, step := range []func() error{
		func() error { _, err := e.Client.RoleAdd(ctx, "root"); return err },
		func() error { _, err := e.Client.UserAdd(ctx, "root", "secret"); return err },
		func() error { _, err := e.Client.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := e.Client.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	_, etcdErr := cli.Get(ctx, "/pink/x")
	if etcdErr == nil {
		t.Fatal("etcd answered a client without a user")
	}
	t.Logf("etcd's error: %v", etcdErr)
	leaks := []string{etcdErr.Error(), "rpc error", "grpc", "desc =", "etcdserver", "user name", "permission", "context"}

	routes := []struct{ method, path, body string }{
		{"GET", "/api/v1/jobs", ""},
		{"GET", "/api/v1/jobs/report", ""},
		{"POST", "/api/v1/jobs", strings.Replace(validJob, `"report"`, `"other"`, 1)},
		{"PUT", "/api/v1/jobs/report", validJob},
		{"DELETE", "/api/v1/jobs/report", ""},
		{"POST", "/api/v1/jobs/report/pause", ""},
		{"POST", "/api/v1/jobs/report/trigger", ""},
		{"GET", "/api/v1/groups", ""},
		{"POST", "/api/v1/groups", `{"name":"more"}`},
		{"GET", "/api/v1/snapshots", ""},
		{"DELETE", "/api/v1/snapshots/report@20260101T000000Z", ""},
		{"GET", "/api/v1/runs?job=report", ""},
		{"GET", "/api/v1/runs/report@20260101T000000Z.001", ""},
		{"GET", "/api/v1/nodes", ""},
		{"GET", "/api/v1/audit", ""},
	}
	for _, r := range routes {
		var body any
		if r.body != "" {
			body = r.body
		}
		status, raw := a.Do(t, r.method, r.path, body)
		var got struct {
			Error *struct{ Code, Message string } `json:"error"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil || got.Error == nil {
			t.Errorf("%s %s: %d, body not the error shape: %s", r.method, r.path, status, raw)
			continue
		}
		want := map[int]string{500: "internal", 503: "etcd_unavailable"}[status]
		if want == "" || got.Error.Code != want {
			t.Errorf("%s %s: %d %s, want 500 internal or 503 etcd_unavailable", r.method, r.path, status, got.Error.Code)
		}
		for _, leak := range leaks {
			if strings.Contains(strings.ToLower(string(raw)), strings.ToLower(leak)) {
				t.Errorf("%s %s: answer leaks %q: %s", r.method, r.path, leak, raw)
			}
		}
	}
	// The detail is in the log instead.
	if !strings.Contains(logs.String(), etcdErr.Error()) {
		t.Errorf("etcd's error is not in the server log:\n%s", logs.String())
	}

	// /readyz: 503 with exactly this body, also when the server is down
	// rather than the client closed.
	checkReadyz := func(t *testing.T) {
		status, raw := a.Do(t, "GET", "/readyz", nil)
		want := `{"error":{"code":"etcd_unavailable","message":"etcd is not reachable"}}`
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			t.Fatalf("readyz body %q: %v", raw, err)
		}
		if status != http.StatusServiceUnavailable || compact.String() != want {
			t.Errorf("readyz: %d %s, want 503 %s", status, compact.String(), want)
		}
	}
	checkReadyz(t)
	e.Close() // etcd stops: the client gets no answer at all
	checkReadyz(t)
	status, raw := a.Do(t, "GET", "/healthz", nil)
	if status != http.StatusOK || !strings.Contains(string(raw), `"ok"`) {
		t.Errorf("healthz with etcd down: %d %s", status, raw)
	}
}
