package store

import (
	"strings"
)

// keys builds every etcd key pink uses. All keys live under one root
// (default /pink) so several pink clusters can share an etcd.
type keys struct{ root string }

func (k keys) electionPrefix() string { return k.root + "/node/election" }
func (k keys) nodePrefix() string     { return k.root + "/node/instances/" }

// node/compaction is the leader's compaction mark: its mod revision is
// the revision of the last mark (see Store.MarkCompaction).
func (k keys) compaction() string { return k.root + "/node/compaction" }

// node/clock holds the leader's wall time, republished every few seconds:
// workers measure their clock's offset from it (see Store.PublishClock).
func (k keys) clock() string { return k.root + "/node/clock" }

// node/cron-rules marks when pink began to read cron expressions as
// crontab(5) does: its create revision (see Store.CronRulesSince).
func (k keys) cronRules() string        { return k.root + "/node/cron-rules" }
func (k keys) node(id string) string    { return k.nodePrefix() + id }
func (k keys) groupPrefix() string      { return k.root + "/group/instances/" }
func (k keys) group(name string) string { return k.groupPrefix() + name }

// group/jobs/<group>/<job> indexes jobs by group, so deleting a group can
// check inside its transaction that no job uses it.
func (k keys) groupJobs(g string) string     { return k.root + "/group/jobs/" + g + "/" }
func (k keys) groupJob(g, job string) string { return k.groupJobs(g) + job }
func (k keys) clientsPrefix() string         { return k.root + "/client/" }
func (k keys) clientPrefix(g string) string  { return k.clientsPrefix() + g + "/instances/" }
func (k keys) client(g, id string) string    { return k.clientPrefix(g) + id }
func (k keys) jobPrefix() string             { return k.root + "/job/conf/" }
func (k keys) job(name string) string        { return k.jobPrefix() + name }

// job/last/<job>/{success,failure} hold the finish time of the job's last
// succeeded and last failed run, for "should have run" alerts.
func (k keys) lastPrefix() string              { return k.root + "/job/last/" }
func (k keys) lastOfJob(job string) string     { return k.lastPrefix() + job + "/" }
func (k keys) last(job, outcome string) string { return k.lastOfJob(job) + outcome }
func (k keys) cursorPrefix() string            { return k.root + "/schedule/cursor/" }
func (k keys) cursor(job string) string        { return k.cursorPrefix() + job }
func (k keys) pendingPrefix() string           { return k.root + "/schedule/snapshots/" }
func (k keys) pending(id string) string        { return k.pendingPrefix() + id }

// pendingOfJob is the prefix of a job's pending snapshots: ids start with
// "<job>@" and '@' cannot occur in a name.
func (k keys) pendingOfJob(job string) string { return k.pendingPrefix() + job + "@" }

func (k keys) assignPrefix() string                  { return k.root + "/execute/snapshots/" }
func (k keys) assignGroupPrefix(g string) string     { return k.assignPrefix() + g + "/" }
func (k keys) assignClientPrefix(g, c string) string { return k.assignGroupPrefix(g) + c + "/" }
func (k keys) assign(g, c, id string) string         { return k.assignClientPrefix(g, c) + id }

// active/<job>/<snapshot-id> exists from the creation of an exclusive
// snapshot (see exclusive) until its final attempt ends: overlap rules
// compare on the job's whole prefix.
func (k keys) activeOfJob(job string) string { return k.root + "/execute/active/" + job + "/" }
func (k keys) active(job, id string) string  { return k.activeOfJob(job) + id }

// active/<job>/switch marks a job that became forbid while snapshots
// without an active entry may still be live (see settleSwitch). It sorts
// in the job's active prefix, so overlap checks see it; a snapshot id
// always holds '@', so no entry is named so.
func (k keys) activeSwitch(job string) string { return k.activeOfJob(job) + "switch" }

// fires/<job>/<snapshot-id> tracks a sharded fire until its summary run is
// written.
func (k keys) firePrefix() string               { return k.root + "/execute/fires/" }
func (k keys) fire(job, id string) string       { return k.firePrefix() + job + "/" + id }
func (k keys) historyPrefix() string            { return k.root + "/execute/history/snapshots/" }
func (k keys) historyOfJob(job string) string   { return k.historyPrefix() + job + "/" }
func (k keys) history(job, runID string) string { return k.historyOfJob(job) + runID }

func (k keys) backfillPrefix() string    { return k.root + "/schedule/backfills/" }
func (k keys) backfill(id string) string { return k.backfillPrefix() + id }
func (k keys) auditPrefix() string       { return k.root + "/audit/" }
func (k keys) audit(id string) string    { return k.auditPrefix() + id }

// parseClient splits a client key into group and client id.
func (k keys) parseClient(key string) (group, id string, ok bool) {
	rest, found := strings.CutPrefix(key, k.clientsPrefix())
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "instances" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// parseAssign splits an assignment key into group, client and snapshot id.
func (k keys) parseAssign(key string) (group, client, id string, ok bool) {
	rest, found := strings.CutPrefix(key, k.assignPrefix())
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// lastSegment returns what follows the last '/'.
func lastSegment(key string) string {
	return key[strings.LastIndexByte(key, '/')+1:]
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00"
}
