package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// awaitRun returns the run id names once it is recorded: id is a run id
// (snapshot id + ".NNN", the attempt) or a live snapshot's id (then its
// last attempt's run, once the snapshot has ended).
func (e Env) awaitRun(ctx context.Context, id string) (snapshot.Run, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	job, _, _ := strings.Cut(id, "@")
	st, err := e.Client.Events(ctx, client.EventFilter{Job: job, Types: []string{"snapshot", "run"}})
	if err != nil {
		return snapshot.Run{}, err
	}
	defer st.Close()
	r, err := e.run(ctx, id)
	if client.StatusOf(err) != http.StatusNotFound {
		return r, err // recorded already, or a failure
	}
	snapID, wantRun := id, ""
	if !e.live(ctx, id) {
		if last, lerr := e.lastRunOf(ctx, id, job); lerr == nil {
			return last, nil // a snapshot that has ended: its last run
		}
		i := strings.LastIndex(id, ".")
		if i < 0 || !e.live(ctx, id[:i]) {
			return r, err // neither a run nor a live snapshot: not found
		}
		snapID, wantRun = id[:i], id
	}
	// The last attempt's run is recorded in the transaction that ends the
	// snapshot: the run event of the revision that deletes it.
	lastRun, lastRev, endRev := "", "", ""
	for {
		ev, err := st.Next()
		if err != nil {
			return snapshot.Run{}, streamEnded(ctx, err)
		}
		rev, _, _ := strings.Cut(ev.ID, ".")
		switch {
		case ev.Type == "run" && ev.Object == wantRun:
			return e.run(ctx, wantRun)
		case ev.Type == "run" && wantRun == "" && strings.HasPrefix(ev.Object, snapID+"."):
			if endRev != "" && rev == endRev {
				return e.run(ctx, ev.Object)
			}
			lastRun, lastRev = ev.Object, rev
		case wantRun == "" && ev.Type == "snapshot" && ev.Action == "delete" && ev.Object == snapID && !e.live(ctx, snapID):
			if lastRev == rev {
				return e.run(ctx, lastRun)
			}
			endRev = rev
		case wantRun == "" && ev.Type == "reset" && !e.live(ctx, snapID):
			return e.lastRunOf(ctx, snapID, job)
		}
	}
}

func (e Env) run(ctx context.Context, id string) (snapshot.Run, error) {
	var r snapshot.Run
	err := e.Client.Do(ctx, http.MethodGet, "/api/v1/runs/"+esc(id), nil, &r, nil)
	return r, err
}

// live says whether id is a live snapshot.
func (e Env) live(ctx context.Context, id string) bool {
	return e.Client.Do(ctx, http.MethodGet, "/api/v1/snapshots/"+esc(id), nil, nil, nil) == nil
}

// lastRunOf is the run of a snapshot's last attempt, read from the
// job's newest runs (a snapshot that ended before the stream opened, or
// after a reset of the stream).
func (e Env) lastRunOf(ctx context.Context, snapID, job string) (snapshot.Run, error) {
	page, err := e.Client.RunsWhere(ctx, client.RunFilter{Job: job}, 100, "")
	if err != nil {
		return snapshot.Run{}, err
	}
	var last *snapshot.Run
	for i, r := range page.Runs {
		if r.SnapshotID == snapID && (last == nil || r.Attempt > last.Attempt) {
			last = &page.Runs[i]
		}
	}
	if last != nil {
		return *last, nil
	}
	return snapshot.Run{}, fmt.Errorf("snapshot %s ended without a run in history (deleted with its job?)", snapID)
}
