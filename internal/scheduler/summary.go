package scheduler

import (
	"context"
	"fmt"

	"github.com/pink-scheduler/pink/internal/telemetry"
)

// summarize writes the summary run of every sharded fire whose shards have
// all finished: succeeded only if every shard's final attempt succeeded.
// The write is fenced and re-checks inside etcd that no shard is live.
func (t *term) summarize(ctx context.Context) error {
	if !t.view.todo.summaries {
		return nil
	}
	for id, f := range t.view.fires {
		if t.view.shardsLive(f) {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		runs, err := t.st.ShardRuns(rctx, *f)
		if err == nil {
			run := f.Summary(runs, t.cfg.Now())
			var written bool
			if written, err = t.st.WriteSummary(rctx, t.fence, *f, run); err == nil && written {
				delete(t.view.fires, id)
				t.log.DebugContext(telemetry.WithTraceParent(ctx, f.TraceParent), "sharded fire finished",
					"snapshot_id", id, "job_name", f.Job, "status", run.Status, "summary", run.Output)
			}
		}
		cancel()
		if err != nil {
			return fmt.Errorf("summarize %s: %w", id, err)
		}
	}
	t.view.todo.summaries = false
	return nil
}
