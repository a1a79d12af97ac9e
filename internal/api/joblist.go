package api

import (
	"net/http"
	"strings"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
)

// lastRun is a job's latest finished run as its job view shows it: what
// the jobs list needs to show "failed 5 minutes ago" without reading any
// history.
type lastRun struct {
	// Status is "succeeded" or "failed" (failed, timed_out or lost).
	Status     string  `json:"status"`
	FinishedAt apiTime `json:"finished_at"`
}

func lastRunOf(l store.LastOutcome) *lastRun {
	switch {
	case l.Success.IsZero() && l.Failure.IsZero():
		return nil
	case l.Failing():
		return &lastRun{Status: "failed", FinishedAt: apiTime(l.Failure)}
	default:
		return &lastRun{Status: "succeeded", FinishedAt: apiTime(l.Success)}
	}
}

// Bounds of a job search.
const (
	maxQueryBytes   = 200
	maxLabelFilters = 10
)

// jobFilter reads the jobs list's filters: group, q (a substring of the
// name or description), paused, failing and label (key=value, repeatable).
func jobFilter(r *http.Request) (store.JobFilter, error) {
	var f store.JobFilter
	var err error
	if f.Group, err = queryName(r, "group"); err != nil {
		return f, err
	}
	q := r.URL.Query()
	if f.Query = q.Get("q"); len(f.Query) > maxQueryBytes {
		return f, badParam("q", "q is longer than 200 bytes")
	}
	switch q.Get("paused") {
	case "":
	case "true":
		f.Paused = new(true)
	case "false":
		f.Paused = new(false)
	default:
		return f, badParam("paused", "paused must be true or false")
	}
	if f.Failing, err = queryBool(r, "failing"); err != nil {
		return f, err
	}
	labels := q["label"]
	if len(labels) > maxLabelFilters {
		return f, badParam("label", "give at most 10 label filters")
	}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return f, badParam("label", "label must be key=value, such as team=data")
		}
		if f.Labels == nil {
			f.Labels = map[string]string{}
		}
		f.Labels[k] = v
	}
	return f, nil
}

func (s *Server) listJobs(r *http.Request) (int, any, error) {
	f, err := jobFilter(r)
	if err != nil {
		return 0, nil, err
	}
	limit, after, err := pageQuery(r, listJobs, defaultPageLimit)
	if err != nil {
		return 0, nil, err
	}
	if after != "" && !job.ValidName(after) {
		return 0, nil, badCursor()
	}
	page, err := s.st.FindJobs(r.Context(), f, after, limit)
	if err != nil {
		return 0, nil, err
	}
	views := make([]jobView, 0, len(page.Jobs))
	for _, spec := range page.Jobs {
		v := s.viewFor(r, spec)
		v.LastRun = lastRunOf(page.Last[spec.Name])
		views = append(views, v)
	}
	items, next, err := boundedPage(listJobs, views, func(i int) string { return views[i].Name }, page.Next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"jobs": items, "next_cursor": next}, nil
}
