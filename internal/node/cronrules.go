package node

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// cronRules is the revision from which jobs follow crontab(5)'s reading
// of schedules (store.CronRulesSince), once this node has read it: a node
// starts, and serves, without etcd.
type cronRules struct{ since atomic.Int64 }

// Since is the revision, 0 until read.
func (c *cronRules) Since() int64 { return c.since.Load() }

// run reads (or, first in the cluster, writes) the mark, retrying while
// etcd is away, then logs the upgrade report once.
func (c *cronRules) run(ctx context.Context, st *store.Store, log *slog.Logger) error {
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		since, err := st.CronRulesSince(attempt)
		cancel()
		if err == nil {
			c.since.Store(since)
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	reportRuleChanges(ctx, st, c.Since(), log)
	return nil
}

// ruleChangesLogged bounds the per-job lines of the upgrade report; the
// API (GET /api/v1/schedules/changes) lists them all.
const ruleChangesLogged = 100

// reportRuleChanges logs, once at start, the jobs written before pink read
// schedules as crontab(5) does whose next fires moved, and those whose
// schedule a new job could not use: an upgrade reports every job it
// changes. A failure to read is logged, not fatal: the report is advice.
func reportRuleChanges(ctx context.Context, st *store.Store, since int64, log *slog.Logger) {
	moved, refused, after := 0, 0, ""
	for {
		page, err := st.JobsWrittenBefore(ctx, since, after, 500)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("could not check the stored jobs' schedules against crontab(5)'s rules", "err", err)
			}
			return
		}
		now := time.Now()
		for _, spec := range page.Jobs {
			sched, err := spec.ParsedSchedule()
			if err != nil {
				continue // the scheduler logs it as an invalid schedule
			}
			if c, ok := sched.RuleChange(now); ok {
				if moved++; moved+refused <= ruleChangesLogged {
					log.Warn("job's schedule now fires as in cron: a day field starting with * makes the day fields combine with AND",
						"job_name", spec.Name, "schedule", spec.Schedule, "timezone", spec.Timezone,
						"old_next", c.OldNext, "new_next", c.NewNext, "keep_old_schedule", c.KeepOld)
				}
			}
			if why := sched.Refused(); why != "" {
				if refused++; moved+refused <= ruleChangesLogged {
					log.Warn("job's schedule would be refused for a new job; it keeps firing as before",
						"job_name", spec.Name, "schedule", spec.Schedule, "reason", why)
				}
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if moved+refused > 0 {
		log.Warn("jobs written before pink read schedules as crontab(5) does need a look: list them with `pink schedule changes`",
			"fires_moved", moved, "refused_for_new_jobs", refused)
	}
}
