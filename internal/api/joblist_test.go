package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/internal/store"
)

// TestJobListFilters: the jobs list filters on the server by group, name
// or description, paused, failing and labels, pages through the result,
// and carries each job's last outcome; bad filters are refused.
func TestJobListFilters(t *testing.T) {
	e := start(t)
	for _, g := range []string{"g1", "g2"} {
		e.api.JSON(t, "POST", "/api/v1/groups", fmt.Sprintf(`{"name":%q}`, g), http.StatusCreated, nil)
	}
	// Names chosen so that a job's last-outcome keys sort away from its
	// job key ("a-b/" sorts before "a/").
	jobs := []struct {
		name, group, desc, labels string
		paused                    bool
		lastOK, lastFail          int // minutes ago; 0: none
	}{
		{"a", "g1", "Nightly export", `{"team":"data"}`, false, 10, 5},
		{"a-b", "g1", "", `{"team":"data","tier":"1"}`, false, 5, 10},
		{"a.c", "g2", "cleans up", `{"team":"web"}`, true, 0, 3},
		{"b", "g2", "EXPORT of web logs", "", false, 0, 0},
		{"c", "g1", "", `{"team":"data"}`, true, 1, 0},
	}
	ctx := context.Background()
	for _, j := range jobs {
		labels := ""
		if j.labels != "" {
			labels = `,"labels":` + j.labels
		}
		e.api.JSON(t, "POST", "/api/v1/jobs", fmt.Sprintf(`{"name":%q,"group":%q,"schedule":"@hourly","target":"noop","description":%q,"paused":%v%s}`,
			j.name, j.group, j.desc, j.paused, labels), http.StatusCreated, nil)
		for outcome, ago := range map[string]int{"success": j.lastOK, "failure": j.lastFail} {
			if ago > 0 {
				key := store.DefaultRoot + "/job/last/" + j.name + "/" + outcome
				if _, err := e.etcd.Client.Put(ctx, key, cursor.Stamp(now.Add(-time.Duration(ago)*time.Minute))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	type view struct {
		Name    string `json:"name"`
		LastRun *struct {
			Status     string    `json:"status"`
			FinishedAt time.Time `json:"finished_at"`
		} `json:"last_run"`
	}
	list := func(query string, limit int) (names []string, views []view) {
		t.Helper()
		cursor := ""
		for range 20 {
			var p struct {
				Jobs []view `json:"jobs"`
				Next string `json:"next_cursor"`
			}
			e.api.JSON(t, "GET", fmt.Sprintf("/api/v1/jobs?limit=%d&cursor=%s&%s", limit, cursor, query), nil, http.StatusOK, &p)
			for _, v := range p.Jobs {
				names = append(names, v.Name)
				views = append(views, v)
			}
			if cursor = p.Next; cursor == "" {
				return names, views
			}
		}
		t.Fatalf("%s: more than 20 pages", query)
		return nil, nil
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"a", "a-b", "a.c", "b", "c"}},
		{"group=g1", []string{"a", "a-b", "c"}},
		{"q=export", []string{"a", "b"}}, // case-insensitive, name or description
		{"q=a-", []string{"a-b"}},
		{"paused=true", []string{"a.c", "c"}},
		{"paused=false", []string{"a", "a-b", "b"}},
		{"failing=true", []string{"a", "a.c"}},
		{"label=team%3Ddata", []string{"a", "a-b", "c"}},
		{"label=team%3Ddata&label=tier%3D1", []string{"a-b"}},
		{"label=team%3D", nil},
		{"group=g1&failing=true&paused=false", []string{"a"}},
		{"q=nothing-matches", nil},
	} {
		for _, limit := range []int{1, 2, 100} {
			if got, _ := list(tc.query, limit); !slices.Equal(got, tc.want) {
				t.Errorf("?%s, pages of %d: %v, want %v", tc.query, limit, got, tc.want)
			}
		}
	}
	_, views := list("", 100)
	for _, v := range views {
		got := "none"
		if v.LastRun != nil {
			got = fmt.Sprintf("%s %s ago", v.LastRun.Status, now.Sub(v.LastRun.FinishedAt))
		}
		want := map[string]string{"a": "failed 5m0s ago", "a-b": "succeeded 5m0s ago", "a.c": "failed 3m0s ago", "b": "none", "c": "succeeded 1m0s ago"}[v.Name]
		if got != want {
			t.Errorf("%s: last_run %s, want %s", v.Name, got, want)
		}
	}
	var one view
	e.api.JSON(t, "GET", "/api/v1/jobs/a-b", nil, http.StatusOK, &one)
	if one.LastRun == nil || one.LastRun.Status != "succeeded" {
		t.Errorf("GET a-b: last_run %+v", one.LastRun)
	}

	for _, tc := range []struct{ query, field string }{
		{"paused=maybe", "paused"},
		{"failing=sometimes", "failing"},
		{"label=team", "label"},
		{"label=%3Dx", "label"},
		{"q=" + strings.Repeat("x", 201), "q"},
		{"group=Bad%20Group", "group"},
		{strings.Repeat("label=a%3Db&", 11), "label"},
	} {
		status, body := e.api.Do(t, "GET", "/api/v1/jobs?"+tc.query, nil)
		if status != http.StatusBadRequest || !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
			t.Errorf("?%.60s: %d %s, want 400 on field %s", tc.query, status, body, tc.field)
		}
	}
}

// TestJobBodiesInYAML: a job can be created and replaced with a YAML body
// (what the console's YAML editor and apply files hold), with the same
// checks as JSON; malformed YAML changes nothing.
func TestJobBodiesInYAML(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, http.StatusCreated, nil)
	post := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.api.Base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/yaml")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, readAll(resp)
	}
	status, body := post("POST", "/api/v1/jobs", "name: from-yaml\ngroup: default\nschedule: \"0 9 * * 1-5\"\ntimezone: Europe/Berlin\ntarget: http\nparams:\n  url: https://example.com/run\nlabels: {team: data}\n")
	if status != http.StatusCreated || !strings.Contains(body, `"schedule_text":"every weekday at 09:00, Europe/Berlin"`) {
		t.Fatalf("create from YAML: %d %s", status, body)
	}
	for _, tc := range []struct{ body, code string }{
		{"name: [unclosed", "malformed_yaml"},
		{"- a list\n- not a job\n", "malformed_yaml"},
		{"name: x\ngroup: default\nschedule: \"61 * * * *\"\ntarget: http\n", "invalid_schedule"},
		{"name: y\ngroup: default\nschedule: \"@daily\"\ntarget: http\nsurprise: 1\n", "unknown_field"},
	} {
		status, body := post("POST", "/api/v1/jobs", tc.body)
		if status != http.StatusBadRequest || !strings.Contains(body, `"code":"`+tc.code+`"`) {
			t.Errorf("%q: %d %s, want 400 %s", tc.body, status, body, tc.code)
		}
	}
	status, body = post("PUT", "/api/v1/jobs/from-yaml", "name: from-yaml\ngroup: default\nschedule: \"@daily\"\ntarget: http\nparams: {url: \"https://example.com/run\"}\n")
	if status != http.StatusOK || !strings.Contains(body, `"schedule":"@daily"`) {
		t.Errorf("replace from YAML: %d %s", status, body)
	}
	var list struct {
		Jobs []struct{ Name string } `json:"jobs"`
	}
	e.api.JSON(t, "GET", "/api/v1/jobs", nil, http.StatusOK, &list)
	if len(list.Jobs) != 1 {
		t.Errorf("jobs after the bad bodies: %+v", list.Jobs)
	}
}

// TestWhoami: the caller's identity, for the console's controls.
func TestWhoami(t *testing.T) {
	e := start(t)
	var me map[string]any
	e.api.JSON(t, "GET", "/api/v1/whoami", nil, http.StatusOK, &me)
	if fmt.Sprint(me) != "map[authentication:false name:anonymous role:admin]" {
		t.Errorf("whoami without tokens: %v", me)
	}
}
