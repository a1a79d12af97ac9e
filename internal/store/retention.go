package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// HistoryJobsAfter returns up to n names of jobs that have history rows
// (deleted jobs included), in name order, starting after the name after.
// It reads one key per job, so a pass over all jobs costs one small read
// per job however long their histories are.
func (s *Store) HistoryJobsAfter(ctx context.Context, after string, n int) (names []string, err error) {
	defer s.track("history_jobs", time.Now(), &err)
	start, end := s.k.historyPrefix(), prefixEnd(s.k.historyPrefix())
	if after != "" {
		start = prefixEnd(s.k.historyOfJob(after))
	}
	for len(names) < n {
		resp, err := s.c.Get(ctx, start, clientv3.WithRange(end), clientv3.WithKeysOnly(), clientv3.WithLimit(1))
		if err != nil {
			return names, wrap("list history jobs", err)
		}
		if len(resp.Kvs) == 0 {
			return names, nil
		}
		rest := strings.TrimPrefix(string(resp.Kvs[0].Key), s.k.historyPrefix())
		job, _, _ := strings.Cut(rest, "/")
		names = append(names, job)
		start = prefixEnd(s.k.historyOfJob(job))
	}
	return names, nil
}

// maxOpsPerTxn keeps each deleting transaction under etcd's default limit
// of 128 operations.
const maxOpsPerTxn = 100

// TrimHistory deletes a job's runs beyond the newest keep (keep <= 0 keeps
// all) and those that finished before cutoff. Run ids sort by nominal time,
// so the count limit reads keys only; a run can only finish after its
// nominal time, so only rows whose nominal time is before cutoff have their
// finish time read (a backfilled run of an old fire is kept while young).
// Deletes are fenced by leadership. It returns how many rows it deleted.
func (s *Store) TrimHistory(ctx context.Context, fence Fence, job string, keep int, cutoff time.Time) (deleted int, err error) {
	defer s.track("history_trim", time.Now(), &err)
	prefix := s.k.historyOfJob(job)
	resp, err := s.c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	if err != nil {
		return 0, wrap("list history", err)
	}
	var doomed, old []string
	for i, kv := range resp.Kvs {
		key := string(kv.Key)
		if keep > 0 && i >= keep {
			doomed = append(doomed, key)
		} else if at, ok := snapshot.ScheduledAtOf(lastSegment(key)); ok && at.Before(cutoff) {
			old = append(old, key)
		}
	}
	for len(old) > 0 {
		n := min(len(old), maxOpsPerTxn)
		ops := make([]clientv3.Op, 0, n)
		for _, key := range old[:n] {
			ops = append(ops, clientv3.OpGet(key))
		}
		tr, err := s.c.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return 0, wrap("read old history", err)
		}
		for _, r := range tr.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				var run struct {
					FinishedAt time.Time `json:"finished_at"`
				}
				if json.Unmarshal(kv.Value, &run) == nil && run.FinishedAt.Before(cutoff) {
					doomed = append(doomed, string(kv.Key))
				}
			}
		}
		old = old[n:]
	}
	return s.deleteRuns(ctx, fence, doomed)
}

// deleteRuns deletes history rows and their index entries, each row with
// its entry in one fenced transaction, and returns how many rows went.
func (s *Store) deleteRuns(ctx context.Context, fence Fence, historyKeys []string) (int, error) {
	deleted := 0
	for len(historyKeys) > 0 {
		n := min(len(historyKeys), maxOpsPerTxn/2)
		ops := make([]clientv3.Op, 0, 2*n)
		for _, key := range historyKeys[:n] {
			ops = append(ops, clientv3.OpDelete(key))
			if ikey, ok := s.k.runIndexKey(lastSegment(key)); ok {
				ops = append(ops, clientv3.OpDelete(ikey))
			}
		}
		tr, err := s.c.Txn(ctx).If(fence.cmp()).Then(ops...).Commit()
		if err != nil {
			return deleted, wrap("delete runs", err)
		}
		if !tr.Succeeded {
			return deleted, ErrNotLeader
		}
		deleted += n
		historyKeys = historyKeys[n:]
	}
	return deleted, nil
}
