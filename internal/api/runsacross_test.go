package api_test

import (
	"fmt"
	"slices"
	"testing"
)

// GET /api/v1/runs without a job lists runs of every job, by group and
// status, paged by cursor without a gap or a repeat; bad filters are 400s.
func TestRunsAcrossJobs(t *testing.T) {
	e := start(t)
	for _, g := range []string{"g1", "g2"} {
		e.api.JSON(t, "POST", "/api/v1/groups", fmt.Sprintf(`{"name":%q}`, g), 201, nil)
	}
	var want []string
	for _, j := range []struct{ name, group string }{{"alpha", "g1"}, {"beta", "g2"}, {"gamma", "g1"}} {
		e.api.JSON(t, "POST", "/api/v1/jobs", fmt.Sprintf(`{"name":%q,"group":%q,"schedule":"@yearly","target":"noop"}`, j.name, j.group), 201, nil)
		for range 2 {
			var trig struct {
				SnapshotID string `json:"snapshot_id"`
			}
			e.api.JSON(t, "POST", "/api/v1/jobs/"+j.name+"/trigger", nil, 202, &trig)
			e.api.JSON(t, "DELETE", "/api/v1/snapshots/"+trig.SnapshotID, nil, 200, nil) // a canceled run
			want = append(want, j.group+" "+trig.SnapshotID+".001")
		}
	}
	type page struct {
		Runs []struct{ ID, Group, Status string } `json:"runs"`
		Next string                               `json:"next_cursor"`
	}
	list := func(query string, limit int) []string {
		var got []string
		cursor := ""
		for range 20 {
			var p page
			e.api.JSON(t, "GET", fmt.Sprintf("/api/v1/runs?limit=%d%s&cursor=%s", limit, query, cursor), nil, 200, &p)
			for _, r := range p.Runs {
				if r.Status != "canceled" {
					t.Errorf("run %s is %s", r.ID, r.Status)
				}
				got = append(got, r.Group+" "+r.ID)
			}
			if cursor = p.Next; cursor == "" {
				return got
			}
		}
		t.Fatalf("%s: more than 20 pages", query)
		return nil
	}
	slices.Sort(want)
	for _, limit := range []int{1, 4, 100} {
		got := list("", limit)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("pages of %d: %v, want %v", limit, got, want)
		}
	}
	g2 := list("&group=g2", 1)
	if len(g2) != 2 || g2[0][:3] != "g2 " || g2[1][:3] != "g2 " {
		t.Errorf("group g2: %v", g2)
	}
	if failed := list("&status=failed", 10); len(failed) != 0 {
		t.Errorf("failed: %v", failed)
	}
	if got := list("&since=2026-11-26T16:00:00Z&until=2026-11-26T16:00:00Z", 100); len(got) != len(want) {
		t.Errorf("since = until = the runs' second: %d runs, want %d", len(got), len(want))
	}
	if got := list("&since=2026-11-26T16:00:01Z", 100); len(got) != 0 {
		t.Errorf("since a second later: %v", got)
	}
	for _, c := range []struct{ query, field string }{
		{"since=yesterday", "since"},
		{"until=2026-13-01T00:00:00Z", "until"},
		{"since=2026-11-27T00:00:00Z&until=2026-11-26T00:00:00Z", "until"},
		{"group=Bad%20Name", "group"},
		{"cursor=bogus", "cursor"},
	} {
		var got struct {
			Error struct{ Code, Field string } `json:"error"`
		}
		e.api.JSON(t, "GET", "/api/v1/runs?"+c.query, nil, 400, &got)
		if got.Error.Field != c.field {
			t.Errorf("%s: error field %q, want %q", c.query, got.Error.Field, c.field)
		}
	}
}
