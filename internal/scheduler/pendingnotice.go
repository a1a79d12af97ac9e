package scheduler

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// pendingNoticeEvery is how often the leader says, per group, that fires
// wait because the group has no live worker (and, per group and target,
// because none of its workers runs the target): once is news, once a
// second for every per-second job is noise that buries it.
const pendingNoticeEvery = time.Minute

// pendingNotice rate-limits the "no live client" warning per group, and
// the "no live worker runs the target" warning per group and target; the
// fires in between are logged at DEBUG and counted into the next warning.
// Only the term's goroutine uses it.
type pendingNotice struct {
	last map[string]time.Time
	held map[string]int
}

// due reports whether the warning of key is due at now; if not, it counts
// the fire into the next one. held is how many it counted since the last.
func (p *pendingNotice) due(now time.Time, key string) (held int, ok bool) {
	if p.last == nil {
		p.last, p.held = map[string]time.Time{}, map[string]int{}
	}
	if last, seen := p.last[key]; seen && now.Sub(last) < pendingNoticeEvery {
		p.held[key]++
		return 0, false
	}
	held = p.held[key]
	p.last[key], p.held[key] = now, 0
	return held, true
}

// pending notes a fire of job that waits because its group has no live
// client.
func (p *pendingNotice) pending(ctx context.Context, log *slog.Logger, now time.Time, group, job, id string) {
	held, ok := p.due(now, group)
	if !ok {
		log.DebugContext(ctx, "no live client; snapshot pending", "job_name", job, "group", group, "snapshot_id", id)
		return
	}
	log.WarnContext(ctx, "no live client; snapshot pending until a worker of the group registers",
		"job_name", job, "group", group, "snapshot_id", id, "also_pending_since_last_notice", held)
}

// noTarget notes a fire of job that waits because no live client of its
// group runs its target; offered are the targets they run.
func (p *pendingNotice) noTarget(ctx context.Context, log *slog.Logger, now time.Time, group, target, job, id string, offered []string) {
	held, ok := p.due(now, group+"\x00"+target)
	if !ok {
		log.DebugContext(ctx, "no live worker runs the target; snapshot pending", "job_name", job, "group", group, "target", target, "snapshot_id", id)
		return
	}
	log.WarnContext(ctx, "no live worker of the group runs the job's target; snapshot pending until one that does registers",
		"job_name", job, "group", group, "target", target, "live_workers_run", strings.Join(offered, ","), "snapshot_id", id,
		"also_pending_since_last_notice", held)
}
