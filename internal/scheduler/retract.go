package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// staleAhead are the fires of job name written ahead that may no longer
// start: not started (unclaimed, or claimed ahead by a client whose start
// mark is not known to have reached them), first attempts, and written for
// a revision of the job other than the one the view holds (or the job is
// gone).
func (v *view) staleAhead(name string) []*snapshot.Live {
	js := v.jobs[name]
	var out []*snapshot.Live
	for _, l := range v.liveOf(name) {
		started := l.State == snapshot.StateRunning && (!l.ClaimedAhead || v.startedAhead[l])
		if !l.WrittenAhead || l.Attempt != 1 || started {
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
//
// A fire its client claimed ahead is taken back only while the client's
// start mark is before it (TakeBack compares it). When that fails, the
// leader reads the mark: a fire it has reached started as the job was
// (the start compared the job's revision), or its client gives it back
// unclaimed, which the watch brings as a fire to take back.
func (t *term) settleStale(ctx context.Context) error {
	for name := range t.view.todo.stale {
		for again := true; again; {
			stale := t.view.staleAhead(name)
			if len(stale) == 0 {
				t.view.settled(name)
				if js := t.view.jobs[name]; js != nil {
					t.reschedule(js)
				}
				break
			}
			var err error
			if again, err = t.takeBack(ctx, name, stale); err != nil {
				return err
			}
		}
	}
	return nil
}

// takeBack takes back the stale fires of one job (see settleStale). A
// conflict leaves the job in todo.stale: the watch events of whatever
// changed (a claim, another edit) bring the state to decide again with.
// It reports whether to try again at once: the conflict taught it that
// fires claimed ahead have started.
func (t *term) takeBack(ctx context.Context, name string, stale []*snapshot.Live) (again bool, err error) {
	js := t.view.jobs[name]
	if js == nil {
		for _, l := range stale {
			done := l.Finish(snapshot.StatusCanceled, "", "the job was deleted before the fire started", t.cfg.Now())
			moved, _, err := t.moveLive(ctx, t.view.group(l.Group), l, &done, nil, countsDelta{})
			if err != nil {
				return false, err
			}
			if !moved && l.ClaimedAhead {
				return t.learnStarts(ctx, stale)
			}
		}
		return false, nil
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
		return false, fmt.Errorf("take back fires of %s: %w", name, err)
	case out == store.MoveNotLeader:
		return false, errNotLeader
	case out != store.Moved:
		return t.learnStarts(ctx, stale)
	}
	for _, l := range stale {
		t.view.dropLive(l)
	}
	t.view.ownCursor(name, rewind, c, rev)
	t.view.settled(name)
	t.log.Debug("fires written ahead taken back: the job changed before they started",
		"job_name", name, "fires", len(ls), "earliest", earliest, "job_revision", js.spec.Revision)
	t.reschedule(js)
	return false, nil
}

// learnStarts reads the start marks of the clients that claimed stale
// fires ahead, and notes in the view the fires those marks have reached.
// It reports whether it learned of any.
func (t *term) learnStarts(ctx context.Context, stale []*snapshot.Live) (bool, error) {
	marks := startMarks{}
	learned := false
	for _, l := range stale {
		if !l.ClaimedAhead {
			continue
		}
		mark, err := marks.of(ctx, t, l.Group, l.Client)
		if err != nil {
			return false, err
		}
		if mark.ok && !l.ScheduledAt.After(mark.at) {
			t.view.startedAhead[l] = true
			learned = true
		}
	}
	return learned, nil
}
