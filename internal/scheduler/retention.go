package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// retentionBatch is how many jobs' histories one retention tick trims.
const retentionBatch = 50

// auditKeep is how many audit entries are kept (older ones also go after
// --history-max-age).
const auditKeep = 10_000

// retention trims history in the background while this node leads: per
// job, runs beyond its history_limit (or --history-limit) and runs older
// than --history-max-age, deleted jobs included. It walks the jobs a batch
// per tick, so it never competes with the fire loop for long.
func (t *term) retention(ctx context.Context) {
	tick := time.NewTicker(t.cfg.RetentionInterval)
	defer tick.Stop()
	after := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		next, err := t.trimBatch(ctx, after)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, store.ErrNotLeader) {
				t.log.Warn("history retention failed; retrying on the next tick", "err", err)
			}
			continue
		}
		after = next
	}
}

// trimBatch trims the histories of up to retentionBatch jobs after the job
// named after and returns where the next batch starts ("" to start over).
func (t *term) trimBatch(ctx context.Context, after string) (string, error) {
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cutoff := t.cfg.Now().Add(-t.cfg.HistoryMaxAge)
	if after == "" {
		// Each pass over the jobs starts with the audit log.
		if _, err := t.st.TrimAudit(rctx, t.fence, auditKeep, cutoff); err != nil {
			return after, err
		}
	}
	names, err := t.st.HistoryJobsAfter(rctx, after, retentionBatch)
	if err != nil {
		return after, err
	}
	for _, name := range names {
		limit := t.cfg.HistoryLimit
		spec, err := t.st.GetJob(rctx, name)
		switch {
		case err == nil && spec.HistoryLimit > 0:
			limit = spec.HistoryLimit
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return after, err
		}
		n, err := t.st.TrimHistory(rctx, t.fence, name, limit, cutoff)
		if err != nil {
			return after, err
		}
		if n > 0 {
			t.log.Debug("history trimmed", "job", name, "deleted", n, "limit", limit)
		}
		after = name
	}
	if len(names) < retentionBatch {
		return "", nil
	}
	return after, nil
}
