package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
	// maxPageBytes bounds a page's items as encoded: a page ends early,
	// with a next_cursor, rather than pass it (its first item always goes
	// in, and every item is bounded: a job by job.MaxSpecBytes, a run's
	// output and error by snapshot.MaxOutputBytes each).
	maxPageBytes = 4 << 20
)

// Kinds of list, each with its own cursors.
const (
	listJobs      = "jobs"
	listGroups    = "groups"
	listSnapshots = "snapshots"
	listRuns      = "runs"
	listAudit     = "audit"
)

// A cursor is opaque to clients: base64url of the list's kind, the
// position to resume after, and a checksum of both. Garbage, a cursor of
// another list, or a hand-made one is refused instead of silently paging
// from somewhere. The checksum is not a secret: a made-up position could
// only page through what the caller may read anyway.
const cursorChecksumBytes = 6

func cursorChecksum(payload string) []byte {
	sum := sha256.Sum256([]byte("pink-cursor-v1\x00" + payload))
	return sum[:cursorChecksumBytes]
}

// encodeCursor is the cursor of list kind that resumes after pos.
func encodeCursor(kind, pos string) string {
	if pos == "" {
		return ""
	}
	payload := kind + "\x00" + pos
	return base64.RawURLEncoding.EncodeToString(append([]byte(payload), cursorChecksum(payload)...))
}

// decodeCursor returns the position of a cursor of list kind, or an error
// if it is not one.
func decodeCursor(kind, cursor string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(cursor) > 1024 || len(b) <= cursorChecksumBytes {
		return "", badCursor()
	}
	payload, sum := string(b[:len(b)-cursorChecksumBytes]), b[len(b)-cursorChecksumBytes:]
	k, pos, ok := strings.Cut(payload, "\x00")
	if !ok || k != kind || pos == "" || !bytes.Equal(sum, cursorChecksum(payload)) {
		return "", badCursor()
	}
	return pos, nil
}

func badParam(field, message string) error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: field, Message: message}
}

func badCursor() error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_cursor", Field: "cursor",
		Message: "cursor must be a next_cursor value of a previous page of this list"}
}

// pageQuery reads the ?limit= (def if absent) and ?cursor= of a list of
// kind; it returns the cursor's position ("" for the first page).
func pageQuery(r *http.Request, kind string, def int) (limit int, pos string, err error) {
	limit = def
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return 0, "", badParam("limit", fmt.Sprintf("limit must be an integer from 1 to %d", maxPageLimit))
		}
		limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		if pos, err = decodeCursor(kind, c); err != nil {
			return 0, "", err
		}
	}
	return limit, pos, nil
}

// boundedPage encodes the items of one page of list kind, in order, until
// the next would pass maxPageBytes, and returns them with the page's
// next_cursor: after the last item kept if the page ended early, else the
// list's own next position (posOf(i) is the position after item i). A
// page of heavy items is so cut short, never unbounded.
func boundedPage[T any](kind string, items []T, posOf func(i int) string, next string) ([]json.RawMessage, string, error) {
	out := make([]json.RawMessage, 0, len(items))
	size := 0
	for i, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return nil, "", err
		}
		if i > 0 && size+len(b) > maxPageBytes {
			return out, encodeCursor(kind, posOf(i-1)), nil
		}
		size += len(b) + 1
		out = append(out, b)
	}
	return out, encodeCursor(kind, next), nil
}
