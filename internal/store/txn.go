package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// txn is one etcd transaction being built. Each state transition of a
// snapshot has one builder below that adds its compares and operations to
// a txn, so a transition written alone and the same transition written in a
// batch are the same code: the batch only builds several into one txn.
type txn struct {
	cmps []clientv3.Cmp
	ops  []clientv3.Op
	// reads run when a compare fails, to tell which one did.
	reads []clientv3.Op
	// clients are the client registrations the txn already compares on.
	clients map[string]bool
	// jobs are the jobs whose revision the txn already compares on.
	jobs map[string]bool
	// revoked are the clients whose revoke key the txn already writes.
	revoked map[string]bool
	// last holds the job/last/ value each key gets: a txn that records
	// several runs of one job writes the latest finish once.
	last     map[string]string
	lastKeys []string
	// recorded are the runs the txn writes to history, for the store's
	// RunRecorder once it has committed.
	recorded []RecordedRun
}

func (t *txn) when(c ...clientv3.Cmp) { t.cmps = append(t.cmps, c...) }
func (t *txn) then(o ...clientv3.Op)  { t.ops = append(t.ops, o...) }

// orRead adds a read for the else branch and returns its index in the
// failed transaction's responses.
func (t *txn) orRead(o clientv3.Op) int {
	t.reads = append(t.reads, o)
	return len(t.reads) - 1
}

// commit sends the transaction; once it has succeeded, the store's
// recorder learns the runs it wrote to history.
func (t *txn) commit(ctx context.Context, s *Store) (*clientv3.TxnResponse, error) {
	ops := t.ops
	for _, key := range t.lastKeys {
		ops = append(ops, lastOp(key, t.last[key]))
	}
	resp, err := s.c.Txn(ctx).If(t.cmps...).Then(ops...).Else(t.reads...).Commit()
	if err == nil && resp.Succeeded {
		s.committed(ctx, t)
	}
	return resp, err
}

// read returns the response of the else read at index i.
func read(resp *clientv3.TxnResponse, i int) *clientv3.GetResponse {
	return (*clientv3.GetResponse)(resp.Responses[i].GetResponseRange())
}

// modRevOf is the mod revision of the key a read found, 0 if none.
func modRevOf(r *clientv3.GetResponse) int64 {
	if len(r.Kvs) == 0 {
		return 0
	}
	return r.Kvs[0].ModRevision
}

// requireClient makes t hold only while c's registration is the one given;
// it reports whether the compare is new to t.
func (s *Store) requireClient(t *txn, c *cluster.Client) bool {
	key := s.k.client(c.Group, c.ID)
	if t.clients == nil {
		t.clients = map[string]bool{}
	}
	if t.clients[key] {
		return false
	}
	t.clients[key] = true
	t.when(clientv3.Compare(clientv3.CreateRevision(key), "=", c.CreateRevision))
	return true
}

// assign writes snap as dispatched to c, on the condition that c is still
// registered: the placement half of a fire and of a move.
func (s *Store) assign(t *txn, snap snapshot.Snapshot, c *cluster.Client, now time.Time) snapshot.Snapshot {
	s.requireClient(t, c)
	at := now.UTC()
	snap.State, snap.Client, snap.DispatchedAt, snap.StartedAt, snap.ClaimedAhead = snapshot.StateDispatched, c.ID, &at, nil, false
	t.then(clientv3.OpPut(s.k.assign(snap.Group, c.ID, snap.ID), encode(snap)))
	return snap
}

// createLive is the birth of a snapshot: it holds only if its pending or
// assigned key is new and, when exclusive (see active.go), no exclusive
// snapshot with its id is live, which it then marks live for the overlap
// rules; it writes the snapshot pending, or assigned to c when c is not nil.
func (s *Store) createLive(t *txn, snap snapshot.Snapshot, c *cluster.Client, now time.Time, exclusive bool) snapshot.Live {
	if exclusive {
		s.createActive(t, snap)
	}
	if snap.Attempt == 1 && (snap.Trigger == snapshot.TriggerCron || snap.Trigger == snapshot.TriggerCatchup) {
		// A fire decided again after its job changed inside the lookahead
		// (TakeBack) must not run twice: a later fire of the job that
		// started before the change may have finished already.
		t.when(clientv3.Compare(clientv3.CreateRevision(s.k.history(snap.Job, snapshot.RunID(snap.ID, 1))), "=", 0))
	}
	if c != nil {
		t.when(clientv3.Compare(clientv3.CreateRevision(s.k.assign(snap.Group, c.ID, snap.ID)), "=", 0))
		return snapshot.Live{Snapshot: s.assign(t, snap, c, now)}
	}
	snap.State, snap.Client, snap.DispatchedAt, snap.StartedAt, snap.ClaimedAhead = snapshot.StatePending, "", nil, nil, false
	t.when(clientv3.Compare(clientv3.CreateRevision(s.k.pending(snap.ID)), "=", 0))
	t.then(clientv3.OpPut(s.k.pending(snap.ID), encode(snap)))
	return snapshot.Live{Snapshot: snap}
}

// recordRun writes run to its job's history and the run index and moves
// the job's last-success or last-failure time forward; traceParent is the
// span of the snapshot it ends, for the store's recorder.
func (s *Store) recordRun(t *txn, run snapshot.Run, traceParent string) {
	t.then(clientv3.OpPut(s.k.history(run.Job, run.ID), encode(run)))
	s.indexRun(t, run)
	t.recorded = append(t.recorded, RecordedRun{Run: run, TraceParent: traceParent})
	key, v, ok := s.lastWrite(run)
	if !ok {
		return
	}
	if t.last == nil {
		t.last = map[string]string{}
	}
	if old, seen := t.last[key]; !seen {
		t.lastKeys = append(t.lastKeys, key)
		t.last[key] = v
	} else if v > old {
		t.last[key] = v
	}
}

// endOrRetry ends a snapshot's life after an attempt (its active entry
// goes, if it has one), or, with a next attempt, writes that attempt
// pending: the snapshot stays live, so a retry is never lost nor doubled.
func (s *Store) endOrRetry(t *txn, job, id string, next *snapshot.Snapshot) {
	if next != nil {
		t.then(clientv3.OpPut(s.k.pending(next.ID), encode(*next)))
		return
	}
	s.endActive(t, job, id)
}

// claim marks l running on client clientID since at, if the assignment is
// unchanged since the client read it. A fire written ahead and claimed
// before its nominal time is claimed ahead: running since its nominal
// time, which the client starts it at once its start mark is there (see
// StartAhead).
func (s *Store) claim(t *txn, clientID string, l snapshot.Live, at time.Time) {
	key := s.k.assign(l.Group, clientID, l.ID)
	snap := l.Snapshot
	snap.State, snap.StartedAt = snapshot.StateRunning, &at
	if l.WrittenAhead && l.ScheduledAt.After(at) {
		startAt := l.ScheduledAt
		snap.StartedAt, snap.ClaimedAhead = &startAt, true
	}
	t.when(clientv3.Compare(clientv3.ModRevision(key), "=", l.ModRevision))
	s.requireJobRevision(t, l)
	t.then(clientv3.OpPut(key, encode(snap)))
}

// requireJobRevision makes t hold, for a fire written ahead, only while its
// job is still the revision it was written for: a fire written ahead
// starts only as the job it was written for.
func (s *Store) requireJobRevision(t *txn, l snapshot.Live) {
	if !l.WrittenAhead || t.jobs[l.Job] {
		return
	}
	if t.jobs == nil {
		t.jobs = map[string]bool{}
	}
	t.jobs[l.Job] = true
	t.when(clientv3.Compare(clientv3.ModRevision(s.k.job(l.Job)), "=", l.JobRevision))
}

// complete records the result of a claimed run of client clientID and
// removes its assignment, if the assignment is still the one claimed.
func (s *Store) complete(t *txn, clientID string, c Completion) {
	key := s.k.assign(c.Run.Group, clientID, c.Run.SnapshotID)
	t.when(clientv3.Compare(clientv3.ModRevision(key), "=", c.ClaimRev))
	s.recordRun(t, c.Run, "")
	t.then(clientv3.OpDelete(key))
	s.endOrRetry(t, c.Run.Job, c.Run.SnapshotID, c.Retry)
}

// recordShardedFire keeps the record of a sharded fire until its summary.
func (s *Store) recordShardedFire(t *txn, f *snapshot.ShardedFire) {
	if f != nil {
		t.then(clientv3.OpPut(s.k.fire(f.Job, f.ID), encode(*f)))
	}
}
