package scheduler

import (
	"context"
	"log/slog"
	"time"
)

// pendingNoticeEvery is how often the leader says, per group, that fires
// wait because the group has no live worker: once is news, once a second
// for every per-second job is noise that buries it.
const pendingNoticeEvery = time.Minute

// pendingNotice rate-limits the "no live client" warning per group; the
// fires in between are logged at DEBUG and counted into the next warning.
// Only the term's goroutine uses it.
type pendingNotice struct {
	last map[string]time.Time
	held map[string]int
}

func (p *pendingNotice) pending(ctx context.Context, log *slog.Logger, now time.Time, group, job, id string) {
	if p.last == nil {
		p.last, p.held = map[string]time.Time{}, map[string]int{}
	}
	if last, ok := p.last[group]; ok && now.Sub(last) < pendingNoticeEvery {
		p.held[group]++
		log.DebugContext(ctx, "no live client; snapshot pending", "job", job, "group", group, "snapshot_id", id)
		return
	}
	log.WarnContext(ctx, "no live client; snapshot pending until a worker of the group registers",
		"job", job, "group", group, "snapshot_id", id, "also_pending_since_last_notice", p.held[group])
	p.last[group], p.held[group] = now, 0
}
