package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// A worker claims a fire written ahead before its nominal time and starts
// it then without another write per run: at the nominal time it moves its
// start mark, one key per registration, forward to that time, in one
// transaction for all it starts then (StartAheadFast: no job changed and
// none of its claims was revoked since the earliest claim), or, when that
// fails, in one per batch that compares each run's claim and its job's
// revision (StartAhead). The mark is what makes a run claimed ahead safe
// to take back or move:
//
//   - the leader takes back a run claimed ahead (its job changed) only
//     while the mark is before the run's nominal time (TakeBack compares
//     it, and writes the client's revoke key), so the worker either
//     started it first, as the job was, or will find it gone;
//   - a worker that died leaves its mark as it was (StartAhead compares
//     the registration), so the leader moves each run it claimed ahead for
//     a later time as unstarted work, exactly, and records the others
//     lost.
//
// The value is the nominal time in Unix nanoseconds, zero-padded to a fixed
// width so that etcd's byte-wise value compare orders it as time. The key
// has no lease: it outlives its registration until the leader has dealt
// with what the client left (DeleteStartMarks).

const markWidth = 20

func (k keys) jobGeneration() string      { return k.root + "/node/jobs-generation" }
func (k keys) revokedPrefix() string      { return k.root + "/execute/revoked/" }
func (k keys) revoked(g, c string) string { return k.revokedPrefix() + g + "/" + c }
func (k keys) startedPrefix() string      { return k.root + "/execute/started/" }
func (k keys) started(g, c string) string { return k.startedPrefix() + g + "/" + c }
func (k keys) parseStarted(key string) (group, client string, ok bool) {
	rest, ok := strings.CutPrefix(key, k.startedPrefix())
	if !ok {
		return "", "", false
	}
	group, client, ok = strings.Cut(rest, "/")
	return group, client, ok && group != "" && client != "" && !strings.Contains(client, "/")
}

// markValue encodes t as a start mark; the zero time is the mark of a
// client that has started nothing ahead.
func markValue(t time.Time) string {
	if t.IsZero() {
		return strings.Repeat("0", markWidth)
	}
	return fmt.Sprintf("%0*d", markWidth, t.UnixNano())
}

func parseMark(v []byte) (time.Time, error) {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || len(v) != markWidth {
		return time.Time{}, fmt.Errorf("start mark %q: not %d digits", v, markWidth)
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, n).UTC(), nil
}

// markBefore holds while c's start mark is before at: c has not started
// its runs claimed ahead for at. It fails when the mark is missing.
func (s *Store) markBefore(group, client string, at time.Time) clientv3.Cmp {
	return clientv3.Compare(clientv3.Value(s.k.started(group, client)), "<", markValue(at))
}

// revokeAhead makes t hold only while l, claimed ahead, has not started,
// and tells its client's next start (StartAheadFast) that one of its
// claims changed: t writes the client's revoke key.
func (s *Store) revokeAhead(t *txn, l snapshot.Live) {
	t.when(s.markBefore(l.Group, l.Client, l.ScheduledAt))
	key := s.k.revoked(l.Group, l.Client)
	if t.revoked[key] {
		return
	}
	if t.revoked == nil {
		t.revoked = map[string]bool{}
	}
	t.revoked[key] = true
	t.then(clientv3.OpPut(key, ""))
}

// bumpJobs is the write every change of a job (edit, pause, resume,
// delete) adds: the jobs generation key, which a start of runs claimed
// ahead compares once instead of each job's revision.
func (s *Store) bumpJobs() clientv3.Op { return clientv3.OpPut(s.k.jobGeneration(), "") }

// StartAheadFast is StartAhead for runs whose claims all committed at or
// after revision since, in a transaction whose cost does not grow with
// them: instead of each claim and each job's revision it compares that no
// job changed since (the jobs generation key) and that the leader has
// taken back or moved none of c's runs claimed ahead since (c's revoke
// key). ErrConflict when either did: StartAhead then tells which runs may
// still start.
func (s *Store) StartAheadFast(ctx context.Context, c cluster.Client, since int64, through time.Time) (err error) {
	defer s.track("start_ahead_fast", time.Now(), &err)
	t := &txn{}
	s.requireClient(t, &c)
	t.when(clientv3.Compare(clientv3.ModRevision(s.k.jobGeneration()), "<", since+1),
		clientv3.Compare(clientv3.ModRevision(s.k.revoked(c.Group, c.ID)), "<", since+1))
	return s.moveMark(ctx, t, c, through)
}

// moveMark ends a start transaction t: it moves c's start mark forward to
// through (never back: two starts committed out of order leave the later
// time) and commits.
func (s *Store) moveMark(ctx context.Context, t *txn, c cluster.Client, through time.Time) error {
	mark, v := s.k.started(c.Group, c.ID), markValue(through)
	t.then(clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value(mark), "<", v)}, []clientv3.Op{clientv3.OpPut(mark, v)}, nil))
	resp, err := t.commit(ctx, s)
	if err != nil {
		return wrap("start runs claimed ahead", err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}

// markBeforeIn tells whether the start mark read in r is before at, as
// markBefore compares it.
func markBeforeIn(r *clientv3.GetResponse, at time.Time) bool {
	return len(r.Kvs) > 0 && string(r.Kvs[0].Value) < markValue(at)
}

// StartAhead moves client c's start mark forward to through, on the
// condition that c is still registered, each of ls (runs c claimed ahead,
// ModRevision their claim) is still claimed as it was, and each job is
// still at the revision its fire was written for. Only then may c start
// them: ErrConflict means that one of them changed (start them one by one
// to find out which). The mark never moves back: two starts committed out
// of order leave the later time. ls must stay within etcd's --max-txn-ops
// compares: a batch of claims (maxClaimBatch) does.
func (s *Store) StartAhead(ctx context.Context, c cluster.Client, ls []snapshot.Live, through time.Time) (err error) {
	defer s.track("start_ahead", time.Now(), &err)
	t := &txn{}
	s.requireClient(t, &c)
	for _, l := range ls {
		t.when(clientv3.Compare(clientv3.ModRevision(s.k.assign(l.Group, c.ID, l.ID)), "=", l.ModRevision))
		s.requireJobRevision(t, l)
	}
	return s.moveMark(ctx, t, c, through)
}

// Unclaim gives back a run client clientID claimed ahead but found, at its
// nominal time, written for a revision of its job that is no longer the
// job's: it is dispatched again, unclaimed, for the leader to take back
// and decide again. ErrConflict if the claim changed meanwhile.
func (s *Store) Unclaim(ctx context.Context, clientID string, l snapshot.Live) (err error) {
	defer s.track("unclaim", time.Now(), &err)
	key := s.k.assign(l.Group, clientID, l.ID)
	snap := l.Snapshot
	snap.State, snap.StartedAt, snap.ClaimedAhead = snapshot.StateDispatched, nil, false
	resp, err := s.c.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", l.ModRevision)).
		Then(clientv3.OpPut(key, encode(snap))).Commit()
	if err != nil {
		return wrap("unclaim snapshot", err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}

// StartMark reads the start mark of a client; ok is false if it has none
// (a registration of a version without claims ahead, or one the leader
// has cleaned up).
func (s *Store) StartMark(ctx context.Context, group, client string) (through time.Time, ok bool, err error) {
	defer s.track("start_mark_get", time.Now(), &err)
	resp, err := s.c.Get(ctx, s.k.started(group, client))
	if err != nil {
		return time.Time{}, false, wrap("get start mark", err)
	}
	if len(resp.Kvs) == 0 {
		return time.Time{}, false, nil
	}
	through, err = parseMark(resp.Kvs[0].Value)
	return through, err == nil, err
}

// StartMarkOwner is the client a start mark belongs to.
type StartMarkOwner struct{ Group, Client string }

// ListStartMarks returns the clients that have a start mark.
func (s *Store) ListStartMarks(ctx context.Context) (owners []StartMarkOwner, err error) {
	defer s.track("start_mark_list", time.Now(), &err)
	_, err = s.listPrefix(ctx, s.k.startedPrefix(), func(key string, _ []byte, _, _ int64) error {
		if g, c, ok := s.k.parseStarted(key); ok {
			owners = append(owners, StartMarkOwner{Group: g, Client: c})
		}
		return nil
	})
	return owners, wrap("list start marks", err)
}

// DeleteStartMarks removes the start marks of clients that are gone and
// whose runs the leader has moved or recorded, under fence.
func (s *Store) DeleteStartMarks(ctx context.Context, fence Fence, owners []StartMarkOwner) (err error) {
	defer s.track("start_mark_delete", time.Now(), &err)
	t := &txn{}
	fenced(t, fence)
	for _, o := range owners {
		t.when(clientv3.Compare(clientv3.CreateRevision(s.k.client(o.Group, o.Client)), "=", 0))
		t.then(clientv3.OpDelete(s.k.started(o.Group, o.Client)), clientv3.OpDelete(s.k.revoked(o.Group, o.Client)))
	}
	resp, err := t.commit(ctx, s)
	if err != nil {
		return wrap("delete start marks", err)
	}
	if !resp.Succeeded {
		return ErrConflict
	}
	return nil
}
