package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// TakeBack is the leader's answer to an edit inside the lookahead: fires
// written ahead of their nominal time whose job changed before they
// started are removed, and the job's cursor moves back to rewind (just
// before the earliest of them), with the counts c, so that the leader
// decides those fires again from the job as it now is. It holds only while
// fence holds, the job is still at jobRevision (the revision the leader
// decides with) and every snapshot is unchanged since it was read (none was
// claimed, and none claimed ahead has started: see StartAhead): it is all
// or nothing. It returns Moved and the revision of the
// write, MoveNotLeader, or MoveSnapshotChanged when the job or a snapshot
// changed meanwhile (their watch events tell what happened).
func (s *Store) TakeBack(ctx context.Context, fence Fence, job string, jobRevision int64, ls []snapshot.Live, rewind time.Time, c counts.Job) (out MoveOutcome, rev int64, err error) {
	defer s.track("take_back", time.Now(), &err)
	t := &txn{}
	fenceRead := fenced(t, fence)
	t.when(clientv3.Compare(clientv3.ModRevision(s.k.job(job)), "=", jobRevision))
	for _, l := range ls {
		if l.ClaimedAhead {
			// Claimed ahead: only while its client has not started it.
			s.revokeAhead(t, l)
		}
		s.leave(t, l)
		s.endOrRetry(t, l.Job, l.ID, nil)
	}
	t.then(clientv3.OpPut(s.k.cursor(job), cursor.Format(rewind, c)))
	resp, err := t.commit(ctx, s)
	if err != nil {
		return 0, 0, wrap("take back fires", err)
	}
	switch {
	case resp.Succeeded:
		return Moved, resp.Header.Revision, nil
	case len(read(resp, fenceRead).Kvs) == 0 || read(resp, fenceRead).Kvs[0].CreateRevision != fence.Rev:
		return MoveNotLeader, 0, nil
	}
	return MoveSnapshotChanged, 0, nil
}
