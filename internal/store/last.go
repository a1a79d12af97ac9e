package store

import (
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// Outcomes recorded per job under job/last/.
const (
	lastSuccess = "success"
	lastFailure = "failure"
)

// lastWrite is where a finished run moves its job's last-success or
// last-failure time: the key and the value, if any. Shard runs do not
// count: their fire's summary does. Canceled runs count as neither.
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
