package store

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Fence proves leadership: the leader's election key and the revision at
// which it was created. A transaction that compares on it fails as soon as
// the leader's session has ended, whether or not the leader noticed.
type Fence struct {
	Key string
	Rev int64
}

func (f Fence) cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.Rev)
}

// Placement is one snapshot of a fire and the client chosen for it; a nil
// Client leaves the snapshot pending until a client of its group appears.
type Placement struct {
	Snapshot snapshot.Snapshot
	Client   *cluster.Client
}

// Fire is what the leader writes for one nominal fire of a job: the cursor
// moves to Cursor and the snapshots are created, all or nothing. A Fire with
// no placements only moves the cursor (a fire skipped on purpose).
type Fire struct {
	Job         string
	JobRevision int64
	Cursor      time.Time
	Placements  []Placement
	// Forbid makes the write hold only if no snapshot of the job is live
	// anywhere (overlap policy forbid), checked inside the transaction.
	Forbid bool
	// Sharded records a fire of several shards until its summary is written.
	Sharded *snapshot.ShardedFire
	// Counts are the job's cursor counts after this fire (the leader's
	// counts so far plus this fire's): they are stored with the cursor.
	Counts counts.Job
}

// FireOutcome says whether a Fire was written and, if not, why.
type FireOutcome int

// Outcomes of WriteFire.
const (
	FireWritten     FireOutcome = iota
	FireNotLeader               // the fence failed: stop leading
	FireJobChanged              // the job was edited or deleted since it was read
	FireCursorAhead             // this fire (or a later one) was already written
	FireClientGone              // a chosen client is no longer registered
	FireDuplicate               // a snapshot with this id exists already
	FireOverlap                 // Forbid, and a snapshot of the job is live
)

func (o FireOutcome) String() string {
	return [...]string{"written", "not_leader", "job_changed", "cursor_ahead", "client_gone", "duplicate", "overlap"}[o]
}

// FireResult reports a WriteFire.
type FireResult struct {
	Outcome FireOutcome
	// Revision of the write, when written.
	Revision int64
	// Cursor is the stored cursor when Outcome is FireCursorAhead, and
	// CursorCounts the counts stored with it.
	Cursor       time.Time
	CursorCounts counts.Job
	// GoneClients lists chosen clients that are no longer registered.
	GoneClients []string
	// Written are the snapshots as stored, when written.
	Written []snapshot.Live
}

// WriteFire writes one fire in a single transaction that holds only if this
// node still leads (fence), the job is unchanged, the job's cursor is older
// than the fire, no snapshot with the same id exists, and every chosen client
// is still registered. This transaction is guarantee 1: a fire is written at
// most once, and only by the current leader.
func (s *Store) WriteFire(ctx context.Context, fence Fence, f Fire, now time.Time) (res FireResult, err error) {
	defer s.track("fire", time.Now(), &err)
	jobKey, curKey := s.k.job(f.Job), s.k.cursor(f.Job)
	cmps := []clientv3.Cmp{
		fence.cmp(),
		clientv3.Compare(clientv3.ModRevision(jobKey), "=", f.JobRevision),
		clientv3.Compare(clientv3.Value(curKey), "<", cursor.Stamp(f.Cursor)),
	}
	ops := []clientv3.Op{clientv3.OpPut(curKey, cursor.Format(f.Cursor, f.Counts))}
	elseOps := []clientv3.Op{
		clientv3.OpGet(fence.Key, clientv3.WithKeysOnly()),
		clientv3.OpGet(jobKey, clientv3.WithKeysOnly()),
		clientv3.OpGet(curKey),
	}
	if f.Forbid {
		cmps = append(cmps, s.noneActive(f.Job))
		elseOps = append(elseOps, clientv3.OpGet(s.k.activeOfJob(f.Job), clientv3.WithPrefix(), clientv3.WithCountOnly()))
	}
	if f.Sharded != nil {
		ops = append(ops, clientv3.OpPut(s.k.fire(f.Job, f.Sharded.ID), encode(*f.Sharded)))
	}
	seen := map[string]bool{}
	var clientKeys []string
	var written []snapshot.Live
	for _, p := range f.Placements {
		snap := p.Snapshot
		ops = append(ops, clientv3.OpPut(s.k.active(snap.Job, snap.ID), snap.Group))
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(s.k.active(snap.Job, snap.ID)), "=", 0))
		if p.Client == nil {
			snap.State, snap.Client, snap.DispatchedAt = snapshot.StatePending, "", nil
			ops = append(ops, clientv3.OpPut(s.k.pending(snap.ID), encode(snap)))
			written = append(written, snapshot.Live{Snapshot: snap})
			continue
		}
		ck := s.k.client(p.Client.Group, p.Client.ID)
		if !seen[ck] {
			seen[ck] = true
			clientKeys = append(clientKeys, ck)
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(ck), "=", p.Client.CreateRevision))
			elseOps = append(elseOps, clientv3.OpGet(ck, clientv3.WithKeysOnly()))
		}
		assignTo(&snap, p.Client, now)
		ops = append(ops, clientv3.OpPut(s.k.assign(snap.Group, p.Client.ID, snap.ID), encode(snap)))
		written = append(written, snapshot.Live{Snapshot: snap})
	}
	resp, err := s.c.Txn(ctx).If(cmps...).Then(ops...).Else(elseOps...).Commit()
	if err != nil {
		return res, wrap("write fire", err)
	}
	if resp.Succeeded {
		for i := range written {
			written[i].ModRevision = resp.Header.Revision
		}
		return FireResult{Outcome: FireWritten, Revision: resp.Header.Revision, Written: written}, nil
	}
	rr := func(i int) *clientv3.GetResponse {
		return (*clientv3.GetResponse)(resp.Responses[i].GetResponseRange())
	}
	if kvs := rr(0).Kvs; len(kvs) == 0 || kvs[0].CreateRevision != fence.Rev {
		return FireResult{Outcome: FireNotLeader}, nil
	}
	if kvs := rr(1).Kvs; len(kvs) == 0 || kvs[0].ModRevision != f.JobRevision {
		return FireResult{Outcome: FireJobChanged}, nil
	}
	if kvs := rr(2).Kvs; len(kvs) == 0 {
		return FireResult{Outcome: FireJobChanged}, nil
	} else if cur := string(kvs[0].Value); cur >= cursor.Stamp(f.Cursor) {
		t, counts, perr := cursor.Parse(cur)
		if perr != nil {
			return res, fmt.Errorf("decode cursor of %s: %w", f.Job, perr)
		}
		return FireResult{Outcome: FireCursorAhead, Cursor: t, CursorCounts: counts}, nil
	}
	next := 3
	if f.Forbid {
		if rr(next).Count > 0 {
			return FireResult{Outcome: FireOverlap}, nil
		}
		next++
	}
	var gone []string
	for i, ck := range clientKeys {
		if kvs := rr(next + i).Kvs; len(kvs) == 0 || !sameRegistration(kvs[0].CreateRevision, ck, f) {
			_, id, _ := s.k.parseClient(ck)
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		return FireResult{Outcome: FireClientGone, GoneClients: gone}, nil
	}
	return FireResult{Outcome: FireDuplicate}, nil
}

// noneActive holds if no snapshot of job is live: every key in the job's
// active prefix must have create revision 0, which only an empty range has.
func (s *Store) noneActive(job string) clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(s.k.activeOfJob(job)), "=", 0).WithPrefix()
}

func sameRegistration(createRev int64, clientKey string, f Fire) bool {
	for _, p := range f.Placements {
		if p.Client != nil && lastSegment(clientKey) == p.Client.ID {
			return p.Client.CreateRevision == createRev
		}
	}
	return false
}

func assignTo(snap *snapshot.Snapshot, c *cluster.Client, now time.Time) {
	at := now.UTC()
	snap.State = snapshot.StateDispatched
	snap.Client = c.ID
	snap.DispatchedAt = &at
	snap.StartedAt = nil
}

// WriteFires writes several fires in one transaction, each with the same
// compares as WriteFire (and the fence once). It is all or nothing: if any
// compare fails it writes nothing and returns nil results, and the caller
// writes the fires one by one to learn which failed and why.
func (s *Store) WriteFires(ctx context.Context, fence Fence, fires []Fire, now time.Time) (results []FireResult, err error) {
	defer s.track("fire_batch", time.Now(), &err)
	cmps := []clientv3.Cmp{fence.cmp()}
	var ops []clientv3.Op
	seen := map[string]bool{}
	written := make([][]snapshot.Live, len(fires))
	for i, f := range fires {
		jobKey, curKey := s.k.job(f.Job), s.k.cursor(f.Job)
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(jobKey), "=", f.JobRevision),
			clientv3.Compare(clientv3.Value(curKey), "<", cursor.Stamp(f.Cursor)))
		if f.Forbid {
			cmps = append(cmps, s.noneActive(f.Job))
		}
		ops = append(ops, clientv3.OpPut(curKey, cursor.Format(f.Cursor, f.Counts)))
		if f.Sharded != nil {
			ops = append(ops, clientv3.OpPut(s.k.fire(f.Job, f.Sharded.ID), encode(*f.Sharded)))
		}
		for _, p := range f.Placements {
			snap := p.Snapshot
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(s.k.active(snap.Job, snap.ID)), "=", 0))
			ops = append(ops, clientv3.OpPut(s.k.active(snap.Job, snap.ID), snap.Group))
			if p.Client == nil {
				snap.State, snap.Client, snap.DispatchedAt = snapshot.StatePending, "", nil
				ops = append(ops, clientv3.OpPut(s.k.pending(snap.ID), encode(snap)))
			} else {
				ck := s.k.client(p.Client.Group, p.Client.ID)
				if !seen[ck] {
					seen[ck] = true
					cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(ck), "=", p.Client.CreateRevision))
				}
				assignTo(&snap, p.Client, now)
				ops = append(ops, clientv3.OpPut(s.k.assign(snap.Group, p.Client.ID, snap.ID), encode(snap)))
			}
			written[i] = append(written[i], snapshot.Live{Snapshot: snap})
		}
	}
	resp, err := s.c.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return nil, wrap("write fires", err)
	}
	if !resp.Succeeded {
		return nil, nil
	}
	results = make([]FireResult, len(fires))
	for i := range fires {
		for j := range written[i] {
			written[i][j].ModRevision = resp.Header.Revision
		}
		results[i] = FireResult{Outcome: FireWritten, Revision: resp.Header.Revision, Written: written[i]}
	}
	return results, nil
}
