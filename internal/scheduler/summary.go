package scheduler

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
)

// summarize writes the summary run of every sharded fire whose shards have
// all finished: succeeded only if every shard's final attempt succeeded.
// The write is fenced and re-checks inside etcd that no shard is live.
func (t *term) summarize(ctx context.Context) error {
	if !t.summariesDirty {
		return nil
	}
	for id, f := range t.fires {
		if t.shardsLive(f) {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		runs, err := t.st.ShardRuns(rctx, *f)
		if err == nil {
			run := summaryRun(*f, runs, t.s.cfg.Now())
			var written bool
			if written, err = t.st.WriteSummary(rctx, t.fence, *f, run); err == nil && written {
				delete(t.fires, id)
				t.log.InfoContext(telemetry.WithTraceParent(ctx, f.TraceParent), "sharded fire finished",
					"snapshot_id", id, "job", f.Job, "status", run.Status, "summary", run.Output)
			}
		}
		cancel()
		if err != nil {
			return fmt.Errorf("summarize %s: %w", id, err)
		}
	}
	t.summariesDirty = false
	return nil
}

// shardsLive reports whether a shard of f is still pending or assigned.
func (t *term) shardsLive(f *store.ShardedFire) bool {
	for id := range t.byJob[f.Job] {
		if strings.HasPrefix(id, f.ID+".s") {
			return true
		}
	}
	return false
}

// summaryRun folds the shard runs of a fire into one run: per shard its
// final (highest) attempt counts.
func summaryRun(f store.ShardedFire, runs []snapshot.Run, now time.Time) snapshot.Run {
	final := map[int]snapshot.Run{}
	for _, r := range runs {
		if cur, ok := final[r.ShardIndex]; !ok || r.Attempt > cur.Attempt {
			final[r.ShardIndex] = r
		}
	}
	sum := snapshot.Run{ID: f.ID, SnapshotID: f.ID, Job: f.Job, Group: f.Group, Trigger: f.Trigger,
		ScheduledAt: f.ScheduledAt, ShardTotal: f.ShardTotal, Status: snapshot.StatusSucceeded, FinishedAt: now.UTC()}
	var problems []string
	succeeded := 0
	var first, last *time.Time
	for i := range f.ShardTotal {
		r, ok := final[i]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("shard %d: no result", i))
		case r.Status != snapshot.StatusSucceeded:
			problems = append(problems, fmt.Sprintf("shard %d: %s (%s)", i, r.Status, r.Error))
		default:
			succeeded++
		}
		if ok && r.StartedAt != nil && (first == nil || r.StartedAt.Before(*first)) {
			first = r.StartedAt
		}
		if ok && (last == nil || r.FinishedAt.After(*last)) {
			last = &r.FinishedAt
		}
	}
	sort.Strings(problems)
	sum.Output = fmt.Sprintf("%d/%d shards succeeded", succeeded, f.ShardTotal)
	if len(problems) > 0 {
		sum.Status = snapshot.StatusFailed
		sum.Error = strings.Join(problems, "; ")
	}
	if first != nil {
		sum.StartedAt = first
	}
	if last != nil {
		sum.FinishedAt = *last
		if first != nil {
			sum.DurationSeconds = last.Sub(*first).Seconds()
		}
	}
	return sum
}
