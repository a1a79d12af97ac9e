package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// StreakRows is how many of a job's newest history rows FailureStreak reads:
// a streak longer than what they hold counts as that many (the default
// history limit keeps 100 runs a job).
const StreakRows = 100

// FailureStreak counts the job's newest fires that failed in a row: from
// its history, newest first, each nominal fire counts once, by its newest
// attempt (so a failure that a retry made good is no failure), failed,
// timed-out and lost runs count, canceled runs (replaced on purpose) are
// passed over, and the first succeeded fire ends the streak.
func (s *Store) FailureStreak(ctx context.Context, jobName string) (n int, err error) {
	defer s.track("failure_streak", time.Now(), &err)
	prefix := s.k.historyOfJob(jobName)
	resp, err := s.c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(StreakRows))
	if err != nil {
		return 0, wrap("read failure streak", err)
	}
	seen := map[time.Time]bool{}
	for _, kv := range resp.Kvs {
		var r snapshot.Run
		if err := decode(string(kv.Key), kv.Value, &r); err != nil {
			return n, err
		}
		if seen[r.ScheduledAt] {
			continue
		}
		seen[r.ScheduledAt] = true
		switch r.Status {
		case snapshot.StatusSucceeded:
			return n, nil
		case snapshot.StatusFailed, snapshot.StatusTimedOut, snapshot.StatusLost:
			n++
		}
	}
	return n, nil
}
