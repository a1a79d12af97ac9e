package api

import (
	"errors"
	"net/http"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

func (s *Server) listRuns(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	jobName, err := queryName(r, "job")
	if err != nil {
		return 0, nil, err
	}
	status := snapshot.Status(q.Get("status"))
	switch status {
	case "", snapshot.StatusSucceeded, snapshot.StatusFailed, snapshot.StatusTimedOut, snapshot.StatusCanceled, snapshot.StatusLost:
	default:
		return 0, nil, badParam("status", "status must be one of succeeded, failed, timed_out, canceled, lost")
	}
	if jobName == "" {
		return s.listRunsAcross(r, status)
	}
	for _, p := range []string{"group", "since", "until"} {
		if q.Has(p) {
			return 0, nil, badParam(p, p+" filters runs across jobs: leave out job, or leave out "+p)
		}
	}
	limit, cursor, err := pageQuery(r, listRuns, defaultRunLimit)
	if err != nil {
		return 0, nil, err
	}
	if owner, ok := snapshot.JobOf(cursor); cursor != "" && (!ok || owner != jobName || !idPattern.MatchString(cursor)) {
		return 0, nil, badCursor()
	}
	page, err := s.st.ListRuns(r.Context(), jobName, status, limit, cursor)
	if err != nil {
		return 0, nil, err
	}
	runs := runViews(page.Runs)
	items, next, err := boundedPage(listRuns, runs, func(i int) string { return runs[i].ID }, page.Next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"runs": items, "next_cursor": next}, nil
}

func (s *Server) getRun(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	run, err := s.st.GetRun(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		err = errorf(http.StatusNotFound, "run_not_found", "no such run")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, runViewOf(run), nil
}
