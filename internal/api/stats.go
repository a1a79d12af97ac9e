package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Limits of GET /api/v1/stats.
const (
	maxStatsBuckets = 1440
	minStatsStep    = time.Minute
	// maxStatsScan bounds the run index entries one request reads; a range
	// with more runs is answered truncated (its oldest buckets short).
	maxStatsScan = 200_000
)

// statsBucket is one bucket of GET /api/v1/stats.
type statsBucket struct {
	Start apiTime                 `json:"start"`
	Runs  map[snapshot.Status]int `json:"runs"`
	Total int                     `json:"total"`
	// Duration and DurationSeconds are the percentiles of the durations
	// of the bucket's runs, as Go strings and as seconds; absent without
	// runs.
	Duration        *durationStrings `json:"duration,omitempty"`
	DurationSeconds *durationStats   `json:"duration_seconds,omitempty"`
}

// durationStats are percentiles of the durations of a bucket's runs, in
// seconds.
type durationStats struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// durationStrings are the same percentiles as Go duration strings.
type durationStrings struct {
	P50 string `json:"p50"`
	P95 string `json:"p95"`
	P99 string `json:"p99"`
	Max string `json:"max"`
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// statsStep reads the bucket length: ?step= (a Go duration) and/or
// ?step_seconds= (a number), 1h when neither is given.
func statsStep(r *http.Request) (time.Duration, error) {
	q := r.URL.Query()
	bad := badParam("step", "step must be a duration of whole seconds, at least 1m (5m, 1h; or step_seconds=300)")
	var text *time.Duration
	if v := q.Get("step"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, bad
		}
		text = &d
	}
	var seconds *float64
	if v := q.Get("step_seconds"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, badParam("step_seconds", "step_seconds must be a number of seconds, at least 60")
		}
		seconds = &f
	}
	step, ok, err := pairedDuration("step", text, seconds)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return time.Hour, nil
	case step < minStatsStep || step%time.Second != 0:
		return 0, bad
	}
	return step, nil
}

// stats answers counts of runs by status and duration percentiles per
// bucket, from the run index (what history holds), and job totals.
func (s *Server) stats(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	jobName, err := queryName(r, "job")
	if err != nil {
		return 0, nil, err
	}
	group, err := queryName(r, "group")
	if err != nil {
		return 0, nil, err
	}
	step, err := statsStep(r)
	if err != nil {
		return 0, nil, err
	}
	// By default the 24 hours up to the end of the current step.
	to := s.now().UTC().Truncate(step).Add(step)
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return 0, nil, badParam("to", "to must be an RFC 3339 time")
		}
	}
	from := to.Add(-24 * time.Hour)
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return 0, nil, badParam("from", "from must be an RFC 3339 time")
		}
	}
	from, to = from.UTC().Truncate(time.Second), to.UTC().Truncate(time.Second)
	switch {
	case !from.Before(to):
		return 0, nil, badParam("from", "from must be before to")
	case from.Year() < 1970:
		return 0, nil, badParam("from", "from must be after 1970")
	case (to.Sub(from)+step-1)/step > maxStatsBuckets:
		return 0, nil, badParam("step", fmt.Sprintf("at most %d buckets: make step longer or the range shorter", maxStatsBuckets))
	}
	buckets, oldest, truncated, err := s.st.RunStats(r.Context(), store.StatsQuery{Job: jobName, Group: group, From: from, To: to, Step: step}, maxStatsScan)
	if err != nil {
		return 0, nil, err
	}
	totals, err := s.st.CountJobs(r.Context(), group, jobName)
	if err != nil {
		return 0, nil, err
	}
	out := make([]statsBucket, 0, len(buckets))
	runs := map[snapshot.Status]int{}
	for _, b := range buckets {
		sb := statsBucket{Start: apiTime(b.Start), Runs: b.Runs, Total: len(b.Durations)}
		for st, n := range b.Runs {
			runs[st] += n
		}
		if d := b.Durations; len(d) > 0 {
			p := durationStats{P50: percentile(d, 50), P95: percentile(d, 95), P99: percentile(d, 99), Max: d[len(d)-1]}
			sb.DurationSeconds = &p
			sb.Duration = &durationStrings{P50: secondsText(p.P50), P95: secondsText(p.P95), P99: secondsText(p.P99), Max: secondsText(p.Max)}
		}
		out = append(out, sb)
	}
	body := map[string]any{
		"from": apiTime(from), "to": apiTime(to), "step": step.String(), "step_seconds": step.Seconds(), "buckets": out,
		"totals": map[string]any{"runs": runs, "jobs": totals.Jobs, "active": totals.Jobs - totals.Paused,
			"paused": totals.Paused, "failing": totals.Failing},
		"truncated": truncated,
	}
	if truncated {
		body["counted_since"] = apiTime(oldest)
	}
	return http.StatusOK, body, nil
}
