package api

import (
	"net/http"
	"regexp"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// listRunsAcross is a list kind of its own: its cursors are positions in
// the run index, not run ids.
const listRunsAcross = "runs_across"

// indexCursor is a position in the run index: a newest-first stamp and a
// run id.
var indexCursor = regexp.MustCompile(`^[0-9]{12}/[a-z0-9][a-z0-9._-]{0,62}@[A-Za-z0-9._-]{1,72}$`)

// listRunsAcross lists runs of every job, newest nominal time first,
// filtered by group, status and a nominal-time range. A page may hold
// fewer runs than asked (even none) with a next_cursor when a filter
// matches rarely: each request reads a bounded part of the index.
func (s *Server) listRunsAcross(r *http.Request, status snapshot.Status) (int, any, error) {
	group, err := queryName(r, "group")
	if err != nil {
		return 0, nil, err
	}
	f := store.RunFilter{Group: group, Status: status}
	for _, b := range []struct {
		name string
		at   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := r.URL.Query().Get(b.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil || t.Year() < 1970 || t.After(job.LastFire) {
			return 0, nil, badParam(b.name, b.name+" must be an RFC 3339 time such as 2026-12-01T00:00:00Z")
		}
		*b.at = t
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return 0, nil, badParam("until", "until must not be before since")
	}
	limit, cursor, err := pageQuery(r, listRunsAcross, defaultRunLimit)
	if err != nil {
		return 0, nil, err
	}
	if cursor != "" && !indexCursor.MatchString(cursor) {
		return 0, nil, badCursor()
	}
	page, err := s.st.ListRunsAcross(r.Context(), f, limit, cursor)
	if err != nil {
		return 0, nil, err
	}
	runs := runViews(page.Runs)
	items, next, err := boundedPage(listRunsAcross, runs, func(i int) string { return store.RunIndexPosition(runs[i].ID) }, page.Next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"runs": items, "next_cursor": next}, nil
}
