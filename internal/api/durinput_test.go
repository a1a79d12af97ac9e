package api_test

import (
	"strings"
	"testing"
)

// TestDurationInputs: where a request carries a duration it may send it as
// a Go string or as <name>_seconds; both are accepted when they agree (so a
// job read from the API can be sent back), and a disagreement is a 400
// conflicting_fields that writes nothing.
func TestDurationInputs(t *testing.T) {
	e := start(t)
	e.api.JSON(t, "POST", "/api/v1/groups", `{"name":"default"}`, 201, nil)
	type jobDurations struct {
		Timeout              string  `json:"timeout"`
		TimeoutSeconds       float64 `json:"timeout_seconds"`
		RetryBackoff         string  `json:"retry_backoff"`
		RetryBackoffSeconds  float64 `json:"retry_backoff_seconds"`
		CatchupWindow        string  `json:"catchup_window"`
		CatchupWindowSeconds float64 `json:"catchup_window_seconds"`
		PausedUntil          string  `json:"paused_until"`
	}
	for _, c := range []struct {
		name, fields string
		want         jobDurations
	}{
		{"strings", `"timeout":"90s","retry_backoff":"250ms","catchup_window":"2h"`,
			jobDurations{"1m30s", 90, "250ms", 0.25, "2h0m0s", 7200, ""}},
		{"seconds", `"timeout_seconds":90,"retry_backoff_seconds":0.25,"catchup_window_seconds":7200`,
			jobDurations{"1m30s", 90, "250ms", 0.25, "2h0m0s", 7200, ""}},
		{"both, agreeing", `"timeout":"1m30s","timeout_seconds":90,"retry_backoff":"0.25s","retry_backoff_seconds":0.25`,
			jobDurations{"1m30s", 90, "250ms", 0.25, "1h0m0s", 3600, ""}},
		{"neither: defaults", ``, jobDurations{"1h0m0s", 3600, "10s", 10, "1h0m0s", 3600, ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := strings.Replace(validJob, `"labels"`, c.fields+`,"labels"`, 1)
			if c.fields == "" {
				body = validJob
			}
			var got jobDurations
			e.api.JSON(t, "POST", "/api/v1/jobs", body, 201, &got)
			e.api.JSON(t, "DELETE", "/api/v1/jobs/report", nil, 200, nil)
			if got != c.want {
				t.Errorf("job durations %+v, want %+v", got, c.want)
			}
		})
	}

	e.api.JSON(t, "POST", "/api/v1/jobs", validJob, 201, nil)
	// GET, edit both forms, PUT: fine; edit one and leave the other: refused.
	_, read := e.api.Do(t, "GET", "/api/v1/jobs/report", nil)
	edited := strings.Replace(strings.Replace(string(read), `"timeout":"1h0m0s"`, `"timeout":"30m"`, 1), `"timeout_seconds":3600`, `"timeout_seconds":1800`, 1)
	var got jobDurations
	e.api.JSON(t, "PUT", "/api/v1/jobs/report", edited, 200, &got)
	if got.Timeout != "30m0s" || got.TimeoutSeconds != 1800 {
		t.Errorf("after editing both forms: %+v", got)
	}
	before := e.etcd.Revision(t)
	for _, c := range []struct {
		method, path, body, field, code string
	}{
		{"PUT", "/api/v1/jobs/report", strings.Replace(edited, `"timeout":"30m"`, `"timeout":"45m"`, 1), "timeout_seconds", "conflicting_fields"},
		{"POST", "/api/v1/jobs", strings.Replace(validJob, `"labels"`, `"name":"other","retry_backoff":"1s","retry_backoff_seconds":2,"labels"`, 1), "retry_backoff_seconds", "conflicting_fields"},
		{"POST", "/api/v1/jobs", strings.Replace(validJob, `"labels"`, `"name":"other","timeout_seconds":-1,"labels"`, 1), "timeout_seconds", "invalid_field"},
		{"POST", "/api/v1/jobs", strings.Replace(validJob, `"labels"`, `"name":"other","timeout_seconds":"90","labels"`, 1), "timeout_seconds", "wrong_type"},
		{"POST", "/api/v1/jobs", strings.Replace(validJob, `"labels"`, `"name":"other","timeout_seconds":1e300,"labels"`, 1), "timeout_seconds", "invalid_field"},
		{"POST", "/api/v1/jobs/report/pause", `{"until":"2h","until_seconds":3600}`, "until_seconds", "conflicting_fields"},
		{"POST", "/api/v1/jobs/report/pause", `{"until":"2026-11-26T18:00:00Z","until_seconds":7200}`, "until_seconds", "conflicting_fields"},
		{"POST", "/api/v1/jobs/report/pause", `{"until_seconds":0}`, "until", "invalid_field"},
		{"GET", "/api/v1/stats?step=30m&step_seconds=60", "", "step_seconds", "conflicting_fields"},
		{"GET", "/api/v1/stats?step_seconds=30", "", "step", "invalid_parameter"},
		{"GET", "/api/v1/stats?step_seconds=x", "", "step_seconds", "invalid_parameter"},
	} {
		var refused struct {
			Error struct{ Code, Field, Message string } `json:"error"`
		}
		var body any
		if c.body != "" {
			body = c.body
		}
		e.api.JSON(t, c.method, c.path, body, 400, &refused)
		if refused.Error.Code != c.code || refused.Error.Field != c.field {
			t.Errorf("%s %s %s: %+v, want %s on %s", c.method, c.path, c.body, refused.Error, c.code, c.field)
		}
	}
	if after := e.etcd.Revision(t); after != before {
		t.Errorf("refused requests wrote: %d -> %d", before, after)
	}
	var conflict struct {
		Error struct{ Message string } `json:"error"`
	}
	e.api.JSON(t, "POST", "/api/v1/jobs/report/pause", `{"until":"2h","until_seconds":3600}`, 400, &conflict)
	if want := `until "2h0m0s" and until_seconds 3600 disagree: send one of them, or both with the same value`; conflict.Error.Message != want {
		t.Errorf("conflict message %q, want %q", conflict.Error.Message, want)
	}

	// now is 16:00Z: a pause of 7200 s ends at 18:00, as one of "2h" does.
	for _, body := range []string{`{"until_seconds":7200}`, `{"until":"2h","until_seconds":7200}`, `{"until":"2h"}`} {
		e.api.JSON(t, "POST", "/api/v1/jobs/report/pause", body, 200, &got)
		if got.PausedUntil != "2026-11-26T18:00:00.000Z" {
			t.Errorf("pause %s: paused_until %q", body, got.PausedUntil)
		}
		e.api.JSON(t, "POST", "/api/v1/jobs/report/resume", nil, 200, nil)
	}
	var stats struct {
		Step        string  `json:"step"`
		StepSeconds float64 `json:"step_seconds"`
	}
	for _, q := range []string{"step=30m", "step_seconds=1800", "step=30m&step_seconds=1800"} {
		e.api.JSON(t, "GET", "/api/v1/stats?"+q, nil, 200, &stats)
		if stats.Step != "30m0s" || stats.StepSeconds != 1800 {
			t.Errorf("stats?%s: step %q, step_seconds %v", q, stats.Step, stats.StepSeconds)
		}
	}
}
