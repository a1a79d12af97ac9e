package store

import (
	"context"
	"fmt"
	"slices"
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
	// anywhere (overlap policy forbid), checked inside the transaction. It
	// must be set on every fire with placements of a job whose policy is
	// forbid: its snapshots then get active entries (see active.go).
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
	// CursorRevision is the stored cursor's mod revision then.
	CursorRevision int64
	// GoneClients lists chosen clients that are no longer registered.
	GoneClients []string
	// Written are the snapshots as stored, when written.
	Written []snapshot.Live
}

// fire adds one fire to t: it holds only if the job is unchanged, its
// cursor is older than the fire and (Forbid) no snapshot of the job is
// live; it moves the cursor, with the counts that ride in it, and creates
// the fire's snapshots. It returns them as they will be stored.
func (s *Store) fire(t *txn, f Fire, now time.Time) []snapshot.Live {
	jobKey, curKey := s.k.job(f.Job), s.k.cursor(f.Job)
	t.when(clientv3.Compare(clientv3.ModRevision(jobKey), "=", f.JobRevision),
		clientv3.Compare(clientv3.Value(curKey), "<", cursor.Stamp(f.Cursor)))
	if f.Forbid {
		t.when(s.noneActive(f.Job))
	}
	t.then(clientv3.OpPut(curKey, cursor.Format(f.Cursor, f.Counts)))
	s.recordShardedFire(t, f.Sharded)
	written := make([]snapshot.Live, 0, len(f.Placements))
	for _, p := range f.Placements {
		exclusive := f.Forbid || p.Snapshot.ShardTotal > 1
		written = append(written, s.createLive(t, p.Snapshot, p.Client, now, exclusive))
	}
	return written
}

// WriteFire writes one fire in a single transaction that holds only if this
// node still leads (fence), the job is unchanged, the job's cursor is older
// than the fire, no snapshot with the same id exists, and every chosen client
// is still registered. This transaction is guarantee 1: a fire is written at
// most once, and only by the current leader.
// A fire refused as an overlap only by a job's switch mark is written once
// the mark is settled (see settleSwitch).
func (s *Store) WriteFire(ctx context.Context, fence Fence, f Fire, now time.Time) (res FireResult, err error) {
	defer s.track("fire", time.Now(), &err)
	res, err = s.writeFire(ctx, fence, f, now)
	if err != nil || res.Outcome != FireOverlap {
		return res, err
	}
	if settled, err := s.settleSwitch(ctx, f.Job); err != nil || !settled {
		return res, err
	}
	return s.writeFire(ctx, fence, f, now)
}

func (s *Store) writeFire(ctx context.Context, fence Fence, f Fire, now time.Time) (res FireResult, err error) {
	t := &txn{}
	t.when(fence.cmp())
	fenceRead := t.orRead(clientv3.OpGet(fence.Key, clientv3.WithKeysOnly()))
	jobRead := t.orRead(clientv3.OpGet(s.k.job(f.Job), clientv3.WithKeysOnly()))
	curRead := t.orRead(clientv3.OpGet(s.k.cursor(f.Job)))
	activeRead := -1
	if f.Forbid {
		activeRead = t.orRead(clientv3.OpGet(s.k.activeOfJob(f.Job), clientv3.WithPrefix(), clientv3.WithCountOnly()))
	}
	clientReads := map[string]int{}
	for _, p := range f.Placements {
		if c := p.Client; c != nil {
			if _, seen := clientReads[c.ID]; !seen {
				clientReads[c.ID] = t.orRead(clientv3.OpGet(s.k.client(c.Group, c.ID), clientv3.WithKeysOnly()))
			}
		}
	}
	written := s.fire(t, f, now)
	resp, err := t.commit(ctx, s)
	if err != nil {
		return res, wrap("write fire", err)
	}
	if resp.Succeeded {
		setRevision(written, resp.Header.Revision)
		return FireResult{Outcome: FireWritten, Revision: resp.Header.Revision, Written: written}, nil
	}
	if kvs := read(resp, fenceRead).Kvs; len(kvs) == 0 || kvs[0].CreateRevision != fence.Rev {
		return FireResult{Outcome: FireNotLeader}, nil
	}
	if modRevOf(read(resp, jobRead)) != f.JobRevision {
		return FireResult{Outcome: FireJobChanged}, nil
	}
	if kvs := read(resp, curRead).Kvs; len(kvs) == 0 {
		return FireResult{Outcome: FireJobChanged}, nil
	} else if cur := string(kvs[0].Value); cur >= cursor.Stamp(f.Cursor) {
		at, c, perr := cursor.Parse(cur)
		if perr != nil {
			return res, fmt.Errorf("decode cursor of %s: %w", f.Job, perr)
		}
		return FireResult{Outcome: FireCursorAhead, Cursor: at, CursorCounts: c, CursorRevision: kvs[0].ModRevision}, nil
	}
	if f.Forbid && read(resp, activeRead).Count > 0 {
		return FireResult{Outcome: FireOverlap}, nil
	}
	var gone []string
	for _, p := range f.Placements {
		c := p.Client
		if c == nil || slices.Contains(gone, c.ID) {
			continue
		}
		if kvs := read(resp, clientReads[c.ID]).Kvs; len(kvs) == 0 || kvs[0].CreateRevision != c.CreateRevision {
			gone = append(gone, c.ID)
		}
	}
	if len(gone) > 0 {
		return FireResult{Outcome: FireClientGone, GoneClients: gone}, nil
	}
	return FireResult{Outcome: FireDuplicate}, nil
}

// WriteFires writes several fires in one transaction, each with the same
// compares as WriteFire (and the fence once). It is all or nothing: if any
// compare fails it writes nothing and returns nil results, and the caller
// writes the fires one by one to learn which failed and why.
func (s *Store) WriteFires(ctx context.Context, fence Fence, fires []Fire, now time.Time) (results []FireResult, err error) {
	defer s.track("fire_batch", time.Now(), &err)
	t := &txn{}
	t.when(fence.cmp())
	written := make([][]snapshot.Live, len(fires))
	for i, f := range fires {
		written[i] = s.fire(t, f, now)
	}
	resp, err := t.commit(ctx, s)
	if err != nil {
		return nil, wrap("write fires", err)
	}
	if !resp.Succeeded {
		return nil, nil
	}
	results = make([]FireResult, len(fires))
	for i := range fires {
		setRevision(written[i], resp.Header.Revision)
		results[i] = FireResult{Outcome: FireWritten, Revision: resp.Header.Revision, Written: written[i]}
	}
	return results, nil
}

// noneActive holds if no snapshot of job is live: every key in the job's
// active prefix must have create revision 0, which only an empty range has.
func (s *Store) noneActive(job string) clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(s.k.activeOfJob(job)), "=", 0).WithPrefix()
}

// setRevision gives snapshots written at rev their revision.
func setRevision(ls []snapshot.Live, rev int64) {
	for i := range ls {
		ls[i].ModRevision = rev
	}
}

// CheckFence reports whether fence still holds, read through etcd's
// leader: a read-only transaction that compares the fence and writes
// nothing. It fails like a write would when no quorum can be reached, so
// the leader tells by it, without writing, whether it can act.
func (s *Store) CheckFence(ctx context.Context, fence Fence) (err error) {
	defer s.track("fence_check", time.Now(), &err)
	resp, err := s.c.Txn(ctx).If(fence.cmp()).Commit()
	if err != nil {
		return wrap("check fence", err)
	}
	if !resp.Succeeded {
		return ErrNotLeader
	}
	return nil
}
