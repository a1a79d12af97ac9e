package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/cursor"
	clientv3 "go.etcd.io/etcd/client/v3"
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

// CountsWrite replaces a job's (Job set) or a group's (Group set, Job empty)
// counters inside a leader transaction. The transaction holds only if the
// key's mod revision is still Rev (0: the key does not exist), so no count
// is lost to a stale view; the key is written only while its job or group
// exists, so a late event cannot bring back a deleted job's counters.
type CountsWrite struct {
	Job, Group string
	Rev        int64
	JobCounts  counts.Job
	Counts     counts.Group
}

func (s *Store) countsKey(w CountsWrite) (key, owner string) {
	if w.Job != "" {
		return s.k.jobCounters(w.Job), s.k.job(w.Job)
	}
	return s.k.groupCounters(w.Group), s.k.group(w.Group)
}

// writeCounts adds the counters writes ws to t, and reads of their keys
// for when a compare fails; it returns the index of the first read.
func (s *Store) writeCounts(t *txn, ws []CountsWrite) int {
	first := len(t.reads)
	for _, w := range ws {
		key, owner := s.countsKey(w)
		v := encode(w.Counts)
		if w.Job != "" {
			v = encode(w.JobCounts)
		}
		t.when(clientv3.Compare(clientv3.ModRevision(key), "=", w.Rev))
		t.then(clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(owner), ">", 0)},
			[]clientv3.Op{clientv3.OpPut(key, v)}, nil))
		t.orRead(clientv3.OpGet(key, clientv3.WithKeysOnly()))
	}
	return first
}

// countsChanged reports whether one of ws found its key at another revision
// than expected, from the reads writeCounts added (from index first).
func countsChanged(resp *clientv3.TxnResponse, first int, ws []CountsWrite) bool {
	for i, w := range ws {
		if modRevOf(read(resp, first+i)) != w.Rev {
			return true
		}
	}
	return false
}

// ErrBadCounts says a stored counters key does not decode. The read still
// returns its mod revision and zero counts: the next counted event then
// replaces the key instead of failing on it forever.
var ErrBadCounts = errors.New("stored counters do not decode")

// ReadJobCounts reads a job's counters key and its mod revision (0 and zero
// counts if it does not exist; ErrBadCounts with zero counts and the
// revision if it does not decode).
func (s *Store) ReadJobCounts(ctx context.Context, job string) (counts.Job, int64, error) {
	return readCounts[counts.Job](ctx, s, s.k.jobCounters(job))
}

// ReadGroupCounts reads a group's counters key and its mod revision, like
// ReadJobCounts.
func (s *Store) ReadGroupCounts(ctx context.Context, group string) (counts.Group, int64, error) {
	return readCounts[counts.Group](ctx, s, s.k.groupCounters(group))
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
	at, counts, err := cursor.Parse(string(resp.Kvs[0].Value))
	if err != nil {
		return cmp, rev, nil, fmt.Errorf("decode cursor of %s: %w", name, err)
	}
	if !at.Before(t) {
		return cmp, rev, nil, nil
	}
	return cmp, rev, []clientv3.Op{clientv3.OpPut(key, cursor.Format(t, counts))}, nil
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
func (s *Store) CursorCounts(ctx context.Context, name string) (t time.Time, c counts.Job, err error) {
	defer s.track("cursor_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.cursor(name))
	if err != nil {
		return t, c, wrap("get cursor", err)
	}
	if len(resp.Kvs) == 0 {
		return t, c, ErrNotFound
	}
	return cursor.Parse(string(resp.Kvs[0].Value))
}
