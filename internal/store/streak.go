package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// StreakRows is the longest streak FailureStreak counts: a longer one counts
// as this many (the default history limit keeps 100 runs a job).
const StreakRows = 100

// streakPage is how many history rows FailureStreak reads at a time: a
// streak is usually short, and a row holds a run's output excerpt.
const streakPage = 10

// FailureStreak counts the job's newest fires that failed in a row: from
// its history, newest first, each nominal fire counts once, by its newest
// attempt (so a failure that a retry made good is no failure), failed,
// timed-out and lost runs count, canceled runs (replaced on purpose) are
// passed over, the runs of a sharded fire's shards count through its
// summary run (as for the job's last-run times), and the first succeeded
// fire ends the streak.
func (s *Store) FailureStreak(ctx context.Context, jobName string) (n int, err error) {
	defer s.track("failure_streak", time.Now(), &err)
	prefix := s.k.historyOfJob(jobName)
	end := prefixEnd(prefix)
	seen := map[time.Time]bool{}
	for read := 0; read < 4*StreakRows; {
		resp, err := s.c.Get(ctx, prefix, clientv3.WithRange(end), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend),
			clientv3.WithLimit(streakPage))
		if err != nil {
			return n, wrap("read failure streak", err)
		}
		for _, kv := range resp.Kvs {
			read++
			var r snapshot.Run
			if err := decode(string(kv.Key), kv.Value, &r); err != nil {
				return n, err
			}
			if (r.ShardTotal > 1 && r.Attempt > 0) || seen[r.ScheduledAt] {
				continue
			}
			seen[r.ScheduledAt] = true
			switch r.Status {
			case snapshot.StatusSucceeded:
				return n, nil
			case snapshot.StatusFailed, snapshot.StatusTimedOut, snapshot.StatusLost:
				if n++; n == StreakRows {
					return n, nil
				}
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return n, nil
		}
		end = string(resp.Kvs[len(resp.Kvs)-1].Key)
	}
	return n, nil
}
