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

// pageLimit reads ?limit=, def if absent.
func pageLimit(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageLimit {
		return 0, badParam("limit", fmt.Sprintf("limit must be an integer from 1 to %d", maxPageLimit))
	}
	return n, nil
}

// pageCursor reads ?cursor= ("" if absent) and checks it against pattern.
func pageCursor(r *http.Request, pattern *regexp.Regexp) (string, error) {
	c := r.URL.Query().Get("cursor")
	if c != "" && !pattern.MatchString(c) {
		return "", badCursor()
	}
	return c, nil
}

// nameCursor reads the ?cursor= of a list ordered by name: the name of the
// last item of the previous page.
func nameCursor(r *http.Request) (string, error) {
	c := r.URL.Query().Get("cursor")
	if c != "" && job.CheckName("cursor", c) != nil {
		return "", badCursor()
	}
	return c, nil
}

func badCursor() error {
	return badParam("cursor", "cursor must be a next_cursor value from a previous page")
}
