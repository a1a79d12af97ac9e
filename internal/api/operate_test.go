package api_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// startAt runs the API with its clock at the given time.
func startAt(t *testing.T, clock string) *env {
	t.Helper()
	at, err := time.Parse(time.RFC3339, clock)
	if err != nil {
		t.Fatal(err)
	}
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	srv := httptest.NewServer(api.New(api.Config{Store: st, Now: func() time.Time { return at }}))
	t.Cleanup(srv.Close)
	en := &env{etcd: e, st: st, api: pinktest.NewAPI(strings.TrimPrefix(srv.URL, "http://"))}
	en.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)
	return en
}

const nightly = `{"name":"nightly","group":"default","schedule":"30 2 * * *","timezone":"America/New_York","target":"noop"}`

type fire struct {
	At        string `json:"at"`
	UTC       string `json:"utc"`
	UTCOffset string `json:"utc_offset"`
	Note      string `json:"note"`
}

func fireStrings(fs []fire) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.TrimSpace(f.At+" "+f.UTCOffset+" "+f.Note))
	}
	return out
}

// TestPreviewAcrossDST: a job's preview shows fires with their offsets and
// notes the one that spring-forward moved.
func TestPreviewAcrossDST(t *testing.T) {
	e := startAt(t, "2026-03-07T12:00:00-05:00")
	e.api.JSON(t, "POST", "/api/v1/jobs", nightly, 201, nil)
	var p struct{ Fires []fire }
	e.api.JSON(t, "GET", "/api/v1/jobs/nightly/preview?n=3", nil, 200, &p)
	want := []string{"2026-03-08T03:00:00.000-04:00 -04:00 dst_gap", "2026-03-09T02:30:00.000-04:00 -04:00", "2026-03-10T02:30:00.000-04:00 -04:00"}
	if fmt.Sprint(fireStrings(p.Fires)) != fmt.Sprint(want) {
		t.Errorf("preview = %q, want %q", fireStrings(p.Fires), want)
	}
	e.api.JSON(t, "GET", "/api/v1/jobs/nightly/preview?n=0", nil, 400, nil)
	e.api.JSON(t, "GET", "/api/v1/jobs/nightly/preview?n=101", nil, 400, nil)
}

// TestValidateSchedule: a schedule is checked without a job, with the fall
// back repetition noted.
func TestValidateSchedule(t *testing.T) {
	e := startAt(t, "2026-10-31T12:00:00-04:00")
	before := e.etcd.Revision(t)
	var v struct {
		Valid bool
		Fires []fire
	}
	e.api.JSON(t, "POST", "/api/v1/schedules/validate", `{"schedule":"30 1 * * *","timezone":"America/New_York","n":2}`, 200, &v)
	want := []string{"2026-11-01T01:30:00.000-04:00 -04:00 dst_repeated", "2026-11-02T01:30:00.000-05:00 -05:00"}
	if !v.Valid || fmt.Sprint(fireStrings(v.Fires)) != fmt.Sprint(want) {
		t.Errorf("validate = %v %q, want %q", v.Valid, fireStrings(v.Fires), want)
	}
	for body, code := range map[string]string{
		`{"schedule":"30 25 * * *"}`:                   "invalid_schedule",
		`{"schedule":"@daily","timezone":"Mars/Base"}`: "invalid_timezone",
		`{"schedule":"@daily","tz":"UTC"}`:             "unknown_field",
		`{"schedule":"@daily","n":1000}`:               "invalid_field",
		`{"schedule":"0 0 31 2 *","timezone":"UTC"}`:   "invalid_schedule",
	} {
		var got struct{ Error struct{ Code string } }
		e.api.JSON(t, "POST", "/api/v1/schedules/validate", body, 400, &got)
		if got.Error.Code != code {
			t.Errorf("%s: code %q, want %q", body, got.Error.Code, code)
		}
	}
	if after := e.etcd.Revision(t); after != before {
		t.Errorf("validate wrote to etcd")
	}
}

// TestBackfillRequest: a backfill stores every nominal fire of the range
// (here across spring forward) in one record; bad ranges write nothing.
func TestBackfillRequest(t *testing.T) {
	e := startAt(t, "2026-03-12T00:00:00Z")
	e.api.JSON(t, "POST", "/api/v1/jobs", nightly, 201, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", `{"name":"busy","group":"default","schedule":"* * * * * *","target":"noop"}`, 201, nil)
	var got struct {
		BackfillID string `json:"backfill_id"`
		Fires      int
		First      string
		Last       string
	}
	e.api.JSON(t, "POST", "/api/v1/jobs/nightly/backfill", `{"from":"2026-03-06T00:00:00-05:00","to":"2026-03-10T00:00:00-04:00","reason":"outage"}`, 202, &got)
	if got.Fires != 4 || got.First != "2026-03-06T07:30:00.000Z" || got.Last != "2026-03-09T06:30:00.000Z" {
		t.Errorf("backfill = %+v", got)
	}
	keys := e.etcd.Keys(t, "/pink/schedule/backfills/")
	if len(keys) != 1 {
		t.Fatalf("backfill records: %v", keys)
	}
	var b struct{ Fires []string }
	for _, v := range keys {
		_ = json.Unmarshal([]byte(v), &b)
	}
	want := []string{"2026-03-06T07:30:00Z", "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}
	if fmt.Sprint(b.Fires) != fmt.Sprint(want) {
		t.Errorf("stored fires %v, want %v (the one in the DST gap at 03:00 EDT)", b.Fires, want)
	}

	before := e.etcd.Revision(t)
	for body, code := range map[string]string{
		`{"from":"2026-03-10T00:00:00Z","to":"2026-03-20T00:00:00Z"}`: "invalid_field",
		`{"from":"2026-03-09T00:00:00Z","to":"2026-03-08T00:00:00Z"}`: "invalid_field",
		`{"to":"2026-03-08T00:00:00Z"}`:                               "invalid_field",
		`{"from":"2026-03-09T10:00:00Z","to":"2026-03-09T11:00:00Z"}`: "no_fires_in_range",
		`{"from":"2026-03-09","to":"2026-03-10"}`:                     "wrong_type",
	} {
		var er struct{ Error struct{ Code string } }
		e.api.JSON(t, "POST", "/api/v1/jobs/nightly/backfill", body, 400, &er)
		if er.Error.Code != code {
			t.Errorf("%s: %q, want %q", body, er.Error.Code, code)
		}
	}
	var er struct{ Error struct{ Code string } }
	e.api.JSON(t, "POST", "/api/v1/jobs/busy/backfill", `{"from":"2026-03-09T00:00:00Z","to":"2026-03-09T01:00:00Z"}`, 400, &er)
	if er.Error.Code != "backfill_too_large" {
		t.Errorf("an hour of a per-second job: %q", er.Error.Code)
	}
	e.api.JSON(t, "POST", "/api/v1/jobs/ghost/backfill", `{"from":"2026-03-09T00:00:00Z","to":"2026-03-10T00:00:00Z"}`, 404, nil)
	if after := e.etcd.Revision(t); after != before {
		t.Errorf("refused backfills wrote: %d -> %d", before, after)
	}
}

// TestGroupLifecycle: a group in use cannot be deleted; its description can
// be changed.
func TestGroupLifecycle(t *testing.T) {
	e := startAt(t, "2026-11-26T16:00:00Z")
	e.api.JSON(t, "POST", "/api/v1/jobs", nightly, 201, nil)
	var er struct{ Error struct{ Code string } }
	e.api.JSON(t, "DELETE", "/api/v1/groups/default", nil, 409, &er)
	if er.Error.Code != "group_not_empty" {
		t.Errorf("delete group in use: %q", er.Error.Code)
	}
	var g struct{ Description string }
	e.api.JSON(t, "PUT", "/api/v1/groups/default", `{"description":"the workers"}`, 200, &g)
	if g.Description != "the workers" {
		t.Errorf("description %q", g.Description)
	}
	e.api.JSON(t, "PUT", "/api/v1/groups/default", `{"name":"other"}`, 400, nil)
	e.api.JSON(t, "DELETE", "/api/v1/groups/default/clients/w-1", nil, 404, nil)
	e.api.JSON(t, "DELETE", "/api/v1/jobs/nightly", nil, 200, nil)
	e.api.JSON(t, "DELETE", "/api/v1/groups/default", nil, 200, nil)
	e.api.JSON(t, "GET", "/api/v1/groups/default", nil, 404, nil)
	if keys := e.etcd.Keys(t, "/pink/group/"); len(keys) != 0 {
		t.Errorf("group keys left: %v", keys)
	}
}

// openAPIDoc is the part of the OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI    string `json:"openapi"`
	Paths      map[string]map[string]openAPIOp
	Components struct{ Schemas map[string]json.RawMessage }
}

type openAPIOp struct {
	Summary    string
	Security   *[]map[string][]string
	Parameters []struct{ Name, In string }
	Responses  map[string]json.RawMessage
}

// params lists an operation's parameters as "in:name".
func (o openAPIOp) params() map[string]bool {
	out := map[string]bool{}
	for _, p := range o.Parameters {
		out[p.In+":"+p.Name] = true
	}
	return out
}

// servedRoutes walks a router and returns every "METHOD path" it serves.
func servedRoutes(t *testing.T, router *mux.Router) map[string]bool {
	t.Helper()
	served := map[string]bool{}
	err := router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := r.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := r.GetMethods()
		if err != nil {
			return fmt.Errorf("%s has no methods: %w", path, err)
		}
		for _, m := range methods {
			served[m+" "+path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return served
}

// TestOpenAPIMatchesRoutes: the document describes exactly the routes the
// router serves — /healthz, /readyz and /metrics included —, each with a
// summary, its success answer and schemas that resolve; changes document
// their reason, lists their paging.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	for _, mode := range []struct{ metrics, needToken bool }{{true, false}, {true, true}, {false, false}} {
		metrics := mode.metrics
		t.Run(fmt.Sprintf("metrics=%v,token=%v", mode.metrics, mode.needToken), func(t *testing.T) {
			e := pinktest.StartEtcd(t)
			cfg := api.Config{Store: store.New(e.Client, ""), MetricsNeedToken: mode.needToken}
			if metrics {
				cfg.Metrics = promhttp.Handler()
			}
			s := api.New(cfg)
			hs := httptest.NewServer(s)
			t.Cleanup(hs.Close)
			a := pinktest.NewAPI(strings.TrimPrefix(hs.URL, "http://"))
			_, raw := a.Do(t, "GET", "/api/v1/openapi.json", nil)
			var doc openAPIDoc
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.OpenAPI != "3.0.3" {
				t.Errorf("openapi %q", doc.OpenAPI)
			}
			documented := map[string]openAPIOp{}
			for path, ops := range doc.Paths {
				for method, op := range ops {
					documented[strings.ToUpper(method)+" "+path] = op
				}
			}
			served := servedRoutes(t, s.Router())
			var missing, extra []string
			for k := range served {
				if _, ok := documented[k]; !ok {
					missing = append(missing, k)
				}
			}
			for k := range documented {
				if !served[k] {
					extra = append(extra, k)
				}
			}
			sort.Strings(missing)
			sort.Strings(extra)
			if len(missing)+len(extra) > 0 {
				t.Errorf("routes without docs: %v; docs without routes: %v", missing, extra)
			}
			for _, open := range []string{"GET /healthz", "GET /readyz"} {
				if !served[open] {
					t.Errorf("%s is not served", open)
				}
			}
			if served["GET /metrics"] != metrics {
				t.Errorf("/metrics served = %v, want %v", served["GET /metrics"], metrics)
			}

			actions := map[string]string{}
			for _, rt := range s.Routes() {
				actions[rt.Method+" "+rt.Path] = rt.Action
			}
			for k, op := range documented {
				if op.Summary == "" || len(op.Responses) == 0 {
					t.Errorf("%s: summary %q, %d responses", k, op.Summary, len(op.Responses))
				}
				ok := false
				for code := range op.Responses {
					ok = ok || strings.HasPrefix(code, "2")
				}
				if !ok {
					t.Errorf("%s: no success answer documented", k)
				}
				if op.Security == nil {
					t.Errorf("%s: security not stated", k)
				}
				isAPI := strings.HasPrefix(k[strings.IndexByte(k, ' ')+1:], "/api/")
				wantOpen := !isAPI && !(k == "GET /metrics" && mode.needToken)
				if open := op.Security != nil && len(*op.Security) == 0; open != wantOpen {
					t.Errorf("%s: open (no token) = %v, want %v", k, open, wantOpen)
				}
				p := op.params()
				changes := actions[k] != ""
				if p["header:Pink-Reason"] != changes || p["query:reason"] != changes {
					t.Errorf("%s: documents Pink-Reason header %v, ?reason= %v; want %v (it changes something: %v)",
						k, p["header:Pink-Reason"], p["query:reason"], changes, changes)
				}
			}
			for _, list := range []string{"GET /api/v1/jobs", "GET /api/v1/groups", "GET /api/v1/snapshots", "GET /api/v1/runs", "GET /api/v1/audit"} {
				p := documented[list].params()
				if !p["query:limit"] || !p["query:cursor"] {
					t.Errorf("%s: limit/cursor not documented (%v)", list, p)
				}
			}
			for _, ref := range regexpRefs(string(raw)) {
				if _, ok := doc.Components.Schemas[ref]; !ok {
					t.Errorf("$ref to unknown schema %s", ref)
				}
			}
		})
	}
}

func regexpRefs(s string) []string {
	var out []string
	for _, part := range strings.Split(s, `"#/components/schemas/`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	return out
}
