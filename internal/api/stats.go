package api

import (
	"fmt"
	"math"
	"net/http"
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
	Start    time.Time               `json:"start"`
	Runs     map[snapshot.Status]int `json:"runs"`
	Total    int                     `json:"total"`
	Duration *durationStats          `json:"duration_seconds,omitempty"`
}

// durationStats are percentiles of the durations of a bucket's runs.
type durationStats struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
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
	step := time.Hour
	if v := q.Get("step"); v != "" {
		if step, err = time.ParseDuration(v); err != nil || step < minStatsStep || step%time.Second != 0 {
			return 0, nil, badParam("step", "step must be a duration of whole seconds, at least 1m (5m, 1h)")
		}
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
		sb := statsBucket{Start: b.Start, Runs: b.Runs, Total: len(b.Durations)}
		for st, n := range b.Runs {
			runs[st] += n
		}
		if d := b.Durations; len(d) > 0 {
			sb.Duration = &durationStats{P50: percentile(d, 50), P95: percentile(d, 95), P99: percentile(d, 99), Max: d[len(d)-1]}
		}
		out = append(out, sb)
	}
	body := map[string]any{
		"from": from, "to": to, "step_seconds": step.Seconds(), "buckets": out,
		"totals": map[string]any{"runs": runs, "jobs": totals.Jobs, "active": totals.Jobs - totals.Paused,
			"paused": totals.Paused, "failing": totals.Failing},
		"truncated": truncated,
	}
	if truncated {
		body["counted_since"] = oldest
	}
	return http.StatusOK, body, nil
}
