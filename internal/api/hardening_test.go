package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestDeepBodiesAreRefused: the 20 KB spec of 10,000 nested levels that made
// every GET of the job list 200 MB is a 400, and so is a body or params one
// level past the limit; nothing is written.
func TestDeepBodiesAreRefused(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name, body, code, field string
	}{
		{"10,000 levels", `{"name":"deep","group":"default","schedule":"@hourly","target":"x","params":{"a":` + nest(10000) + `}}`, "too_deep", ""},
		{"params one past the limit", `{"name":"deep","group":"default","schedule":"@hourly","target":"x","params":{"a":` + nest(job.MaxParamsDepth) + `}}`, "too_deep", ""},
		{"params as deep as allowed", `{"name":"deep","group":"default","schedule":"@hourly","target":"x","params":{"a":` + nest(job.MaxParamsDepth-1) + `}}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.etcd.Revision(t)
			status, body := e.api.Do(t, "POST", "/api/v1/jobs", tt.body)
			if tt.code == "" {
				if status != http.StatusCreated {
					t.Fatalf("params %d deep: %d %s", job.MaxParamsDepth, status, body)
				}
				e.api.JSON(t, "DELETE", "/api/v1/jobs/deep", nil, http.StatusOK, nil)
				return
			}
			var er struct{ Error struct{ Code, Field string } }
			if err := json.Unmarshal(body, &er); err != nil || status != http.StatusBadRequest || er.Error.Code != tt.code {
				t.Errorf("%d %s, want 400 %s", status, body, tt.code)
			}
			if after := e.etcd.Revision(t); after != before {
				t.Errorf("a refused body wrote: revision %d -> %d", before, after)
			}
		})
	}
}

// TestListOfMaximalJobsIsBounded: 1,000 jobs of the largest params allowed
// list in pages of at most store.PageBytes (plus one job) each, every job
// exactly once, and one page costs the API a bounded amount of memory.
func TestListOfMaximalJobsIsBounded(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	params := `{"blob":"` + strings.Repeat("x", job.MaxParamsBytes-20) + `"}`
	const jobs = 1000
	var wg sync.WaitGroup
	errs := make(chan string, jobs)
	sem := make(chan struct{}, 8)
	for i := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"name":"j%04d","group":"default","schedule":"@hourly","target":"x","params":%s}`, i, params)
			if status, b, err := e.api.TryDo("POST", "/api/v1/jobs", body); err != nil || status != http.StatusCreated {
				errs <- fmt.Sprintf("create j%04d: %d %.200s %v", i, status, b, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	status, body := e.api.Do(t, "GET", "/api/v1/jobs?limit=1000", nil)
	runtime.ReadMemStats(&after)
	const maxItem = job.MaxSpecBytes + 1024 // a job's view: the spec and its next fires
	if status != http.StatusOK || len(body) > store.PageBytes+maxItem {
		t.Fatalf("first page: %d, %d bytes; want at most %d", status, len(body), store.PageBytes+maxItem)
	}
	// Reading, decoding, encoding, sending and (in this test) receiving one
	// page allocates a bounded multiple of the page (about 12 of them, 49
	// MB; about 18 under the race detector, which makes sync.Pool drop
	// buffers), never a multiple of the whole list: serving all 64 MB at
	// once, as the API did, reads, decodes and encodes each of its bytes
	// several times over.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 24*store.PageBytes {
		t.Errorf("one page allocated %d MB", alloc>>20)
	}
	t.Logf("one page of limit 1000: %d KB, %d MB allocated", len(body)>>10, (after.TotalAlloc-before.TotalAlloc)>>20)
	names, pages := pageThrough(t, e.api, "/api/v1/jobs?", "jobs", "name", 1000)
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	if len(names) != jobs || len(seen) != jobs || len(pages) < jobs*job.MaxParamsBytes/store.PageBytes {
		t.Errorf("paged %d jobs (%d distinct) in %d pages", len(names), len(seen), len(pages))
	}
}

// TestCredentialsAreMaskedBelowAdmin: credential-looking params show as
// *** to viewers and operators, in jobs and in snapshots; an admin reads
// them; secret references are shown as they are (they are not secret).
func TestCredentialsAreMaskedBelowAdmin(t *testing.T) {
	a := startAuth(t, false)
	admin, op, viewer := tokens["admin"], tokens["operator"], tokens["viewer"]
	a.do(t, "POST", "/api/v1/groups", admin, `{"name":"default"}`)
	spec := `{"name":"hook","group":"default","schedule":"@hourly","target":"http","paused":true,"params":{"url":"https://u:pw-IN-URL@hooks.example.com/x?token=TOKEN-IN-QUERY&page=1",
		"headers":{"Authorization":"Bearer LITERAL-CREDENTIAL","X-Team":"data","X-Api-Key":{"secret":"api-key"}}}}`
	if s, b := a.do(t, "POST", "/api/v1/jobs", admin, spec); s != http.StatusCreated {
		t.Fatalf("create: %d %s", s, b)
	}
	if s, b := a.do(t, "POST", "/api/v1/jobs/hook/trigger", op, ""); s != http.StatusAccepted {
		t.Fatalf("trigger: %d %s", s, b)
	}
	secrets := []string{"LITERAL-CREDENTIAL", "pw-IN-URL", "TOKEN-IN-QUERY"}
	for _, path := range []string{"/api/v1/jobs/hook", "/api/v1/jobs", "/api/v1/snapshots", "/api/v1/audit"} {
		for _, tok := range []string{viewer, op} {
			s, b := a.do(t, "GET", path, tok, "")
			if s != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, s, b)
			}
			for _, secret := range secrets {
				if strings.Contains(b, secret) {
					t.Errorf("GET %s as a non-admin shows %s: %s", path, secret, b)
				}
			}
			if path != "/api/v1/audit" && (!strings.Contains(b, `"Authorization":"***"`) || !strings.Contains(b, `"X-Team":"data"`) ||
				!strings.Contains(b, `{"secret":"api-key"}`)) {
				t.Errorf("GET %s as a non-admin: %s", path, b)
			}
		}
	}
	_, b := a.do(t, "GET", "/api/v1/jobs/hook", admin, "")
	for _, secret := range secrets {
		if !strings.Contains(b, secret) {
			t.Errorf("an admin does not read %s: %s", secret, b)
		}
	}
}

// TestUpdateRevisionsAndNullBodies: a negative or zero revision is a 400
// (only an absent one means "unconditional"); a null body is a 400
// malformed_json and changes nothing.
func TestUpdateRevisionsAndNullBodies(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default","description":"keep me"}`, http.StatusCreated, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", validJob, http.StatusCreated, nil)
	for _, tc := range []struct{ method, path, body, code, field string }{
		{"PUT", "/api/v1/jobs/report", strings.Replace(validJob, `"name":"report"`, `"name":"report","revision":-1`, 1), "invalid_field", "revision"},
		{"PUT", "/api/v1/jobs/report", strings.Replace(validJob, `"name":"report"`, `"name":"report","revision":0`, 1), "invalid_field", "revision"},
		{"PUT", "/api/v1/groups/default", `null`, "malformed_json", ""},
		{"PUT", "/api/v1/groups/default", `"text"`, "malformed_json", ""},
		{"POST", "/api/v1/jobs/report/backfill", `[]`, "malformed_json", ""},
	} {
		before := e.etcd.Revision(t)
		var er struct{ Error struct{ Code, Field string } }
		e.api.JSON(t, tc.method, tc.path, tc.body, http.StatusBadRequest, &er)
		if er.Error.Code != tc.code || er.Error.Field != tc.field {
			t.Errorf("%s %s %.40s: %+v, want %s on %q", tc.method, tc.path, tc.body, er.Error, tc.code, tc.field)
		}
		if after := e.etcd.Revision(t); after != before {
			t.Errorf("%s %s wrote", tc.method, tc.path)
		}
	}
	var g struct{ Description string }
	e.api.JSON(t, "GET", "/api/v1/groups/default", nil, http.StatusOK, &g)
	if g.Description != "keep me" {
		t.Errorf("group description %q after refused updates", g.Description)
	}
	e.api.JSON(t, "PUT", "/api/v1/jobs/report", validJob, http.StatusOK, nil)
}

// TestFarFuturePreviews: fires past year 9999 cannot be represented: the
// preview stops at the last one and says so, never an empty 200.
func TestFarFuturePreviews(t *testing.T) {
	e := start(t)
	var v struct {
		Fires []struct{ At time.Time }
		End   string
	}
	e.api.JSON(t, "POST", "/api/v1/schedules/validate", `{"schedule":"@every 2562047h","n":100}`, http.StatusOK, &v)
	if len(v.Fires) == 0 || len(v.Fires) >= 100 || v.Fires[len(v.Fires)-1].At.After(job.LastFire) || !strings.Contains(v.End, "9999-12-31") {
		t.Errorf("far-future validate: %d fires, end %q", len(v.Fires), v.End)
	}
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", `{"name":"rare","group":"default","schedule":"@every 2562047h","target":"x"}`, http.StatusCreated, nil)
	e.api.JSON(t, "GET", "/api/v1/jobs/rare/preview?n=28", nil, http.StatusOK, &v)
	if len(v.Fires) == 0 || len(v.Fires) >= 28 || v.End == "" {
		t.Errorf("far-future preview: %d fires, end %q", len(v.Fires), v.End)
	}
}

// TestDeniedRequestsAreLogged: 401 and 403 are logged at INFO with the
// token's name (never the token), the route and the remote address; a flood
// is rate-limited and the lines say how many were left out.
func TestDeniedRequestsAreLogged(t *testing.T) {
	e := pinktest.StartEtcd(t)
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(path, []byte("tokens:\n  - {name: grafana, role: viewer, token_sha256: "+auth.HashToken("view-secret-tok")+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs pinktest.Buffer
	hs := httptest.NewServer(api.New(api.Config{Store: store.New(e.Client, ""), Auth: authn, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	defer hs.Close()
	send := func(method, path, token string) {
		req, _ := http.NewRequest(method, hs.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	send("DELETE", "/api/v1/jobs/x", "view-secret-tok")
	send("GET", "/api/v1/jobs", "wrong-secret-tok")
	for range 40 {
		send("GET", "/api/v1/jobs", "")
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request denied" {
			lines = append(lines, m)
		}
	}
	if len(lines) < 2 || len(lines) > 12 {
		t.Fatalf("%d 'request denied' lines for 42 refused requests, want 2-12 (rate-limited)", len(lines))
	}
	first := lines[0]
	if first["level"] != "INFO" || first["status"] != float64(403) || first["token"] != "grafana" ||
		first["route"] != "/api/v1/jobs/{name}" || !strings.HasPrefix(fmt.Sprint(first["remote"]), "127.0.0.1:") {
		t.Errorf("403 line: %v", first)
	}
	if lines[1]["status"] != float64(401) || lines[1]["token"] != "" {
		t.Errorf("401 line: %v", lines[1])
	}
	if strings.Contains(logs.String(), "secret-tok") {
		t.Error("a token is in the log")
	}
}

// TestEtcdStallIsA503: while etcd is frozen, reads and writes are answered
// with 503 etcd_unavailable and a Retry-After within the API's store
// timeout (3 s), not after the old 10 s, and the API serves again once etcd
// is back.
func TestEtcdStallIsA503(t *testing.T) {
	etcd := pinktest.StartEtcdProcess(t)
	cli := pinktest.StartEtcdClient(t, etcd.Endpoints)
	hs := httptest.NewServer(api.New(api.Config{Store: store.New(cli, "")}))
	defer hs.Close()
	a := pinktest.NewAPI(strings.TrimPrefix(hs.URL, "http://"))
	a.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	etcd.Pause()
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/api/v1/jobs", ""},
		{"POST", "/api/v1/groups", `{"name":"other"}`},
	} {
		start := time.Now()
		resp, err := a.HTTP.Do(mustRequest(t, req.method, hs.URL+req.path, req.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "etcd_unavailable") {
			t.Errorf("%s %s with etcd frozen: %d %q (Retry-After %q)", req.method, req.path, resp.StatusCode, b, resp.Header.Get("Retry-After"))
		}
		// The store timeout is 3 s; the rest of the bound is slack for a
		// loaded machine, and well short of the 10 s the API used to wait.
		if took > 5*time.Second {
			t.Errorf("%s %s took %s with etcd frozen; the store timeout is 3 s", req.method, req.path, took)
		}
	}
	etcd.Resume()
	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		status, _, err := a.TryDo("GET", "/api/v1/groups/default", nil)
		return err == nil && status == http.StatusOK, fmt.Sprintf("after etcd is back: %d %v", status, err)
	})
}

func mustRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}
