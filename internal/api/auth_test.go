package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/audit"
	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// tokens of the authenticated test server, by role.
var tokens = map[string]string{"worker": "work-tok", "viewer": "view-tok", "operator": "op-tok", "admin": "admin-tok"}

type authEnv struct {
	etcd   *pinktest.Etcd
	srv    *api.Server
	base   string
	client *http.Client
}

// startAuth runs the API with a tokens file holding one token per role.
func startAuth(t *testing.T, metricsNeedToken bool) *authEnv {
	t.Helper()
	e := pinktest.StartEtcd(t)
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	var b strings.Builder
	b.WriteString("tokens:\n")
	for role, tok := range tokens {
		fmt.Fprintf(&b, "  - name: %s-user\n    role: %s\n    token_sha256: %s\n", role, role, auth.HashToken(tok))
		if role == "worker" {
			b.WriteString("    groups: [default]\n") // the group the matrix's paths name
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(api.Config{Store: store.New(e.Client, ""), Auth: authn, Metrics: promhttp.Handler(), MetricsNeedToken: metricsNeedToken,
		Now: func() time.Time { return now }})
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &authEnv{etcd: e, srv: s, base: hs.URL, client: hs.Client()}
}

func (a *authEnv) do(t *testing.T, method, path, token, body string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		return resp.StatusCode, "(an event stream, left unread)" // it never ends by itself
	}
	var sb strings.Builder
	_, _ = fmt.Fprint(&sb, readAll(resp))
	return resp.StatusCode, sb.String()
}

// wantRoles is the access contract, written out here on purpose (not read
// from the server), so a change of a route's role fails this test.
var wantRoles = map[string]string{
	"POST /api/v1/groups":                            "admin",
	"GET /api/v1/groups":                             "viewer",
	"GET /api/v1/groups/{group}":                     "viewer",
	"PUT /api/v1/groups/{group}":                     "admin",
	"DELETE /api/v1/groups/{group}":                  "admin",
	"GET /api/v1/groups/{group}/clients":             "viewer",
	"DELETE /api/v1/groups/{group}/clients/{client}": "operator",
	"POST /api/v1/jobs":                              "admin",
	"GET /api/v1/jobs":                               "viewer",
	"GET /api/v1/jobs/{name}":                        "viewer",
	"PUT /api/v1/jobs/{name}":                        "admin",
	"DELETE /api/v1/jobs/{name}":                     "admin",
	"POST /api/v1/jobs/{name}/pause":                 "operator",
	"POST /api/v1/jobs/{name}/resume":                "operator",
	"POST /api/v1/jobs/{name}/trigger":               "operator",
	"POST /api/v1/jobs/{name}/backfill":              "operator",
	"GET /api/v1/jobs/{name}/preview":                "viewer",
	"POST /api/v1/schedules/validate":                "operator",
	"GET /api/v1/schedules/changes":                  "viewer",
	"GET /api/v1/snapshots":                          "viewer",
	"GET /api/v1/snapshots/{id}":                     "viewer",
	"DELETE /api/v1/snapshots/{id}":                  "operator",
	"GET /api/v1/runs":                               "viewer",
	"GET /api/v1/runs/{id}":                          "viewer",
	"GET /api/v1/nodes":                              "viewer",
	"GET /api/v1/audit":                              "viewer",
	"GET /api/v1/openapi.json":                       "viewer",
	"GET /api/v1/events":                             "viewer",
	"GET /api/v1/stats":                              "viewer",
	"GET /api/v1/whoami":                             "viewer",
	// The HTTP worker protocol: worker tokens of the group, and admins.
	"POST /api/v1/groups/{group}/workers":                "worker",
	"POST /api/v1/groups/{group}/workers/{id}/poll":      "worker",
	"POST /api/v1/groups/{group}/workers/{id}/heartbeat": "worker",
	"DELETE /api/v1/groups/{group}/workers/{id}":         "worker",
	"POST /api/v1/runs/{id}/result":                      "worker",
}

var rank = map[string]int{"": 0, "worker": 1, "viewer": 2, "operator": 3, "admin": 4}

// allowed says whether who may call a route of role want: the worker
// protocol's routes are for worker tokens and admins only (a viewer or an
// operator may not be handed runs); every other route for want and above.
func allowed(who, want string) bool {
	if want == "worker" {
		return who == "worker" || who == "admin"
	}
	return rank[who] >= rank[want]
}

// TestRoleMatrix: every route × {no token, worker, viewer, operator, admin}
// → 401 without a token, 403 where the role may not, neither where it may.
func TestRoleMatrix(t *testing.T) {
	a := startAuth(t, false)
	routes := a.srv.Routes()
	if len(routes) != len(wantRoles) {
		t.Errorf("%d routes, the role contract lists %d", len(routes), len(wantRoles))
	}
	fill := strings.NewReplacer("{group}", "default", "{name}", "report", "{id}", "report@20260101T000000Z",
		"{client}", "w-1")
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		want, ok := wantRoles[key]
		if !ok {
			t.Errorf("%s: not in the role contract", key)
			continue
		}
		if rt.Role.String() != want {
			t.Errorf("%s: role %s, want %s", key, rt.Role, want)
		}
		for _, who := range []string{"", "worker", "viewer", "operator", "admin"} {
			status, body := a.do(t, rt.Method, fill.Replace(rt.Path), tokens[who], "{}")
			switch {
			case who == "" && status != http.StatusUnauthorized:
				t.Errorf("%s without a token: %d, want 401", key, status)
			case who != "" && !allowed(who, want) && status != http.StatusForbidden:
				t.Errorf("%s as %s: %d, want 403", key, who, status)
			case who != "" && allowed(who, want) && (status == http.StatusUnauthorized || status == http.StatusForbidden):
				t.Errorf("%s as %s: %d %s, want access", key, who, status, body)
			}
		}
	}
	for _, open := range []string{"/healthz", "/readyz", "/metrics"} {
		if status, _ := a.do(t, "GET", open, "", ""); status != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200", open, status)
		}
	}
	// A worker token serves its groups only, and reads nothing.
	if status, body := a.do(t, "POST", "/api/v1/groups/other/workers", tokens["worker"], `{"targets":["x"]}`); status != http.StatusForbidden ||
		!strings.Contains(body, "may serve default, not group other") {
		t.Errorf("a worker token of default registering in other: %d %s, want 403", status, body)
	}
	if status, _ := a.do(t, "GET", "/api/v1/jobs", tokens["worker"], ""); status != http.StatusForbidden {
		t.Errorf("a worker token reading jobs: %d, want 403", status)
	}
	if status, _ := a.do(t, "GET", "/api/v1/jobs", "not-a-token", ""); status != http.StatusUnauthorized {
		t.Errorf("unknown token: %d, want 401", status)
	}

	locked := startAuth(t, true)
	if status, _ := locked.do(t, "GET", "/metrics", "", ""); status != http.StatusUnauthorized {
		t.Errorf("/metrics with --metrics-require-token, no token: %d, want 401", status)
	}
	if status, _ := locked.do(t, "GET", "/metrics", tokens["viewer"], ""); status != http.StatusOK {
		t.Errorf("/metrics with a viewer token: %d, want 200", status)
	}
}

// TestAuditLog: changes are recorded with who, what, when and why, in the
// same transaction as the change; refused requests record nothing.
func TestAuditLog(t *testing.T) {
	a := startAuth(t, false)
	admin, op, viewer := tokens["admin"], tokens["operator"], tokens["viewer"]
	if s, b := a.do(t, "POST", "/api/v1/groups", admin, `{"name":"default"}`); s != 201 {
		t.Fatalf("create group: %d %s", s, b)
	}
	if s, b := a.do(t, "POST", "/api/v1/jobs", admin, validJob, "Pink-Reason", "initial rollout"); s != 201 {
		t.Fatalf("create job: %d %s", s, b)
	}
	if s, b := a.do(t, "POST", "/api/v1/jobs/report/pause", op, `{"reason":"db maintenance","until":"90m"}`); s != 200 ||
		!strings.Contains(b, `"paused_by":"operator-user"`) || !strings.Contains(b, `"pause_reason":"db maintenance"`) ||
		!strings.Contains(b, `"paused_until":"2026-11-26T17:30:00.000Z"`) {
		t.Fatalf("pause: %d %s", s, b)
	}
	before := a.etcd.Revision(t)
	if s, _ := a.do(t, "DELETE", "/api/v1/jobs/report", viewer, ""); s != 403 {
		t.Fatalf("viewer delete: %d", s)
	}
	if s, _ := a.do(t, "POST", "/api/v1/jobs/report/pause", op, `{"until":"yesterday"}`); s != 400 {
		t.Fatalf("pause with a bad until: %d", s)
	}
	if after := a.etcd.Revision(t); after != before {
		t.Errorf("refused requests wrote: %d -> %d", before, after)
	}
	if s, b := a.do(t, "POST", "/api/v1/jobs/report/resume", op, "", "Pink-Reason", "maintenance done"); s != 200 || strings.Contains(b, "paused_by") {
		t.Fatalf("resume: %d %s", s, b)
	}
	s, b := a.do(t, "GET", "/api/v1/audit", viewer, "")
	if s != 200 {
		t.Fatalf("audit: %d %s", s, b)
	}
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(b), &page); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, fmt.Sprintf("%s %s %s by %s (%s): %s", e.At.Format(time.RFC3339), e.Action, e.Target, e.Who, e.Role, e.Reason))
	}
	want := []string{
		"2026-11-26T16:00:00Z job.resume report by operator-user (operator): maintenance done",
		"2026-11-26T16:00:00Z job.pause report by operator-user (operator): db maintenance until 2026-11-26T17:30:00Z",
		"2026-11-26T16:00:00Z job.create report by admin-user (admin): initial rollout",
		"2026-11-26T16:00:00Z group.create default by admin-user (admin): ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
