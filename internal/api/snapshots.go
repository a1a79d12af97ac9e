package api

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/gorilla/mux"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// idPattern matches snapshot and run ids: a job name, '@', a stamp and
// suffixes made of the same safe characters.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}@[A-Za-z0-9._-]{1,64}$`)

func pathID(r *http.Request) (string, error) {
	id := mux.Vars(r)["id"]
	if !idPattern.MatchString(id) {
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_id", Field: "id", Message: "not a snapshot or run id (they look like job@20260101T000000Z)"}
	}
	return id, nil
}

func snapshotError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "snapshot_not_found", "no such live snapshot (it may have finished: see /api/v1/runs)")
	case errors.Is(err, store.ErrRunning):
		return errorf(http.StatusConflict, "snapshot_running", "the snapshot has started; it cannot be deleted")
	}
	return err
}

// listSnapshots lists live snapshots (pending first, with the reason they
// wait when no live worker would take them), a page at a time.
func (s *Server) listSnapshots(r *http.Request) (int, any, error) {
	group, err := queryName(r, "group")
	if err != nil {
		return 0, nil, err
	}
	jobName, err := queryName(r, "job")
	if err != nil {
		return 0, nil, err
	}
	limit, cursor, err := pageQuery(r, listSnapshots, defaultPageLimit)
	if err != nil {
		return 0, nil, err
	}
	page, err := s.st.ListLivePage(r.Context(), group, jobName, limit, cursor)
	if errors.Is(err, store.ErrBadCursor) {
		return 0, nil, badCursor()
	}
	if err != nil {
		return 0, nil, err
	}
	snaps := make([]snapshotView, len(page.Snapshots))
	for i, l := range page.Snapshots {
		snaps[i] = s.snapshotFor(r, l)
	}
	if err := s.pendingReasons(r.Context(), group, snaps); err != nil {
		return 0, nil, err
	}
	items, next, err := boundedPage(listSnapshots, snaps, func(i int) string { return page.Cursors[i] }, page.Next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"snapshots": items, "next_cursor": next}, nil
}

// snapshotFor is the view of l for the caller of r: its
// credential-looking params masked unless the caller is an admin.
func (s *Server) snapshotFor(r *http.Request, l snapshot.Live) snapshotView {
	v := snapshotViewOf(l.Snapshot)
	if !mayReadSecrets(r) {
		v.Params = job.RedactParams(v.Target, v.Params)
	}
	return v
}

func (s *Server) getSnapshot(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	l, err := s.st.GetLive(r.Context(), id)
	if err != nil {
		return 0, nil, snapshotError(err)
	}
	views := []snapshotView{s.snapshotFor(r, l)}
	if err := s.pendingReasons(r.Context(), l.Group, views); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, views[0], nil
}

// deleteSnapshot cancels a snapshot that has not started. It is recorded in
// history as canceled.
func (s *Server) deleteSnapshot(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	for range 5 {
		l, err := s.st.GetLive(r.Context(), id)
		if err != nil {
			return 0, nil, snapshotError(err)
		}
		err = s.st.CancelLive(r.Context(), l, "canceled through the API", s.now())
		if errors.Is(err, store.ErrConflict) {
			continue // it moved (e.g. got dispatched): look again
		}
		if err != nil {
			return 0, nil, snapshotError(err)
		}
		s.log.Info("snapshot canceled", "snapshot_id", id)
		return http.StatusOK, map[string]any{"id": id, "status": "canceled"}, nil
	}
	return 0, nil, errorf(http.StatusConflict, "snapshot_changing", "the snapshot keeps changing; retry")
}
