package store

import (
	"context"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Outcomes recorded per job under job/last/.
const (
	lastSuccess = "success"
	lastFailure = "failure"
)

// lastOps moves the job's last-success or last-failure time forward to the
// run's finish, inside the caller's transaction. Shard runs do not count:
// their fire's summary does. Canceled runs count as neither.
func (s *Store) lastOps(run snapshot.Run) []clientv3.Op {
	key, v, ok := s.lastWrite(run)
	if !ok {
		return nil
	}
	return []clientv3.Op{lastOp(key, v)}
}

// lastWrite is the key and value lastOps writes for run, if any.
func (s *Store) lastWrite(run snapshot.Run) (key, v string, ok bool) {
	if run.ShardTotal > 1 && run.Attempt > 0 {
		return "", "", false
	}
	outcome := ""
	switch run.Status {
	case snapshot.StatusSucceeded:
		outcome = lastSuccess
	case snapshot.StatusFailed, snapshot.StatusTimedOut, snapshot.StatusLost:
		outcome = lastFailure
	default:
		return "", "", false
	}
	return s.k.last(run.Job, outcome), cursor.Stamp(run.FinishedAt), true
}

// lastOp sets key to v unless it holds a later time already. A missing key
// compares as not less (etcd fails value compares on missing keys), so the
// first write goes through the second branch.
func lastOp(key, v string) clientv3.Op {
	return clientv3.OpTxn(
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(key, v)},
		[]clientv3.Op{clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.Value(key), "<", v)},
			[]clientv3.Op{clientv3.OpPut(key, v)}, nil)},
	)
}

// JobLast is the finish time of a job's last succeeded and last failed
// run (zero if none).
type JobLast struct {
	Job     string
	Success time.Time
	Failure time.Time
}

// LastEvent is a change of a job's last-success or last-failure time; a
// deleted job gives an event with Deleted set.
type LastEvent struct {
	Job     string
	Outcome string // "success" or "failure"
	At      time.Time
	Deleted bool
	Err     error
}

// MirrorJobLast mirrors every job's last-success and last-failure times.
func (s *Store) MirrorJobLast(ctx context.Context, fn func([]LastEvent, bool)) error {
	return s.Mirror(ctx, s.k.lastPrefix(), func(raw []RawEvent, synced bool) {
		out := make([]LastEvent, 0, len(raw))
		for _, ev := range raw {
			rest := strings.TrimPrefix(ev.Key, s.k.lastPrefix())
			job, outcome, ok := strings.Cut(rest, "/")
			if !ok {
				continue
			}
			le := LastEvent{Job: job, Outcome: outcome, Deleted: ev.Deleted}
			if !ev.Deleted {
				le.At, le.Err = cursor.ParseStamp(string(ev.Value))
			}
			out = append(out, le)
		}
		fn(out, synced)
	})
}
