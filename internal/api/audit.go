package api

import (
	"net/http"
	"regexp"
)

// listAudit returns the audit log, newest first.
func (s *Server) listAudit(r *http.Request) (int, any, error) {
	limit, cursor, err := pageQuery(r, listAudit, defaultRunLimit)
	if err != nil {
		return 0, nil, err
	}
	if cursor != "" && !auditIDPattern.MatchString(cursor) {
		return 0, nil, badCursor()
	}
	page, err := s.st.ListAudit(r.Context(), limit, cursor)
	if err != nil {
		return 0, nil, err
	}
	entries := page.Entries
	items, next, err := boundedPage(listAudit, entries, func(i int) string { return entries[i].ID }, page.Next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"entries": items, "next_cursor": next}, nil
}

// auditIDPattern matches audit entry ids: a fixed-width time and random
// hex (see the store).
var auditIDPattern = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-[0-9a-f]{8}$`)
