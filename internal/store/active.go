package store

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Active entries (execute/active/<job>/<snapshot-id>) exist only for the
// snapshots whose overlap the store itself must check: the exclusive ones.
// A snapshot is exclusive when it is
//
//   - a fire of a job whose policy is forbid (Fire.Forbid: its fire
//     transaction compares on the job's active prefix, and so do the next
//     ones while it lives);
//   - a shard (a sharded fire's summary waits for no shard to be live);
//   - a manual trigger or a backfill (rare, and their writes do not compare
//     on the job's revision, so they cannot tell which policy they were
//     made under).
//
// Every other snapshot, the plain cron fire of an allow or replace job, is
// born and ends without one: two keys fewer per run. Its uniqueness is the
// cursor's compare (guarantee 1), and the fire also checks that its
// pending or assigned key is new.
//
// A job that becomes forbid may still have live snapshots without entries.
// The job write that makes it forbid therefore also writes the job's switch
// mark (keys.activeSwitch) in the same transaction, which every overlap
// check sees as a live run. A check that fails calls settleSwitch: once no
// snapshot of the job is live without an entry, it drops the mark and the
// check is tried again. So forbid never overlaps, however the policy was
// edited while runs were live.

// createActive makes t hold only if no exclusive snapshot with id is live,
// and marks snap live for the overlap rules.
func (s *Store) createActive(t *txn, snap snapshot.Snapshot) {
	active := s.k.active(snap.Job, snap.ID)
	t.when(clientv3.Compare(clientv3.CreateRevision(active), "=", 0))
	t.then(clientv3.OpPut(active, snap.Group))
}

// endActive removes a snapshot's active entry if it has one: a nested
// transaction, so the snapshots without one write (and delete) nothing.
func (s *Store) endActive(t *txn, job, id string) {
	active := s.k.active(job, id)
	t.then(clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(active), ">", 0)},
		[]clientv3.Op{clientv3.OpDelete(active)}, nil))
}

// switchOps are the writes of a job write that the active entries need:
// the switch mark when the job (new or edited) is forbid. Snapshots made
// under an earlier spec may lack an entry; the mark holds overlap checks
// until settleSwitch has seen them end.
func (s *Store) switchOps(spec job.Spec) []clientv3.Op {
	if spec.Concurrency != job.ConcurrencyForbid {
		return nil
	}
	return []clientv3.Op{clientv3.OpPut(s.k.activeSwitch(spec.Name), "")}
}

// settleSwitch drops the job's switch mark if no snapshot of the job is
// live without an active entry. It reports whether it dropped one (an
// overlap check that failed may then be tried again).
//
// It reads, at one revision, the mark, the job, the job's active entries
// and every live snapshot (pending ones of the job, and all assigned keys:
// a job's assignments are not under one prefix; this runs once per policy
// switch). The delete holds only if the mark and the job are unchanged: a
// snapshot without an entry is only born of a fire without Forbid, which
// compares on the job's revision, so none is born while the job is forbid
// at the revision read.
func (s *Store) settleSwitch(ctx context.Context, name string) (bool, error) {
	mark := s.k.activeSwitch(name)
	resp, err := s.c.Txn(ctx).Then(clientv3.OpGet(mark, clientv3.WithKeysOnly()),
		clientv3.OpGet(s.k.job(name), clientv3.WithKeysOnly()),
		clientv3.OpGet(s.k.activeOfJob(name), clientv3.WithPrefix(), clientv3.WithKeysOnly())).Commit()
	if err != nil {
		return false, wrap("read switch mark", err)
	}
	markRev, jobRev := modRevOf(read(resp, 0)), modRevOf(read(resp, 1))
	if markRev == 0 {
		return false, nil
	}
	rev := resp.Header.Revision
	active := map[string]bool{}
	for _, kv := range read(resp, 2).Kvs {
		active[lastSegment(string(kv.Key))] = true
	}
	bare := false
	check := func(key string) {
		id := lastSegment(key)
		if job, ok := snapshot.JobOf(id); ok && job == name && !active[id] {
			bare = true
		}
	}
	if err := s.listKeys(ctx, s.k.pendingOfJob(name), rev, check); err != nil {
		return false, err
	}
	if err := s.listKeys(ctx, s.k.assignPrefix(), rev, check); err != nil {
		return false, err
	}
	if bare {
		return false, nil
	}
	del, err := s.c.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(mark), "=", markRev),
		clientv3.Compare(clientv3.ModRevision(s.k.job(name)), "=", jobRev)).
		Then(clientv3.OpDelete(mark)).Commit()
	if err != nil {
		return false, wrap("drop switch mark", err)
	}
	return del.Succeeded, nil
}

// listKeys calls fn with every key under prefix at revision rev, reading
// keys only, in pages.
func (s *Store) listKeys(ctx context.Context, prefix string, rev int64, fn func(key string)) error {
	from, end := prefix, prefixEnd(prefix)
	for {
		resp, err := s.c.Get(ctx, from, clientv3.WithRange(end), clientv3.WithRev(rev),
			clientv3.WithKeysOnly(), clientv3.WithLimit(pageSize))
		if err != nil {
			return fmt.Errorf("list keys of %s: %w", prefix, err)
		}
		for _, kv := range resp.Kvs {
			fn(string(kv.Key))
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
