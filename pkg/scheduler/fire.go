package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/store"
)

// fireDue writes every fire that is due now. A job whose write failed with
// an etcd error stays due and is retried on the next step.
func (t *term) fireDue(ctx context.Context) error {
	now := t.s.cfg.Now()
	var due []*jobState
	for js := t.queue.peek(); js != nil && !js.next.After(now); js = t.queue.peek() {
		t.queue.remove(js)
		due = append(due, js)
	}
	var firstErr error
	for _, js := range due {
		if firstErr != nil {
			// Keep the rest due for the retry.
			t.queue.set(js)
			continue
		}
		if err := t.fireJob(ctx, js, now); err != nil {
			if err == errNotLeader {
				return err
			}
			firstErr = fmt.Errorf("fire %s: %w", js.spec.Name, err)
		}
	}
	return firstErr
}

// fireJob writes the plan for one due job and requeues it at its next fire.
func (t *term) fireJob(ctx context.Context, js *jobState, now time.Time) error {
	defer func() {
		if t.jobs[js.spec.Name] == js {
			t.reschedule(js)
		}
	}()
	plan := planFires(js.sched, &js.spec, t.cursors[js.spec.Name], now, t.s.cfg.MisfireThreshold)
	for i, pf := range plan.fires {
		res, err := t.writeFire(ctx, js, pf, now)
		if err != nil {
			return err
		}
		switch res.Outcome {
		case store.FireWritten:
			t.cursors[js.spec.Name] = pf.at
			if i == 0 {
				for reason, n := range plan.skipped {
					t.s.cfg.Metrics.Skipped(js.spec.Name, js.spec.Group, reason, n)
				}
				if n := total(plan.skipped); n > 0 {
					t.log.Info("missed fires skipped", "job", js.spec.Name, "skipped", plan.skipped, "policy", js.spec.Misfire)
				}
			}
		case store.FireNotLeader:
			return errNotLeader
		case store.FireJobChanged:
			// The job changed after we read it; its watch event brings the
			// new revision, which reschedules it.
			js.staleRev = js.spec.Revision
			return nil
		case store.FireCursorAhead:
			t.cursors[js.spec.Name] = res.Cursor
			return nil
		default:
			return fmt.Errorf("unexpected fire outcome %s", res.Outcome)
		}
	}
	return nil
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// writeFire builds the snapshots of one planned fire, places them on
// clients, and writes them. A client that vanished meanwhile is dropped from
// the view and the placement is redone.
func (t *term) writeFire(ctx context.Context, js *jobState, pf plannedFire, now time.Time) (store.FireResult, error) {
	g := t.group(js.spec.Group)
	for attempt := 0; ; attempt++ {
		f := store.Fire{Job: js.spec.Name, JobRevision: js.spec.Revision, Cursor: pf.at}
		if pf.run {
			base := snapshot.ForJob(&js.spec, snapshot.CronID(js.spec.Name, pf.at), pf.trigger, pf.at, now)
			f.Placements = t.place(js, g, base)
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := t.st.WriteFire(rctx, t.fence, f, t.s.cfg.Now())
		cancel()
		if err != nil {
			return res, err
		}
		if res.Outcome == store.FireClientGone && attempt < 3 {
			for _, id := range res.GoneClients {
				delete(g.clients, id)
			}
			g.sorted = nil
			continue
		}
		if res.Outcome == store.FireWritten && pf.run {
			written := t.s.cfg.Now()
			for _, p := range f.Placements {
				t.s.cfg.Metrics.Fired(js.spec.Name, js.spec.Group, string(pf.trigger), pf.at, written, p.Client != nil)
				if p.Client == nil {
					t.log.Warn("no live client; snapshot pending", "job", js.spec.Name, "group", js.spec.Group, "snapshot_id", p.Snapshot.ID)
				}
			}
		}
		return res, nil
	}
}
