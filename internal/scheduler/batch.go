package scheduler

import (
	"context"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"go.opentelemetry.io/otel/trace"
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
		cmps += 2 // the snapshot is not live, and has not run (createLive)
		ops += 2
		bytes += len(p.Snapshot.Params) + 1024
		if p.Client != nil && !clients[p.Client.ID] && !seen[p.Client.ID] {
			seen[p.Client.ID] = true
			cmps++
		}
	}
	return cmps, ops, bytes
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
	c, ok := t.view.cursors[js.spec.Name]
	cur := c.at
	if !ok {
		return batchFire{}, false
	}
	plan := t.plan(js, cur, now)
	if len(plan.fires) == 0 || t.view.live[snapshot.CronID(js.spec.Name, plan.fires[0].at)] != nil {
		// Nothing to write yet, or a fire that is live already (fireJob
		// only moves the cursor past it).
		return batchFire{}, false
	}
	return batchFire{js: js, pf: plan.fires[0], skipped: plan.skipped}, true
}

// txnBatch is fires written in one transaction.
type txnBatch struct {
	planned []batchFire
	fires   []store.Fire
	spans   []trace.Span
	results []store.FireResult
	err     error
}

// fireBatches prepares the fires of jobs, packs them into transactions
// within etcd's limits, writes those concurrently, and folds the results
// in. It returns the jobs of refused batches, to write one by one.
func (t *term) fireBatches(ctx context.Context, planned []batchFire) []*jobState {
	if len(planned) < 2 {
		// One fire learns its outcome best on its own.
		var jobs []*jobState
		for _, p := range planned {
			jobs = append(jobs, p.js)
		}
		return jobs
	}
	var batches []*txnBatch
	var cur *txnBatch
	var cmps, ops, size int
	var clients map[string]bool
	for _, p := range planned {
		f, spans := t.prepareFire(p.js, p.pf, false, false)
		f.Counts = t.counts.forCursor(f.Job, p.pf.trigger, len(f.Placements), p.skipped)
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
		cur.planned, cur.fires = append(cur.planned, p), append(cur.fires, f)
		cur.spans = append(cur.spans, spans...)
	}
	if cur != nil {
		batches = append(batches, cur)
	}

	sem := make(chan struct{}, batchesInFlight)
	var wg sync.WaitGroup
	now := t.cfg.Now()
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
			for _, p := range b.planned {
				rest = append(rest, p.js)
			}
			continue
		}
		for i, p := range b.planned {
			t.view.ownCursor(p.js.spec.Name, p.pf.at, b.fires[i].Counts, b.results[i].Revision)
			t.noteSkipped(p.js, p.skipped)
			t.written(ctx, p.js, p.pf, b.results[i], false)
			t.reschedule(p.js)
		}
	}
	return rest
}
