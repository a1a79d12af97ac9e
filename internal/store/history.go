package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// RunPage is one page of a job's history, newest first.
type RunPage struct {
	Runs []snapshot.Run
	// Next is the cursor of the following page, "" on the last page.
	Next string
}

// ListRuns returns up to limit runs of job, newest scheduled first, starting
// after cursor (a run id from a previous page's Next) and keeping only runs
// with the given status if status is not empty.
func (s *Store) ListRuns(ctx context.Context, jobName string, status snapshot.Status, limit int, cursor string) (page RunPage, err error) {
	defer s.track("run_list", time.Now(), &err)
	prefix := s.k.historyOfJob(jobName)
	end := prefixEnd(prefix)
	if cursor != "" {
		end = prefix + cursor // exclusive: the cursor run was on the last page
	}
	// size is the bytes of the runs kept; scanned and scannedBytes count
	// every row read (a status filter skips some), for the batch size.
	size, scanned, scannedBytes := 0, 0, 0
	for {
		resp, err := s.c.Get(ctx, prefix, clientv3.WithRange(end),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(batchSize(scanned, scannedBytes, PageBytes-size, limit+1-len(page.Runs))))
		if err != nil {
			return page, wrap("list runs", err)
		}
		for _, kv := range resp.Kvs {
			scanned, scannedBytes = scanned+1, scannedBytes+len(kv.Value)
			var r snapshot.Run
			if err := decode(string(kv.Key), kv.Value, &r); err != nil {
				return page, err
			}
			if status != "" && r.Status != status {
				continue
			}
			if len(page.Runs) > 0 && size+len(kv.Value) > PageBytes {
				page.Next = page.Runs[len(page.Runs)-1].ID
				return page, nil
			}
			size += len(kv.Value)
			page.Runs = append(page.Runs, r)
			if len(page.Runs) == limit {
				if resp.More || kv != resp.Kvs[len(resp.Kvs)-1] {
					page.Next = lastSegment(string(kv.Key))
				}
				return page, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return page, nil
		}
		end = string(resp.Kvs[len(resp.Kvs)-1].Key)
	}
}

// GetRun reads one run by id.
func (s *Store) GetRun(ctx context.Context, id string) (r snapshot.Run, err error) {
	defer s.track("run_get", time.Now(), &err)
	name, ok := snapshot.JobOf(id)
	if !ok {
		return r, ErrNotFound
	}
	resp, err := s.c.Get(ctx, s.k.history(name, id))
	if err != nil {
		return r, wrap("get run", err)
	}
	if len(resp.Kvs) == 0 {
		return r, ErrNotFound
	}
	return r, decode(id, resp.Kvs[0].Value, &r)
}
