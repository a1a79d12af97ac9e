package api

import (
	"net/http"
	"regexp"
)

// auditView is an audit entry as the API returns it. Detail holds what the
// change recorded (ids, counts), as stored.
type auditView struct {
	ID     string         `json:"id"`
	At     apiTime        `json:"at"`
	Who    string         `json:"who"`
	Role   string         `json:"role"`
	Action string         `json:"action"`
	Target string         `json:"target"`
	Reason string         `json:"reason,omitempty"`
	Detail map[string]any `json:"detail,omitempty"`
}

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
	entries := make([]auditView, len(page.Entries))
	for i, e := range page.Entries {
		entries[i] = auditView{ID: e.ID, At: apiTime(e.At), Who: e.Who, Role: e.Role, Action: e.Action, Target: e.Target,
			Reason: e.Reason, Detail: e.Detail}
	}
	items, next, err := boundedPage(listAudit, entries, func(i int) string { return entries[i].ID }, page.Next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"entries": items, "next_cursor": next}, nil
}

// auditIDPattern matches audit entry ids: a fixed-width time and random
// hex (see the store).
var auditIDPattern = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-[0-9a-f]{8}$`)
