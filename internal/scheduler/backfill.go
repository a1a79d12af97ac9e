package scheduler

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"

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
	for id, b := range t.backfills {
		if b.ModRevision < 0 {
			continue // its last step is not back from the watch yet
		}
		js := t.jobs[b.Job]
		if js == nil {
			// The job is gone, or its watch event has not come yet: the
			// drop holds only in the first case.
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			dropped, err := t.st.DropOrphanBackfill(rctx, t.fence, *b)
			cancel()
			if err != nil {
				return fmt.Errorf("drop backfill %s: %w", id, err)
			}
			if dropped {
				t.log.Info("backfill dropped: its job is gone", "backfill_id", id, "job", b.Job)
				b.ModRevision = -1
			}
			continue
		}
		serial := js.spec.Concurrency != job.ConcurrencyAllow
		if serial && len(t.byJob[b.Job]) > 0 {
			continue
		}
		per := max(1, backfillChunk/max(js.spec.Shards, 1))
		if serial {
			per = 1
		}
		end := min(len(b.Fires), b.Next+per)
		now := t.s.cfg.Now()
		var snaps []snapshot.Snapshot
		var sharded []snapshot.ShardedFire
		var spans []trace.Span
		for _, at := range b.Fires[b.Next:end] {
			base := snapshot.ForJob(&js.spec, snapshot.BackfillID(b.Job, at, b.ID), snapshot.TriggerBackfill, at, now)
			// Each backfilled fire starts its trace, as a cron fire does.
			fctx, span := t.s.cfg.Tracer.Start(context.Background(), telemetry.SpanFire, trace.WithNewRoot(),
				trace.WithAttributes(snapAttrs(&base)...))
			base.TraceParent = telemetry.TraceParent(fctx)
			spans = append(spans, span)
			shards, fire := snapshot.Split(base, js.spec.Shards, now)
			snaps = append(snaps, shards...)
			if fire != nil {
				sharded = append(sharded, *fire)
			}
		}
		counts := t.counted(b.Job, js.spec.Group, countsDelta{fire: snapshot.TriggerBackfill, fires: int64(len(snaps))})
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		written, err := t.st.BackfillStep(rctx, t.fence, *b, snaps, sharded, end, serial, counts...)
		cancel()
		outcome := "written"
		if written == nil {
			outcome = "not_written"
		}
		endSpans(spans, outcome, err)
		if err != nil {
			return fmt.Errorf("backfill %s: %w", id, err)
		}
		if written == nil {
			// A run of the job is live after all (the view was behind), the
			// request changed, or the job's counters did: the next step
			// tries again.
			if err := t.refreshCounts(ctx, counts); err != nil {
				return err
			}
			continue
		}
		b.ModRevision = -1 // until the watch brings the request's progress
		if len(written) > 0 {
			t.countsWritten(counts, written[0].ModRevision)
		}
		for i := range written {
			l := written[i]
			t.putLive(&l)
		}
		t.log.Info("backfill progressed", "backfill_id", id, "job", b.Job, "written", end-b.Next, "done", end, "of", len(b.Fires))
	}
	return nil
}
