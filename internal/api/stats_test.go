package api_test

import (
	"testing"
)

// GET /api/v1/stats: the runs of the range by bucket and status, and job
// totals (paused, active, failing); bad ranges are 400s.
func TestStats(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"g1"}`, 201, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", `{"name":"alpha","group":"g1","schedule":"@yearly","target":"noop"}`, 201, nil)
	e.api.JSON(t, "POST", "/api/v1/jobs", `{"name":"beta","group":"g1","schedule":"@yearly","target":"noop","paused":true}`, 201, nil)
	for range 3 {
		var trig struct {
			SnapshotID string `json:"snapshot_id"`
		}
		e.api.JSON(t, "POST", "/api/v1/jobs/alpha/trigger", nil, 202, &trig)
		e.api.JSON(t, "DELETE", "/api/v1/snapshots/"+trig.SnapshotID, nil, 200, nil)
	}
	type stats struct {
		StepSeconds float64 `json:"step_seconds"`
		Buckets     []struct {
			Start string         `json:"start"`
			Total int            `json:"total"`
			Runs  map[string]int `json:"runs"`
		} `json:"buckets"`
		Totals struct {
			Runs                          map[string]int `json:"runs"`
			Jobs, Active, Paused, Failing int
		} `json:"totals"`
		Truncated bool `json:"truncated"`
	}
	var got stats
	// now is 2026-11-26T16:00:00Z: the runs are in the last hourly bucket.
	e.api.JSON(t, "GET", "/api/v1/stats", nil, 200, &got)
	last := got.Buckets[len(got.Buckets)-1]
	if got.StepSeconds != 3600 || len(got.Buckets) != 24 || last.Start != "2026-11-26T16:00:00.000Z" || got.Buckets[0].Start != "2026-11-25T17:00:00.000Z" ||
		last.Total != 3 || last.Runs["canceled"] != 3 || got.Totals.Runs["canceled"] != 3 || got.Truncated {
		t.Errorf("stats: %+v", got)
	}
	if got.Totals.Jobs != 2 || got.Totals.Active != 1 || got.Totals.Paused != 1 || got.Totals.Failing != 0 {
		t.Errorf("totals: %+v", got.Totals)
	}
	got = stats{}
	e.api.JSON(t, "GET", "/api/v1/stats?job=beta&from=2026-11-26T15:00:00Z&to=2026-11-26T17:00:00Z&step=30m", nil, 200, &got)
	if len(got.Buckets) != 4 || got.Buckets[0].Start != "2026-11-26T15:00:00.000Z" || got.Totals.Runs["canceled"] != 0 || got.Totals.Jobs != 1 || got.Totals.Paused != 1 {
		t.Errorf("beta's stats: %+v", got)
	}
	for _, c := range []struct{ query, field string }{
		{"step=30s", "step"},
		{"step=1500ms", "step"},
		{"step=x", "step"},
		{"from=2026-11-27T00:00:00Z&to=2026-11-26T00:00:00Z", "from"},
		{"from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z&step=1m", "step"},
		{"from=yesterday", "from"},
		{"job=Bad%20Name", "job"},
	} {
		var bad struct {
			Error struct{ Field string } `json:"error"`
		}
		e.api.JSON(t, "GET", "/api/v1/stats?"+c.query, nil, 400, &bad)
		if bad.Error.Field != c.field {
			t.Errorf("%s: field %q, want %q", c.query, bad.Error.Field, c.field)
		}
	}
}
