package scheduler

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// backfillChunk bounds the snapshots one backfill step writes, to stay
// within etcd's operations per transaction.
const backfillChunk = 40

// runBackfills turns backfill requests into pending snapshots, oldest fire
// first: a chunk per step, or — for jobs that forbid overlap (forbid,
// replace) — one fire at a time, each written only when no run of the job
// is live.
func (t *term) runBackfills(ctx context.Context) error {
	for id, b := range t.view.backfills {
		if b.ModRevision < 0 {
			continue // its last step is not back from the watch yet
		}
		js := t.view.jobs[b.Job]
		if js == nil {
			if err := t.dropOrphanBackfill(ctx, b); err != nil {
				return err
			}
			continue
		}
		serial := js.spec.Concurrency != job.ConcurrencyAllow
		if serial && len(t.view.byJob[b.Job]) > 0 {
			continue
		}
		if err := t.backfillStep(ctx, js, b, serial); err != nil {
			return fmt.Errorf("backfill %s: %w", id, err)
		}
	}
	return nil
}

// dropOrphanBackfill drops a backfill request whose job is gone, or whose
// job's watch event has not come yet: the drop holds only in the first
// case.
func (t *term) dropOrphanBackfill(ctx context.Context, b *snapshot.Backfill) error {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	dropped, err := t.st.DropOrphanBackfill(rctx, t.fence, *b)
	cancel()
	if err != nil {
		return fmt.Errorf("drop backfill %s: %w", b.ID, err)
	}
	if dropped {
		t.log.Info("backfill dropped: its job is gone", "backfill_id", b.ID, "job_name", b.Job)
		b.ModRevision = -1
	}
	return nil
}

// backfillStep writes the next chunk of b: each fire starts its trace, as
// a cron fire does, and the fires are counted in the same transaction.
func (t *term) backfillStep(ctx context.Context, js *jobState, b *snapshot.Backfill, serial bool) error {
	per := max(1, backfillChunk/max(js.spec.Shards, 1))
	if serial {
		per = 1
	}
	end := min(len(b.Fires), b.Next+per)
	now := t.cfg.Now()
	var snaps []snapshot.Snapshot
	var sharded []snapshot.ShardedFire
	var spans []trace.Span
	for _, at := range b.Fires[b.Next:end] {
		base := snapshot.ForJob(&js.spec, snapshot.BackfillID(b.Job, at, b.ID), snapshot.TriggerBackfill, at, now)
		fctx, span := t.cfg.Tracer.Start(context.Background(), telemetry.SpanFire, trace.WithNewRoot(),
			trace.WithAttributes(snapAttrs(&base)...))
		base.TraceParent = telemetry.TraceParent(fctx)
		spans = append(spans, span)
		shards, fire := snapshot.Split(base, js.spec.Shards, now)
		snaps = append(snaps, shards...)
		if fire != nil {
			sharded = append(sharded, *fire)
		}
	}
	var written []snapshot.Live
	d := countsDelta{fire: snapshot.TriggerBackfill, fires: int64(len(snaps))}
	_, err := t.counts.count(ctx, b.Job, js.spec.Group, d, func(ws []store.CountsWrite) (int64, bool, bool, error) {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		var err error
		written, err = t.st.BackfillStep(rctx, t.fence, *b, snaps, sharded, end, serial, ws...)
		outcome := "written"
		if written == nil {
			outcome = "not_written"
		}
		endSpans(spans, outcome, err)
		// Not written: a run of the job is live after all (the view was
		// behind), the request changed, or the job's counters did; the
		// next step tries again, with the counters read again.
		if err != nil || written == nil {
			return 0, false, err == nil, err
		}
		return firstRevision(written), len(written) > 0, false, nil
	})
	if err != nil || written == nil {
		return err
	}
	b.ModRevision = -1 // until the watch brings the request's progress
	for i := range written {
		l := written[i]
		t.view.putLive(&l)
	}
	t.log.Info("backfill progressed", "backfill_id", b.ID, "job_name", b.Job, "written", end-b.Next, "done", end, "of", len(b.Fires))
	return nil
}

// firstRevision is the revision of snapshots written together.
func firstRevision(ls []snapshot.Live) int64 {
	if len(ls) == 0 {
		return 0
	}
	return ls[0].ModRevision
}
