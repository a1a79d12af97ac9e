package scheduler

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/store"
	"github.com/pink-scheduler/pink/pkg/telemetry"
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
		res, skipped, err := t.writePlanned(ctx, js, pf, now)
		if err != nil {
			return err
		}
		switch res.Outcome {
		case store.FireWritten:
			t.cursors[js.spec.Name] = pf.at
			if skipped {
				t.s.cfg.Metrics.Skipped(js.spec.Name, js.spec.Group, SkipForbid, 1)
				t.log.Info("fire skipped: a run of the job is in progress", "job", js.spec.Name, "scheduled_at", pf.at, "concurrency", js.spec.Concurrency)
			}
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

// writePlanned writes one planned fire, applying the job's overlap policy.
// skipped reports a run that became a cursor-only step because another run
// of the job was live (forbid).
func (t *term) writePlanned(ctx context.Context, js *jobState, pf plannedFire, now time.Time) (store.FireResult, bool, error) {
	if !pf.run {
		res, err := t.writeFire(ctx, js, pf, now, false, false)
		return res, false, err
	}
	switch js.spec.Concurrency {
	case job.ConcurrencyForbid:
		if len(t.byJob[js.spec.Name]) == 0 {
			res, err := t.writeFire(ctx, js, pf, now, true, false)
			if err != nil || res.Outcome != store.FireOverlap {
				return res, false, err
			}
			// The leader's view was behind: a run is live after all.
		}
		skip := pf
		skip.run = false
		res, err := t.writeFire(ctx, js, skip, now, false, false)
		return res, true, err
	case job.ConcurrencyReplace:
		running, err := t.replace(ctx, js)
		if err != nil {
			return store.FireResult{}, false, err
		}
		// While the old run stops, the new one waits as pending; dispatch
		// holds it until no run of the job is running.
		res, err := t.writeFire(ctx, js, pf, now, false, running)
		return res, false, err
	}
	res, err := t.writeFire(ctx, js, pf, now, false, false)
	return res, false, err
}

// replace ends the live snapshots of a job whose policy is replace:
// unstarted ones are canceled, running ones are asked to stop. It reports
// whether a run is still running.
func (t *term) replace(ctx context.Context, js *jobState) (bool, error) {
	running := false
	now := t.s.cfg.Now()
	for _, l := range t.liveOf(js.spec.Name) {
		g := t.group(l.Group)
		if l.State != snapshot.StateRunning {
			done := l.Finish(snapshot.StatusCanceled, "", "replaced by a newer fire (concurrency replace)", now)
			if _, _, err := t.moveLive(ctx, g, l, &done, nil); err != nil {
				return false, err
			}
			continue
		}
		running = true
		if l.CancelRequested {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := t.st.RequestCancel(rctx, t.fence, *l)
		cancel()
		if err != nil {
			return false, fmt.Errorf("request cancel of %s: %w", l.ID, err)
		}
		if res.Outcome == store.MoveNotLeader {
			return false, errNotLeader
		}
		if res.Live != nil {
			t.putLive(res.Live)
			t.log.Info("canceling the running snapshot: replaced by a newer fire", "snapshot_id", l.ID, "job", l.Job, "client", l.Client)
		}
	}
	return running, nil
}

// liveOf returns a job's live snapshots, oldest nominal time first.
func (t *term) liveOf(name string) []*store.Live {
	var out []*store.Live
	for _, l := range t.byJob[name] {
		out = append(out, l)
	}
	sortLive(out)
	return out
}

// writeFire builds the snapshots of one planned fire, places them on
// clients (or leaves them pending when hold is set or no client is alive),
// and writes them. A client that vanished meanwhile is dropped from the view
// and the placement is redone. A run's fire starts its trace: pink.fire,
// and a pink.dispatch span under it for each snapshot placed on a client;
// each snapshot carries the traceparent its execution continues from.
func (t *term) writeFire(ctx context.Context, js *jobState, pf plannedFire, now time.Time, forbid, hold bool) (store.FireResult, error) {
	g := t.group(js.spec.Group)
	for attempt := 0; ; attempt++ {
		f := store.Fire{Job: js.spec.Name, JobRevision: js.spec.Revision, Cursor: pf.at, Forbid: forbid}
		var spans []trace.Span
		if pf.run {
			base := snapshot.ForJob(&js.spec, snapshot.CronID(js.spec.Name, pf.at), pf.trigger, pf.at, now)
			fctx, fireSpan := t.s.cfg.Tracer.Start(context.Background(), telemetry.SpanFire, trace.WithNewRoot(),
				trace.WithAttributes(snapAttrs(&base)...))
			spans = append(spans, fireSpan)
			base.TraceParent = telemetry.TraceParent(fctx)
			f.Placements = t.place(js, g, base)
			for i := range f.Placements {
				p := &f.Placements[i]
				if hold {
					p.Client = nil
				}
				if p.Client == nil {
					continue
				}
				p.Snapshot.Client = p.Client.ID
				dctx, dspan := t.s.cfg.Tracer.Start(fctx, telemetry.SpanDispatch, trace.WithAttributes(snapAttrs(&p.Snapshot)...))
				p.Snapshot.TraceParent = telemetry.TraceParent(dctx)
				spans = append(spans, dspan)
			}
			if n := len(f.Placements); n > 1 {
				f.Sharded = &store.ShardedFire{ID: base.ID, Job: base.Job, Group: base.Group, Trigger: base.Trigger,
					ScheduledAt: base.ScheduledAt, ShardTotal: n, CreatedAt: now.UTC()}
			}
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := t.st.WriteFire(rctx, t.fence, f, t.s.cfg.Now())
		cancel()
		for i := len(spans) - 1; i >= 0; i-- {
			endSpan(spans[i], res.Outcome.String(), err)
		}
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
		if res.Outcome == store.FireWritten {
			written := t.s.cfg.Now()
			for i := range res.Written {
				l := res.Written[i]
				t.putLive(&l)
				t.s.cfg.Metrics.Fired(js.spec.Name, js.spec.Group, string(pf.trigger), pf.at, written,
					l.State != snapshot.StatePending, snapshot.TraceIDOf(l.TraceParent))
				if l.State == snapshot.StatePending && !hold {
					t.log.WarnContext(telemetry.WithTraceParent(ctx, l.TraceParent), "no live client; snapshot pending",
						"job", js.spec.Name, "group", js.spec.Group, "snapshot_id", l.ID)
				}
			}
		}
		return res, nil
	}
}
