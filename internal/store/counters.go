package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// The leader-only counters (pink_fires_total, pink_fires_skipped_total,
// pink_runs_lost_total, pink_failovers_total) live in etcd, so that a new
// leader exports exactly the values the old one did. They are written in
// the transaction of the event they count, never by a write of their own:
//
//   - the frequent events of the fire loop (cron and catch-up fires, misfire
//     and concurrency_forbid skips) ride in the job's schedule cursor value,
//     which the fire transaction writes anyway: "<cursor> f.cron=3 s.misfire_skip=1";
//   - the rare ones (manual, retry, failover and backfill fires, lost runs,
//     and failovers by group) are in counters/job/<job> and
//     counters/group/<group>, written by the leader's dispatch, failover and
//     backfill transactions with a compare on the key's mod revision.
//
// Counters go with their job or group: the delete transactions remove them.

func (k keys) countersPrefix() string            { return k.root + "/counters/" }
func (k keys) jobCounters(job string) string     { return k.countersPrefix() + "job/" + job }
func (k keys) groupCounters(group string) string { return k.countersPrefix() + "group/" + group }

// JobCounts are a job's event counts: fires by trigger, skipped fires by
// reason, and runs lost with their worker.
type JobCounts struct {
	Fires   map[string]int64 `json:"fires,omitempty"`
	Skipped map[string]int64 `json:"skipped,omitempty"`
	Lost    int64            `json:"lost,omitempty"`
}

// AddFire counts n fires with trigger.
func (c *JobCounts) AddFire(trigger string, n int64) {
	if n <= 0 {
		return
	}
	if c.Fires == nil {
		c.Fires = map[string]int64{}
	}
	c.Fires[trigger] += n
}

// AddSkipped counts n skipped fires with reason.
func (c *JobCounts) AddSkipped(reason string, n int64) {
	if n <= 0 {
		return
	}
	if c.Skipped == nil {
		c.Skipped = map[string]int64{}
	}
	c.Skipped[reason] += n
}

// Clone returns a deep copy.
func (c JobCounts) Clone() JobCounts {
	return JobCounts{Fires: maps.Clone(c.Fires), Skipped: maps.Clone(c.Skipped), Lost: c.Lost}
}

// Plus returns the sum of c and o.
func (c JobCounts) Plus(o JobCounts) JobCounts {
	out := c.Clone()
	for k, v := range o.Fires {
		out.AddFire(k, v)
	}
	for k, v := range o.Skipped {
		out.AddSkipped(k, v)
	}
	out.Lost += o.Lost
	return out
}

// GroupCounts are a group's event counts: failovers by reason.
type GroupCounts struct {
	Failovers map[string]int64 `json:"failovers,omitempty"`
}

// Clone returns a deep copy.
func (c GroupCounts) Clone() GroupCounts { return GroupCounts{Failovers: maps.Clone(c.Failovers)} }

// AddFailover counts one failover with reason.
func (c *GroupCounts) AddFailover(reason string) {
	if c.Failovers == nil {
		c.Failovers = map[string]int64{}
	}
	c.Failovers[reason]++
}

// FormatCursorValue encodes a schedule cursor with the counts that ride in
// it. The time comes first in FormatCursor's fixed width, so a transaction
// that compares the stored value with a bare FormatCursor(t) still compares
// times: a stored cursor at t with counts is greater than FormatCursor(t).
func FormatCursorValue(at time.Time, c JobCounts) string {
	var b strings.Builder
	b.WriteString(snapshot.FormatCursor(at))
	for _, k := range slices.Sorted(maps.Keys(c.Fires)) {
		if v := c.Fires[k]; v > 0 {
			fmt.Fprintf(&b, " f.%s=%d", k, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Skipped)) {
		if v := c.Skipped[k]; v > 0 {
			fmt.Fprintf(&b, " s.%s=%d", k, v)
		}
	}
	return b.String()
}

// ParseCursorValue decodes a stored cursor: FormatCursorValue's output, or
// a bare FormatCursor time as written before counts rode in the cursor
// (its counts are zero). Only the time must be valid: a count field this
// version does not understand (written by a newer one, or damaged) is
// skipped, so that it can never stop the job from firing; the next fire
// rewrites the value without it.
func ParseCursorValue(v string) (time.Time, JobCounts, error) {
	var c JobCounts
	ts, rest, _ := strings.Cut(v, " ")
	at, err := snapshot.ParseCursor(ts)
	if err != nil {
		return at, c, err
	}
	for _, field := range strings.Fields(rest) {
		name, num, ok := strings.Cut(field, "=")
		n, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || n < 0 {
			continue
		}
		switch {
		case strings.HasPrefix(name, "f."):
			c.AddFire(name[2:], n)
		case strings.HasPrefix(name, "s."):
			c.AddSkipped(name[2:], n)
		}
	}
	return at, c, nil
}

// CountsWrite replaces a job's (Job set) or a group's (Group set, Job empty)
// counters inside a leader transaction. The transaction holds only if the
// key's mod revision is still Rev (0: the key does not exist), so no count
// is lost to a stale view; the key is written only while its job or group
// exists, so a late event cannot bring back a deleted job's counters.
type CountsWrite struct {
	Job, Group string
	Rev        int64
	JobCounts  JobCounts
	Counts     GroupCounts
}

func (s *Store) countsKey(w CountsWrite) (key, owner string) {
	if w.Job != "" {
		return s.k.jobCounters(w.Job), s.k.job(w.Job)
	}
	return s.k.groupCounters(w.Group), s.k.group(w.Group)
}

// countsTxn returns the compares and operations of ws, and gets that tell
// which compare failed.
func (s *Store) countsTxn(ws []CountsWrite) (cmps []clientv3.Cmp, ops, gets []clientv3.Op) {
	for _, w := range ws {
		key, owner := s.countsKey(w)
		v := encode(w.Counts)
		if w.Job != "" {
			v = encode(w.JobCounts)
		}
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", w.Rev))
		ops = append(ops, clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(owner), ">", 0)},
			[]clientv3.Op{clientv3.OpPut(key, v)}, nil))
		gets = append(gets, clientv3.OpGet(key, clientv3.WithKeysOnly()))
	}
	return cmps, ops, gets
}

// countsChanged reports whether one of ws found its key at another revision
// than expected, from the gets of countsTxn (responses from index first).
func countsChanged(resp *clientv3.TxnResponse, first int, ws []CountsWrite) bool {
	for i, w := range ws {
		rev := int64(0)
		if kvs := resp.Responses[first+i].GetResponseRange().Kvs; len(kvs) > 0 {
			rev = kvs[0].ModRevision
		}
		if rev != w.Rev {
			return true
		}
	}
	return false
}

// CountsEvent is a job's or a group's counters key that changed (Job or
// Group counts set) or was deleted with its job or group.
type CountsEvent struct {
	// Job or Group names whose counts these are; one is empty.
	Job, Group  string
	JobCounts   JobCounts
	Counts      GroupCounts
	ModRevision int64
	Deleted     bool
	Err         error
}

// MirrorCounts mirrors the counters keys of all jobs and groups.
func (s *Store) MirrorCounts(ctx context.Context, fn func([]CountsEvent, bool)) error {
	prefix := s.k.countersPrefix()
	return s.Mirror(ctx, prefix, func(raw []RawEvent, synced bool) {
		out := make([]CountsEvent, 0, len(raw))
		for _, ev := range raw {
			kind, name, ok := strings.Cut(strings.TrimPrefix(ev.Key, prefix), "/")
			if !ok || (kind != "job" && kind != "group") {
				continue
			}
			ce := CountsEvent{ModRevision: ev.ModRevision, Deleted: ev.Deleted}
			if kind == "job" {
				ce.Job = name
			} else {
				ce.Group = name
			}
			if !ev.Deleted {
				if kind == "job" {
					ce.Err = decode(ev.Key, ev.Value, &ce.JobCounts)
				} else {
					ce.Err = decode(ev.Key, ev.Value, &ce.Counts)
				}
			}
			out = append(out, ce)
		}
		fn(out, synced)
	})
}

// ErrBadCounts says a stored counters key does not decode. The read still
// returns its mod revision and zero counts: the next counted event then
// replaces the key instead of failing on it forever.
var ErrBadCounts = errors.New("stored counters do not decode")

// ReadJobCounts reads a job's counters key and its mod revision (0 and zero
// counts if it does not exist; ErrBadCounts with zero counts and the
// revision if it does not decode).
func (s *Store) ReadJobCounts(ctx context.Context, job string) (JobCounts, int64, error) {
	return readCounts[JobCounts](ctx, s, s.k.jobCounters(job))
}

// ReadGroupCounts reads a group's counters key and its mod revision, like
// ReadJobCounts.
func (s *Store) ReadGroupCounts(ctx context.Context, group string) (GroupCounts, int64, error) {
	return readCounts[GroupCounts](ctx, s, s.k.groupCounters(group))
}

func readCounts[C any](ctx context.Context, s *Store, key string) (c C, rev int64, err error) {
	defer s.track("counts_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, key)
	if err != nil || len(resp.Kvs) == 0 {
		return c, 0, wrap("get counts", err)
	}
	if derr := decode(key, resp.Kvs[0].Value, &c); derr != nil {
		var zero C
		return zero, resp.Kvs[0].ModRevision, fmt.Errorf("%w: %w", ErrBadCounts, derr)
	}
	return c, resp.Kvs[0].ModRevision, nil
}

// errCursorMoved makes a cursor-advancing write read the cursor again.
var errCursorMoved = errors.New("cursor moved meanwhile")

// cursorAdvance reads a job's cursor and returns what moves it forward to t
// in the caller's transaction, keeping the counts that ride in it: a compare
// that the cursor is still the one read (its mod revision rev; 0 if there is
// none), and the put (none when the cursor is at t or later already).
func (s *Store) cursorAdvance(ctx context.Context, name string, t time.Time) (cmp clientv3.Cmp, rev int64, ops []clientv3.Op, err error) {
	key := s.k.cursor(name)
	resp, err := s.c.Get(ctx, key)
	if err != nil {
		return cmp, 0, nil, wrap("get cursor", err)
	}
	if len(resp.Kvs) > 0 {
		rev = resp.Kvs[0].ModRevision
	}
	cmp = clientv3.Compare(clientv3.ModRevision(key), "=", rev)
	if rev == 0 {
		return cmp, 0, nil, nil
	}
	at, counts, err := ParseCursorValue(string(resp.Kvs[0].Value))
	if err != nil {
		return cmp, rev, nil, fmt.Errorf("decode cursor of %s: %w", name, err)
	}
	if !at.Before(t) {
		return cmp, rev, nil, nil
	}
	return cmp, rev, []clientv3.Op{clientv3.OpPut(key, FormatCursorValue(t, counts))}, nil
}

// cursorMoved reports whether the cursor of name is no longer at rev, from
// a get of it in a failed transaction's responses.
func cursorMoved(r *clientv3.GetResponse, rev int64) bool {
	got := int64(0)
	if len(r.Kvs) > 0 {
		got = r.Kvs[0].ModRevision
	}
	return got != rev
}

// CursorCounts reads a job's schedule cursor and the counts that ride in it.
func (s *Store) CursorCounts(ctx context.Context, name string) (t time.Time, c JobCounts, err error) {
	defer s.track("cursor_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.cursor(name))
	if err != nil {
		return t, c, wrap("get cursor", err)
	}
	if len(resp.Kvs) == 0 {
		return t, c, ErrNotFound
	}
	return ParseCursorValue(string(resp.Kvs[0].Value))
}

// GroupEvent is a group that was created or changed, or deleted.
type GroupEvent struct {
	Name    string
	Deleted bool
}

// MirrorGroups mirrors the group keys (see Mirror).
func (s *Store) MirrorGroups(ctx context.Context, fn func([]GroupEvent, bool)) error {
	return s.Mirror(ctx, s.k.groupPrefix(), func(raw []RawEvent, synced bool) {
		out := make([]GroupEvent, 0, len(raw))
		for _, ev := range raw {
			out = append(out, GroupEvent{Name: lastSegment(ev.Key), Deleted: ev.Deleted})
		}
		fn(out, synced)
	})
}

// GroupJobEvent is a job that joined a group (created in it, or moved to it)
// or left it (deleted, or moved away).
type GroupJobEvent struct {
	Job     string
	Deleted bool
}

// MirrorGroupJobs mirrors the names of the jobs of one group (the
// group/jobs/ index): a worker follows the jobs it may run.
func (s *Store) MirrorGroupJobs(ctx context.Context, group string, fn func([]GroupJobEvent, bool)) error {
	return s.Mirror(ctx, s.k.groupJobs(group), func(raw []RawEvent, synced bool) {
		out := make([]GroupJobEvent, 0, len(raw))
		for _, ev := range raw {
			out = append(out, GroupJobEvent{Job: lastSegment(ev.Key), Deleted: ev.Deleted})
		}
		fn(out, synced)
	})
}
