package scheduler

import (
	"cmp"
	"context"
	"errors"
	"sort"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// retentionBatch is how many jobs' histories one pass tick trims.
const retentionBatch = 50

// maxTrimsPerTick bounds the jobs trimmed in one second for being due, so
// that a new leader facing many jobs spreads the work.
const maxTrimsPerTick = 200

// auditKeep is how many audit entries are kept (older ones also go after
// --history-max-age).
const auditKeep = 10_000

// trimTarget is what retention knows of a job: the term publishes the list
// from its view (retention runs in its own goroutine and must not touch
// the view).
type trimTarget struct {
	name     string
	interval time.Duration
	limit    int // the job's history_limit; 0 for the scheduler's default
}

// publishTargets gives retention the current jobs, at most once a second
// (a burst of job changes costs one rebuild).
func (t *term) publishTargets() {
	now := t.cfg.Now()
	if !t.targetsDirty || now.Sub(t.targetsAt) < time.Second {
		return
	}
	list := make([]trimTarget, 0, len(t.view.jobs))
	for name, js := range t.view.jobs {
		list = append(list, trimTarget{name: name, interval: js.interval, limit: js.spec.HistoryLimit})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	t.targets.Store(&list)
	t.targetsDirty, t.targetsAt = false, now
}

// retention keeps history bounded while this node leads, in runs per job
// (history_limit or --history-limit), in age (--history-max-age) and in
// bytes (--history-max-bytes, see historyKeep). Each job is trimmed when
// it has fired about slack times since its last trim, so no job runs far
// past its share however fast it fires; every RetentionInterval a batch of
// all jobs with history, deleted ones included, is trimmed too, which
// catches manual runs, retries, old rows and the audit log.
func (t *term) retention(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	due := map[string]time.Time{}
	after, nextPass := "", t.cfg.Now().Add(t.cfg.RetentionInterval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var targets []trimTarget
		if p := t.targets.Load(); p != nil {
			targets = *p
		}
		err := t.trimDue(ctx, targets, due)
		if now := t.cfg.Now(); err == nil && !now.Before(nextPass) {
			after, err = t.trimBatch(ctx, after, len(targets))
			nextPass = now.Add(t.cfg.RetentionInterval)
		}
		if err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrNotLeader) {
			t.log.Warn("history retention failed; retrying on the next tick", "err", err)
		}
	}
}

// keep is how many runs a job of limit keeps among jobs, and its slack.
func (t *term) keep(jobs, limit int) (keep, slack int) {
	return historyKeep(t.cfg.HistoryMaxBytes, jobs, cmp.Or(limit, t.cfg.HistoryLimit))
}

// trimDue trims the jobs whose next trim is due, at most maxTrimsPerTick,
// and sets when each is due again: after slack of its fires.
func (t *term) trimDue(ctx context.Context, targets []trimTarget, due map[string]time.Time) error {
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	now, cutoff := t.cfg.Now(), t.cfg.Now().Add(-t.cfg.HistoryMaxAge)
	t.reportKeep(len(targets))
	trimmed := 0
	for _, tg := range targets {
		if due[tg.name].After(now) {
			continue
		}
		if trimmed == maxTrimsPerTick {
			break
		}
		keep, slack := t.keep(len(targets), tg.limit)
		n, err := t.st.TrimHistory(rctx, t.fence, tg.name, keep, cutoff)
		if err != nil {
			return err
		}
		t.cfg.Space.HistoryTrimmed(n)
		trimmed++
		every := tg.interval
		if every <= 0 {
			every = time.Hour
		}
		due[tg.name] = now.Add(min(time.Duration(slack)*every, t.cfg.RetentionInterval*30))
	}
	if len(due) > 2*len(targets)+100 {
		// Forget jobs that are gone.
		live := make(map[string]bool, len(targets))
		for _, tg := range targets {
			live[tg.name] = true
		}
		for name := range due {
			if !live[name] {
				delete(due, name)
			}
		}
	}
	return nil
}

// reportKeep exports the runs each job keeps under the byte budget, and
// says so once when the budget, not history_limit, decides it.
func (t *term) reportKeep(jobs int) {
	keep, _ := t.keep(jobs, t.cfg.HistoryLimit)
	t.cfg.Space.HistoryKeep(keep)
	if keep < t.cfg.HistoryLimit && keep != t.budgetKept {
		t.log.Info("history is bounded by --history-max-bytes: each job keeps fewer runs than --history-limit",
			"runs_per_job", keep, "history_limit", t.cfg.HistoryLimit, "jobs", jobs, "history_max_bytes", t.cfg.HistoryMaxBytes)
	}
	t.budgetKept = keep
}

// trimBatch trims the histories of up to retentionBatch jobs after the job
// named after and returns where the next batch starts ("" to start over).
func (t *term) trimBatch(ctx context.Context, after string, jobs int) (string, error) {
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
		limit := 0
		spec, err := t.st.GetJob(rctx, name)
		switch {
		case err == nil:
			limit = spec.HistoryLimit
		case !errors.Is(err, store.ErrNotFound):
			return after, err
		}
		keep, _ := t.keep(jobs, limit)
		n, err := t.st.TrimHistory(rctx, t.fence, name, keep, cutoff)
		if err != nil {
			return after, err
		}
		t.cfg.Space.HistoryTrimmed(n)
		if n > 0 {
			t.log.Debug("history trimmed", "job_name", name, "deleted", n, "keep", keep)
		}
		after = name
	}
	if len(names) < retentionBatch {
		return "", nil
	}
	return after, nil
}
