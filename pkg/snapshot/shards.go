package snapshot

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// A fire with several snapshots (a job with shards > 1, or a broadcast to
// every client of a group) is a sharded fire: shard i of the fire with id
// base has the id ShardID(base, i), and the fire itself is tracked by a
// ShardedFire until every shard has finished and its summary Run is written.

// shardSep separates a fire's id from a shard's index in the shard's id.
const shardSep = ".s"

// ShardID is the id of shard index of the sharded fire base.
func ShardID(base string, index int) string {
	return fmt.Sprintf("%s%s%03d", base, shardSep, index)
}

// ShardPrefix is what the ids of every shard of the fire base start with.
func ShardPrefix(base string) string { return base + shardSep }

// ShardBase is the inverse of ShardID: the id of the fire a shard belongs
// to. For an id that is not a shard's it returns id and false.
func ShardBase(id string) (base string, ok bool) {
	i := strings.LastIndex(id, shardSep)
	if i <= 0 || !strings.Contains(id[:i], "@") {
		return id, false
	}
	digits := id[i+len(shardSep):]
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return id, false
	}
	return id[:i], true
}

// Shards splits base into n shard snapshots (ids base.s000 ...), or returns
// base alone when n <= 1.
func Shards(base Snapshot, n int) []Snapshot {
	if n <= 1 {
		return []Snapshot{base}
	}
	out := make([]Snapshot, n)
	for i := range out {
		s := base
		s.ID, s.ShardIndex, s.ShardTotal = ShardID(base.ID, i), i, n
		out[i] = s
	}
	return out
}

// ShardedFire is a fire that made several snapshots (shards); the leader
// writes one summary run for it once every shard has finished.
type ShardedFire struct {
	ID          string    `json:"id"`
	Job         string    `json:"job"`
	Group       string    `json:"group"`
	Trigger     Trigger   `json:"trigger"`
	ScheduledAt time.Time `json:"scheduled_at"`
	ShardTotal  int       `json:"shard_total"`
	CreatedAt   time.Time `json:"created_at"`
	// TraceParent is the fire's pink.fire span, for the summary's log line.
	TraceParent string `json:"traceparent,omitempty"`
}

// Split is the one way a fire becomes its snapshots: base alone when n <= 1
// (and no ShardedFire), else n shards of base and the record of the sharded
// fire, created at createdAt.
func Split(base Snapshot, n int, createdAt time.Time) ([]Snapshot, *ShardedFire) {
	shards := Shards(base, n)
	if len(shards) == 1 {
		return shards, nil
	}
	return shards, &ShardedFire{ID: base.ID, Job: base.Job, Group: base.Group, Trigger: base.Trigger,
		ScheduledAt: base.ScheduledAt, ShardTotal: len(shards), CreatedAt: createdAt.UTC(), TraceParent: base.TraceParent}
}

// Summary folds the shard runs of the fire into one run: per shard its
// final (highest) attempt counts, and the fire succeeded only if every
// shard's final attempt succeeded. now is its finish time if no shard ran.
func (f ShardedFire) Summary(runs []Run, now time.Time) Run {
	final := map[int]Run{}
	for _, r := range runs {
		if cur, ok := final[r.ShardIndex]; !ok || r.Attempt > cur.Attempt {
			final[r.ShardIndex] = r
		}
	}
	sum := Run{ID: f.ID, SnapshotID: f.ID, Job: f.Job, Group: f.Group, Trigger: f.Trigger,
		ScheduledAt: f.ScheduledAt, ShardTotal: f.ShardTotal, Status: StatusSucceeded, FinishedAt: now.UTC()}
	var problems []string
	succeeded := 0
	var first, last *time.Time
	for i := range f.ShardTotal {
		r, ok := final[i]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("shard %d: no result", i))
		case r.Status != StatusSucceeded:
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
		sum.Status = StatusFailed
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
