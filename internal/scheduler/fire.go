package scheduler

import (
	"context"
	"fmt"
	"maps"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// fireDue writes every fire that is due now. The common case — the next
// fire of a job that allows overlap, one snapshot — is written in batches
// (several fires per transaction, several transactions in flight), even
// when late: a scheduler that fell behind catches up in batches too, the
// next step taking each job's following fire. Everything else, and any
// batch that fails, goes one job at a time. A job whose write failed with
// an etcd error stays due and is retried on the next step.
func (t *term) fireDue(ctx context.Context) error {
	now := t.cfg.Now()
	var due []*jobState
	for js := t.queue.peek(); js != nil && !js.writeAt.After(now); js = t.queue.peek() {
		t.queue.remove(js)
		due = append(due, js)
	}
	var single []*jobState
	var batchable []batchFire
	for _, js := range due {
		if p, ok := t.batchable(js, now); ok {
			batchable = append(batchable, p)
		} else {
			single = append(single, js)
		}
	}
	single = append(single, t.fireBatches(ctx, batchable)...)
	var firstErr error
	for _, js := range single {
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
		if t.view.jobs[js.spec.Name] == js {
			t.reschedule(js)
		}
	}()
	plan := t.plan(js, t.view.cursors[js.spec.Name].at, now)
	for i, pf := range plan.fires {
		if pf.run && t.view.live[snapshot.CronID(js.spec.Name, pf.at)] != nil {
			// Decided again after a take-back, but this fire is live: it
			// started before its job changed (see settleStale). Only the
			// cursor moves past it.
			pf.run = false
		}
		// The first write of a plan counts the fires the plan skips.
		var planSkipped map[snapshot.SkipReason]int
		if i == 0 {
			planSkipped = plan.skipped
		}
		res, skipped, err := t.writePlanned(ctx, js, pf, now, planSkipped)
		if err != nil {
			return err
		}
		switch res.Outcome {
		case store.FireWritten:
			if skipped {
				t.log.Debug("fire skipped: a run of the job is in progress", "job_name", js.spec.Name, "scheduled_at", pf.at, "concurrency", js.spec.Concurrency)
			}
			if i == 0 {
				t.noteSkipped(js, plan.skipped)
			}
		case store.FireNotLeader:
			return errNotLeader
		case store.FireJobChanged:
			// The job changed after we read it; its watch event brings the
			// new revision, which reschedules it.
			js.staleRev = js.spec.Revision
			return nil
		case store.FireCursorAhead:
			t.view.ownCursor(js.spec.Name, res.Cursor, res.CursorCounts, res.CursorRevision)
			return nil
		case store.FireDuplicate:
			// This fire ran already: it was decided again after a take-back
			// (see settleStale), and started before its job changed. Only
			// the cursor moves past it.
			step := pf
			step.run = false
			if res, err = t.writeFire(ctx, js, step, now, false, false, nil); err != nil {
				return err
			}
			if res.Outcome != store.FireWritten {
				return fmt.Errorf("move the cursor past fire %s of %s: %s", pf.at, js.spec.Name, res.Outcome)
			}
		default:
			return fmt.Errorf("unexpected fire outcome %s", res.Outcome)
		}
	}
	return nil
}

// noteSkipped logs the fires a written plan skipped (they are counted in
// the cursor the write stored).
func (t *term) noteSkipped(js *jobState, skipped map[snapshot.SkipReason]int) {
	if n := total(skipped); n > 0 {
		t.log.Info("missed fires skipped", "job_name", js.spec.Name, "skipped", skipped, "policy", js.spec.Misfire)
	}
}

func total(m map[snapshot.SkipReason]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// writePlanned writes one planned fire, applying the job's overlap policy.
// skipped reports a run that became a cursor-only step because another run
// of the job was live (forbid). planSkipped are the plan's skipped fires,
// counted with this write.
func (t *term) writePlanned(ctx context.Context, js *jobState, pf plannedFire, now time.Time, planSkipped map[snapshot.SkipReason]int) (store.FireResult, bool, error) {
	if !pf.run {
		res, err := t.writeFire(ctx, js, pf, now, false, false, planSkipped)
		return res, false, err
	}
	switch js.spec.Concurrency {
	case job.ConcurrencyForbid:
		if len(t.view.byJob[js.spec.Name]) == 0 {
			res, err := t.writeFire(ctx, js, pf, now, true, false, planSkipped)
			if err != nil || res.Outcome != store.FireOverlap {
				return res, false, err
			}
			// The leader's view was behind: a run is live after all.
		}
		skip := pf
		skip.run = false
		skipped := maps.Clone(planSkipped)
		if skipped == nil {
			skipped = map[snapshot.SkipReason]int{}
		}
		skipped[snapshot.SkipForbid]++
		res, err := t.writeFire(ctx, js, skip, now, false, false, skipped)
		return res, true, err
	case job.ConcurrencyReplace:
		running, err := t.replace(ctx, js)
		if err != nil {
			return store.FireResult{}, false, err
		}
		// While the old run stops, the new one waits as pending; dispatch
		// holds it until no run of the job is running.
		res, err := t.writeFire(ctx, js, pf, now, false, running, planSkipped)
		return res, false, err
	}
	res, err := t.writeFire(ctx, js, pf, now, false, false, planSkipped)
	return res, false, err
}

// replace ends the live snapshots of a job whose policy is replace:
// unstarted ones are canceled, running ones are asked to stop. It reports
// whether a run is still running.
func (t *term) replace(ctx context.Context, js *jobState) (bool, error) {
	running := false
	now := t.cfg.Now()
	for _, l := range t.view.liveOf(js.spec.Name) {
		g := t.view.group(l.Group)
		if l.State != snapshot.StateRunning {
			done := l.Finish(snapshot.StatusCanceled, "", "replaced by a newer fire (concurrency replace)", now)
			if _, _, err := t.moveLive(ctx, g, l, &done, nil, countsDelta{}); err != nil {
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
			t.view.putLive(res.Live)
			t.log.DebugContext(telemetry.WithTraceParent(ctx, l.TraceParent), "canceling the running snapshot: replaced by a newer fire",
				"snapshot_id", l.ID, "job_name", l.Job, "client", l.Client)
		}
	}
	return running, nil
}

// prepareFire builds the snapshots of one planned fire and places them on
// clients (or leaves them pending when hold is set or no client is alive).
// A run's fire starts its trace: pink.fire, and a pink.dispatch span under
// it for each snapshot placed on a client; each snapshot carries the
// traceparent its execution continues from. The spans end with the write.
func (t *term) prepareFire(js *jobState, pf plannedFire, forbid, hold bool) (store.Fire, []trace.Span) {
	g := t.view.group(js.spec.Group)
	f := store.Fire{Job: js.spec.Name, JobRevision: js.spec.Revision, Cursor: pf.at, Forbid: forbid}
	if !pf.run {
		return f, nil
	}
	writeAt := t.cfg.Now()
	base := snapshot.ForJob(&js.spec, snapshot.CronID(js.spec.Name, pf.at), pf.trigger, pf.at, writeAt)
	base.WrittenAhead = pf.at.After(writeAt)
	fctx, fireSpan := t.cfg.Tracer.Start(context.Background(), telemetry.SpanFire, trace.WithNewRoot(),
		trace.WithAttributes(snapAttrs(&base)...))
	spans := []trace.Span{fireSpan}
	base.TraceParent = telemetry.TraceParent(fctx)
	f.Placements, f.Sharded = place(js, g, base, writeAt)
	for i := range f.Placements {
		p := &f.Placements[i]
		if hold {
			p.Client = nil
		}
		if p.Client == nil {
			continue
		}
		p.Snapshot.Client = p.Client.ID
		dctx, dspan := t.cfg.Tracer.Start(fctx, telemetry.SpanDispatch, trace.WithSpanKind(dispatchKind), trace.WithAttributes(snapAttrs(&p.Snapshot)...))
		p.Snapshot.TraceParent = telemetry.TraceParent(dctx)
		spans = append(spans, dspan)
	}
	return f, spans
}

func endSpans(spans []trace.Span, outcome string, err error) {
	for i := len(spans) - 1; i >= 0; i-- {
		endSpan(spans[i], outcome, err)
	}
}

// written folds a written fire into the view and the metrics.
func (t *term) written(ctx context.Context, js *jobState, pf plannedFire, res store.FireResult, hold bool) {
	at := t.cfg.Now()
	for i := range res.Written {
		l := res.Written[i]
		t.view.putLive(&l)
		t.cfg.Metrics.Fired(l.Group, string(pf.trigger), pf.at, at, l.State != snapshot.StatePending, snapshot.TraceIDOf(l.TraceParent))
		if l.State == snapshot.StatePending && !hold {
			t.notePending(telemetry.WithTraceParent(ctx, l.TraceParent), at, &l)
		}
	}
}

// notePending says (rate-limited) why a fire was written pending: its
// group has no live client, or none of them runs its target.
func (t *term) notePending(ctx context.Context, at time.Time, l *snapshot.Live) {
	g := t.view.group(l.Group)
	if len(g.available()) == 0 {
		t.pendingNotice.pending(ctx, t.log, at, l.Group, l.Job, l.ID)
		return
	}
	t.pendingNotice.noTarget(ctx, t.log, at, l.Group, l.Target, l.Job, l.ID, g.offered())
}

// writeFire prepares and writes one planned fire, with the fires it skips
// counted in the cursor. A client that vanished meanwhile is dropped from
// the view and the placement is redone.
func (t *term) writeFire(ctx context.Context, js *jobState, pf plannedFire, now time.Time, forbid, hold bool, skipped map[snapshot.SkipReason]int) (store.FireResult, error) {
	g := t.view.group(js.spec.Group)
	for attempt := 0; ; attempt++ {
		f, spans := t.prepareFire(js, pf, forbid, hold)
		f.Counts = t.counts.forCursor(f.Job, pf.trigger, len(f.Placements), skipped)
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := t.st.WriteFire(rctx, t.fence, f, t.cfg.Now())
		cancel()
		endSpans(spans, res.Outcome.String(), err)
		if err != nil {
			return res, err
		}
		if res.Outcome == store.FireClientGone && attempt < 3 {
			for _, id := range res.GoneClients {
				g.dropClient(id)
			}
			continue
		}
		if res.Outcome == store.FireWritten {
			t.view.ownCursor(js.spec.Name, pf.at, f.Counts, res.Revision)
			t.written(ctx, js, pf, res, hold)
		}
		return res, nil
	}
}
