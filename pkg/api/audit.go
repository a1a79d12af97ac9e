package api

import (
	"net/http"
	"strconv"

	"github.com/pink-scheduler/pink/pkg/store"
)

// listAudit returns the audit log, newest first.
func (s *Server) listAudit(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	limit := defaultRunLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRunLimit {
			return 0, nil, badParam("limit", "limit must be an integer from 1 to 1000")
		}
		limit = n
	}
	cursor := q.Get("cursor")
	if cursor != "" && !cursorPattern.MatchString(cursor) {
		return 0, nil, badParam("cursor", "cursor must be a next_cursor value from a previous page")
	}
	page, err := s.st.ListAudit(r.Context(), limit, cursor)
	if err != nil {
		return 0, nil, err
	}
	if page.Entries == nil {
		page.Entries = []store.AuditEntry{}
	}
	return http.StatusOK, map[string]any{"entries": page.Entries, "next_cursor": page.Next}, nil
}
