package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// staleAhead are the fires of job name written ahead that may no longer
// start: not started, first attempts, and written for a revision of the job
// other than the one the view holds (or the job is gone).
func (v *view) staleAhead(name string) []*snapshot.Live {
	js := v.jobs[name]
	var out []*snapshot.Live
	for _, l := range v.liveOf(name) {
		if !l.WrittenAhead || l.Attempt != 1 || l.State == snapshot.StateRunning {
			continue
		}
		if js == nil || l.JobRevision != js.spec.Revision {
			out = append(out, l)
		}
	}
	return out
}

// settleStale deals with the fires written ahead whose job changed (an
// edit, a pause, a delete) before they started: their workers refuse to
// start them (the claim compares the job's revision), so the leader takes
// them back. For a job that still exists, the fires are removed and the
// cursor moves back to just before the earliest, in one fenced
// transaction; the fire queue then decides those fires again from the job
// as it now is: written again if the new schedule still fires then (with
// the new target, params, group), not written if the job is paused or its
// schedule moved. Fires of a deleted job end canceled, as its pending ones
// do. A job waits in todo.stale, and does not fire, until this has
// succeeded.
func (t *term) settleStale(ctx context.Context) error {
	for name := range t.view.todo.stale {
		stale := t.view.staleAhead(name)
		if len(stale) == 0 {
			t.view.settled(name)
			if js := t.view.jobs[name]; js != nil {
				t.reschedule(js)
			}
			continue
		}
		if err := t.takeBack(ctx, name, stale); err != nil {
			return err
		}
	}
	return nil
}

// takeBack takes back the stale fires of one job (see settleStale). A
// conflict leaves the job in todo.stale: the watch events of whatever
// changed (a claim, another edit) bring the state to decide again with.
func (t *term) takeBack(ctx context.Context, name string, stale []*snapshot.Live) error {
	js := t.view.jobs[name]
	if js == nil {
		for _, l := range stale {
			done := l.Finish(snapshot.StatusCanceled, "", "the job was deleted before the fire started", t.cfg.Now())
			if _, _, err := t.moveLive(ctx, t.view.group(l.Group), l, &done, nil, countsDelta{}); err != nil {
				return err
			}
		}
		return nil
	}
	earliest := stale[0].ScheduledAt
	ls := make([]snapshot.Live, len(stale))
	for i, l := range stale {
		ls[i] = *l
		if l.ScheduledAt.Before(earliest) {
			earliest = l.ScheduledAt
		}
	}
	rewind := earliest.Add(-time.Nanosecond)
	c := t.counts.forCursor(name, snapshot.TriggerCron, 0, map[snapshot.SkipReason]int{snapshot.SkipTakenBack: len(ls)})
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	out, rev, err := t.st.TakeBack(rctx, t.fence, name, js.spec.Revision, ls, rewind, c)
	cancel()
	switch {
	case err != nil:
		return fmt.Errorf("take back fires of %s: %w", name, err)
	case out == store.MoveNotLeader:
		return errNotLeader
	case out != store.Moved:
		return nil
	}
	for _, l := range stale {
		t.view.dropLive(l)
	}
	t.view.ownCursor(name, rewind, c, rev)
	t.view.settled(name)
	t.log.Debug("fires written ahead taken back: the job changed before they started",
		"job", name, "fires", len(ls), "earliest", earliest, "job_revision", js.spec.Revision)
	t.reschedule(js)
	return nil
}
