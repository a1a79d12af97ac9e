package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// CronRulesSince returns the etcd revision from which jobs were written
// under crontab(5)'s reading of cron expressions (see job.RuleChange): the
// create revision of a marker that the first node of such a version
// writes. A job last written before it may fire differently than its
// author saw when writing it, and is reported.
func (s *Store) CronRulesSince(ctx context.Context) (rev int64, err error) {
	defer s.track("cron_rules", time.Now(), &err)
	key := s.k.cronRules()
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, "crontab(5)")).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return 0, wrap("mark the cron rules", err)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return 0, wrap("read the cron rules mark", ErrNotFound)
	}
	return kvs[0].CreateRevision, nil
}

// JobsWrittenBefore returns a page of the jobs last written before
// revision rev, ordered by name from after, as FindJobs pages (a page may
// be short and still have a Next).
func (s *Store) JobsWrittenBefore(ctx context.Context, rev int64, after string, limit int) (FoundJobs, error) {
	return s.FindJobs(ctx, JobFilter{writtenBefore: rev}, after, limit)
}
