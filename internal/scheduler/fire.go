package scheduler

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Batching limits: etcd allows 128 compares and 128 operations per
// transaction and 1.5 MiB per request by default; a batch stays under
// maxBatchOps of each and about maxBatchBytes. Up to batchesInFlight
// batches are written at once.
const (
	maxBatchOps     = 120
	maxBatchBytes   = 512 << 10
	batchesInFlight = 8
)

// fireCost is what f adds to a batch that already compares on clients: the
// compares, the operations, and about the bytes (a snapshot's params are
// all that can be large).
func fireCost(f store.Fire, clients map[string]bool) (cmps, ops, bytes int) {
	cmps, ops = 2, 1
	seen := map[string]bool{}
	for _, p := range f.Placements {
		cmps++
		ops += 2
		bytes += len(p.Snapshot.Params) + 1024
		if p.Client != nil && !clients[p.Client.ID] && !seen[p.Client.ID] {
			seen[p.Client.ID] = true
			cmps++
		}
	}
	return cmps, ops, bytes
}

// fireDue writes every fire that is due now. The common case — the next
// fire of a job that allows overlap, one snapshot — is written in batches
// (several fires per transaction, several transactions in flight), even
// when late: a scheduler that fell behind catches up in batches too, the
// next step taking each job's following fire. Everything else, and any
// batch that fails, goes one job at a time. A job whose write failed with
// an etcd error stays due and is retried on the next step.
func (t *term) fireDue(ctx context.Context) error {
	now := t.s.cfg.Now()
	var due []*jobState
	for js := t.queue.peek(); js != nil && !js.next.After(now); js = t.queue.peek() {
		t.queue.remove(js)
		due = append(due, js)
	}
	var single []*jobState
	var batchable []batchFire
	for _, js := range due {
		if bf, ok := t.batchable(js, now); ok {
			batchable = append(batchable, bf)
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

// batchFire is the next planned fire of a job, to write in a batch, and
// the fires the plan skips on the way there.
type batchFire struct {
	js      *jobState
	pf      plannedFire
	skipped map[snapshot.SkipReason]int
}

// batchable plans a due job's fires and reports whether the first one is a
// simple case: overlap allowed, one snapshot, no trigger-time decision.
func (t *term) batchable(js *jobState, now time.Time) (batchFire, bool) {
	if js.spec.Concurrency != job.ConcurrencyAllow || js.spec.Shards > 1 || js.spec.Strategy == job.StrategyBroadcast {
		return batchFire{}, false
	}
	cur, ok := t.cursors[js.spec.Name]
	if !ok {
		return batchFire{}, false
	}
	plan := planFires(js.sched, &js.spec, cur, now, t.s.cfg.MisfireThreshold)
	return batchFire{js: js, pf: plan.fires[0], skipped: plan.skipped}, true
}

// txnBatch is fires written in one transaction.
type txnBatch struct {
	bfs     []batchFire
	fires   []store.Fire
	spans   []trace.Span
	results []store.FireResult
	err     error
}

// fireBatches prepares the fires of jobs, packs them into transactions
// within etcd's limits, writes those concurrently, and folds the results
// in. It returns the jobs of refused batches, to write one by one.
func (t *term) fireBatches(ctx context.Context, bfs []batchFire) []*jobState {
	if len(bfs) < 2 {
		// One fire learns its outcome best on its own.
		var jobs []*jobState
		for _, bf := range bfs {
			jobs = append(jobs, bf.js)
		}
		return jobs
	}
	var batches []*txnBatch
	var cur *txnBatch
	var cmps, ops, size int
	var clients map[string]bool
	for _, bf := range bfs {
		f, spans := t.prepareFire(bf.js, bf.pf, false, false)
		t.withCounts(&f, bf.pf.trigger, bf.skipped)
		fc, fo, fb := fireCost(f, clients)
		if cur != nil && (cmps+fc > maxBatchOps || ops+fo > maxBatchOps || size+fb > maxBatchBytes) {
			batches = append(batches, cur)
			cur = nil
		}
		if cur == nil {
			cur, cmps, ops, size, clients = &txnBatch{}, 1, 0, 0, map[string]bool{}
			fc, fo, fb = fireCost(f, clients)
		}
		for _, p := range f.Placements {
			if p.Client != nil {
				clients[p.Client.ID] = true
			}
		}
		cmps, ops, size = cmps+fc, ops+fo, size+fb
		cur.bfs, cur.fires = append(cur.bfs, bf), append(cur.fires, f)
		cur.spans = append(cur.spans, spans...)
	}
	if cur != nil {
		batches = append(batches, cur)
	}

	sem := make(chan struct{}, batchesInFlight)
	var wg sync.WaitGroup
	now := t.s.cfg.Now()
	for _, b := range batches {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			defer cancel()
			b.results, b.err = t.st.WriteFires(rctx, t.fence, b.fires, now)
		}()
	}
	wg.Wait()

	var rest []*jobState
	for _, b := range batches {
		ok := b.err == nil && b.results != nil
		outcome := "written"
		if !ok {
			outcome = "batch_refused"
		}
		endSpans(b.spans, outcome, b.err)
		if !ok {
			// Written one by one, each fire learns why (and is not doubled:
			// the cursor compare holds there too).
			for _, bf := range b.bfs {
				rest = append(rest, bf.js)
			}
			continue
		}
		for i, bf := range b.bfs {
			t.setCursor(bf.js.spec.Name, bf.pf.at, b.fires[i].Counts)
			t.noteSkipped(bf.js, bf.skipped)
			t.written(ctx, bf.js, bf.pf, b.results[i], false)
			t.reschedule(bf.js)
		}
	}
	return rest
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
				t.log.Info("fire skipped: a run of the job is in progress", "job", js.spec.Name, "scheduled_at", pf.at, "concurrency", js.spec.Concurrency)
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
			t.setCursor(js.spec.Name, res.Cursor, res.CursorCounts)
			return nil
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
		t.log.Info("missed fires skipped", "job", js.spec.Name, "skipped", skipped, "policy", js.spec.Misfire)
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
		if len(t.byJob[js.spec.Name]) == 0 {
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
	now := t.s.cfg.Now()
	for _, l := range t.liveOf(js.spec.Name) {
		g := t.group(l.Group)
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
			t.putLive(res.Live)
			t.log.InfoContext(telemetry.WithTraceParent(ctx, l.TraceParent), "canceling the running snapshot: replaced by a newer fire",
				"snapshot_id", l.ID, "job", l.Job, "client", l.Client)
		}
	}
	return running, nil
}

// liveOf returns a job's live snapshots, oldest nominal time first.
func (t *term) liveOf(name string) []*snapshot.Live {
	var out []*snapshot.Live
	for _, l := range t.byJob[name] {
		out = append(out, l)
	}
	sortLive(out)
	return out
}

// prepareFire builds the snapshots of one planned fire and places them on
// clients (or leaves them pending when hold is set or no client is alive).
// A run's fire starts its trace: pink.fire, and a pink.dispatch span under
// it for each snapshot placed on a client; each snapshot carries the
// traceparent its execution continues from. The spans end with the write.
func (t *term) prepareFire(js *jobState, pf plannedFire, forbid, hold bool) (store.Fire, []trace.Span) {
	g := t.group(js.spec.Group)
	f := store.Fire{Job: js.spec.Name, JobRevision: js.spec.Revision, Cursor: pf.at, Forbid: forbid}
	if !pf.run {
		return f, nil
	}
	writeAt := t.s.cfg.Now()
	base := snapshot.ForJob(&js.spec, snapshot.CronID(js.spec.Name, pf.at), pf.trigger, pf.at, writeAt)
	fctx, fireSpan := t.s.cfg.Tracer.Start(context.Background(), telemetry.SpanFire, trace.WithNewRoot(),
		trace.WithAttributes(snapAttrs(&base)...))
	spans := []trace.Span{fireSpan}
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
		f.Sharded = &snapshot.ShardedFire{ID: base.ID, Job: base.Job, Group: base.Group, Trigger: base.Trigger,
			ScheduledAt: base.ScheduledAt, ShardTotal: n, CreatedAt: writeAt.UTC(), TraceParent: base.TraceParent}
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
	at := t.s.cfg.Now()
	for i := range res.Written {
		l := res.Written[i]
		t.putLive(&l)
		t.s.cfg.Metrics.Fired(string(pf.trigger), pf.at, at, l.State != snapshot.StatePending, snapshot.TraceIDOf(l.TraceParent))
		if l.State == snapshot.StatePending && !hold {
			t.log.WarnContext(telemetry.WithTraceParent(ctx, l.TraceParent), "no live client; snapshot pending",
				"job", js.spec.Name, "group", js.spec.Group, "snapshot_id", l.ID)
		}
	}
}

// writeFire prepares and writes one planned fire, with the fires it skips
// counted in the cursor. A client that vanished meanwhile is dropped from
// the view and the placement is redone.
func (t *term) writeFire(ctx context.Context, js *jobState, pf plannedFire, now time.Time, forbid, hold bool, skipped map[snapshot.SkipReason]int) (store.FireResult, error) {
	g := t.group(js.spec.Group)
	for attempt := 0; ; attempt++ {
		f, spans := t.prepareFire(js, pf, forbid, hold)
		t.withCounts(&f, pf.trigger, skipped)
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := t.st.WriteFire(rctx, t.fence, f, t.s.cfg.Now())
		cancel()
		endSpans(spans, res.Outcome.String(), err)
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
			t.setCursor(js.spec.Name, pf.at, f.Counts)
			t.written(ctx, js, pf, res, hold)
		}
		return res, nil
	}
}
