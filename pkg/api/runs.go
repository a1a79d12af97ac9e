package api

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/store"
)

// Page sizes of GET /api/v1/runs.
const (
	defaultRunLimit = 50
	maxRunLimit     = 1000
)

var cursorPattern = regexp.MustCompile(`^[A-Za-z0-9@._-]{1,160}$`)

func badParam(field, message string) error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: field, Message: message}
}

func (s *Server) listRuns(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	jobName, err := queryName(r, "job")
	if err != nil {
		return 0, nil, err
	}
	if jobName == "" {
		return 0, nil, &Error{Status: http.StatusBadRequest, Code: "missing_parameter", Field: "job", Message: "the job query parameter is required: /api/v1/runs?job=NAME"}
	}
	status := snapshot.Status(q.Get("status"))
	switch status {
	case "", snapshot.StatusSucceeded, snapshot.StatusFailed, snapshot.StatusTimedOut, snapshot.StatusCanceled, snapshot.StatusLost:
	default:
		return 0, nil, badParam("status", "status must be one of succeeded, failed, timed_out, canceled, lost")
	}
	limit := defaultRunLimit
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxRunLimit {
			return 0, nil, badParam("limit", "limit must be an integer from 1 to 1000")
		}
	}
	cursor := q.Get("cursor")
	if cursor != "" && !cursorPattern.MatchString(cursor) {
		return 0, nil, badParam("cursor", "cursor must be a next_cursor value from a previous page")
	}
	page, err := s.st.ListRuns(r.Context(), jobName, status, limit, cursor)
	if err != nil {
		return 0, nil, err
	}
	if page.Runs == nil {
		page.Runs = []snapshot.Run{}
	}
	return http.StatusOK, map[string]any{"runs": page.Runs, "next_cursor": page.Next}, nil
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
	return http.StatusOK, run, nil
}
