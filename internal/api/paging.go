package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/pink-scheduler/pink/pkg/job"
)

// Page sizes of the list routes. Every list takes ?limit= (1 to
// maxPageLimit) and ?cursor= (the next_cursor of the previous page) and
// answers with next_cursor, "" on the last page.
const (
	// defaultPageLimit is the page size of /jobs, /groups and /snapshots.
	defaultPageLimit = 100
	// defaultRunLimit is the page size of /runs and /audit.
	defaultRunLimit = 50
	maxPageLimit    = 1000
)

var (
	// cursorPattern matches the cursors of /runs and /audit (run and
	// audit entry ids).
	cursorPattern = regexp.MustCompile(`^[A-Za-z0-9@._-]{1,160}$`)
	// opaqueCursorPattern matches the base64url cursors of /snapshots.
	opaqueCursorPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,512}$`)
)

func badParam(field, message string) error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: field, Message: message}
}

// pageQuery reads the ?limit= (def if absent) and ?cursor= ("" if absent)
// of a list route; valid says whether a cursor has the form of that list's
// next_cursor values.
func pageQuery(r *http.Request, def int, valid func(string) bool) (limit int, cursor string, err error) {
	limit = def
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return 0, "", badParam("limit", fmt.Sprintf("limit must be an integer from 1 to %d", maxPageLimit))
		}
		limit = n
	}
	cursor = r.URL.Query().Get("cursor")
	if cursor != "" && !valid(cursor) {
		return 0, "", badCursor()
	}
	return limit, cursor, nil
}

// isName is the cursor check of lists ordered by name: the next_cursor is
// the name of the last item of the previous page.
func isName(c string) bool { return job.CheckName("cursor", c) == nil }

func badCursor() error {
	return badParam("cursor", "cursor must be a next_cursor value from a previous page")
}
