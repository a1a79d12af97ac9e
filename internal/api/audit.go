package api

import (
	"net/http"

	"github.com/pink-scheduler/pink/internal/audit"
)

// listAudit returns the audit log, newest first.
func (s *Server) listAudit(r *http.Request) (int, any, error) {
	limit, cursor, err := pageQuery(r, defaultRunLimit, cursorPattern.MatchString)
	if err != nil {
		return 0, nil, err
	}
	page, err := s.st.ListAudit(r.Context(), limit, cursor)
	if err != nil {
		return 0, nil, err
	}
	if page.Entries == nil {
		page.Entries = []audit.Entry{}
	}
	return http.StatusOK, map[string]any{"entries": page.Entries, "next_cursor": page.Next}, nil
}
