package store

import (
	"context"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/job"
)

// JobFilter selects jobs for FindJobs; its zero value selects every job.
type JobFilter struct {
	Group string
	// Query matches a case-insensitive substring of the name or the
	// description.
	Query string
	// Paused, when set, keeps only paused (true) or active (false) jobs.
	Paused *bool
	// Labels keeps jobs that carry every one of these labels.
	Labels map[string]string
	// Failing keeps jobs whose last finished run failed.
	Failing bool
	// writtenBefore, when set, keeps jobs last written before this
	// revision (JobsWrittenBefore).
	writtenBefore int64
}

func (f JobFilter) isZero() bool {
	return f.Group == "" && f.Query == "" && f.Paused == nil && len(f.Labels) == 0 && !f.Failing && f.writtenBefore == 0
}

func (f JobFilter) keep(spec *job.Spec, last LastOutcome) bool {
	if f.Group != "" && spec.Group != f.Group {
		return false
	}
	if f.writtenBefore > 0 && spec.Revision >= f.writtenBefore {
		return false
	}
	if f.Paused != nil && spec.Paused != *f.Paused {
		return false
	}
	for k, v := range f.Labels {
		if got, ok := spec.Labels[k]; !ok || got != v {
			return false
		}
	}
	if f.Failing && !last.Failing() {
		return false
	}
	if f.Query != "" {
		q := strings.ToLower(f.Query)
		return strings.Contains(strings.ToLower(spec.Name), q) || strings.Contains(strings.ToLower(spec.Description), q)
	}
	return true
}

// LastOutcome is when a job's last successful and last failed runs
// finished (zero: none kept).
type LastOutcome struct{ Success, Failure time.Time }

// Failing reports whether the job's latest finished run failed.
func (l LastOutcome) Failing() bool { return l.Failure.After(l.Success) }

// MaxJobScan bounds the jobs one FindJobs call reads: a filter that few
// jobs pass answers a short page with a cursor instead of reading every
// job of a large cluster in one request.
const MaxJobScan = 5000

// maxJobScan is MaxJobScan; tests lower it.
var maxJobScan = MaxJobScan

// FoundJobs is one page of FindJobs.
type FoundJobs struct {
	Jobs []job.Spec
	// Last holds the last outcomes of the jobs on the page that have one.
	Last map[string]LastOutcome
	// Next is the cursor of the following page, "" when no job follows.
	// A page cut short by MaxJobScan has a Next and fewer than limit jobs.
	Next string
}

// findBatch is how many jobs FindJobs reads per etcd request.
const findBatch = 200

// FindJobs returns up to limit jobs that f keeps, ordered by name, after
// the job named after, with their last outcomes, all read at one
// revision.
func (s *Store) FindJobs(ctx context.Context, f JobFilter, after string, limit int) (page FoundJobs, err error) {
	defer s.track("job_find", time.Now(), &err)
	page.Last = map[string]LastOutcome{}
	prefix := s.k.jobPrefix()
	from, end := prefix, prefixEnd(prefix)
	if after != "" {
		from = prefix + after + "\x00"
	}
	var rev int64
	scanned, scannedBytes, size := 0, 0, 0
	for {
		// Batches sized by bytes: a batch of large jobs is never one huge
		// read.
		want := min(findBatch, maxJobScan-scanned)
		if f.isZero() {
			want = min(want, limit+1-len(page.Jobs))
		}
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(batchSize(scanned, scannedBytes, max(PageBytes-size, PageBytes/4), want))}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.c.Get(ctx, from, opts...)
		if err != nil {
			return page, wrap("find jobs", err)
		}
		rev = resp.Header.Revision
		if len(resp.Kvs) == 0 {
			return page, nil
		}
		specs := make([]job.Spec, 0, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			spec, err := DecodeJob(string(kv.Key), kv.Value, kv.ModRevision)
			if err != nil {
				return page, err
			}
			specs = append(specs, spec)
		}
		last, err := s.lastOutcomes(ctx, specs[0].Name, specs[len(specs)-1].Name, rev)
		if err != nil {
			return page, err
		}
		for i, spec := range specs {
			scanned, scannedBytes = scanned+1, scannedBytes+len(resp.Kvs[i].Value)
			if f.keep(&spec, last[spec.Name]) {
				if len(page.Jobs) == limit || (len(page.Jobs) > 0 && size+len(resp.Kvs[i].Value) > PageBytes) {
					page.Next = page.Jobs[len(page.Jobs)-1].Name
					return page, nil
				}
				size += len(resp.Kvs[i].Value)
				page.Jobs = append(page.Jobs, spec)
				if l, ok := last[spec.Name]; ok {
					page.Last[spec.Name] = l
				}
			}
			if scanned >= maxJobScan {
				if i < len(specs)-1 || resp.More {
					page.Next = spec.Name
				}
				return page, nil
			}
		}
		if !resp.More {
			return page, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// LastOutcome reads one job's last outcomes.
func (s *Store) LastOutcome(ctx context.Context, name string) (LastOutcome, error) {
	last, err := s.lastOutcomes(ctx, name, name, 0)
	return last[name], err
}

// lastOutcomes reads the last outcomes of the jobs named first to last
// (inclusive) at rev (0: now).
func (s *Store) lastOutcomes(ctx context.Context, first, last string, rev int64) (map[string]LastOutcome, error) {
	out := map[string]LastOutcome{}
	prefix := s.k.lastPrefix()
	// From "<first>" (not "<first>/"): a name that sorts after first can
	// sort before "<first>/" ("a-b/" < "a/"). To the end of "<last>...":
	// every name up to last sorts before it.
	_, err := s.listRange(ctx, prefix+first, prefixEnd(prefix+last), rev, func(key string, v []byte, _, _ int64) error {
		name, outcome := jobAndOutcome(key[len(prefix):])
		at, err := cursor.ParseStamp(string(v))
		if err != nil {
			return nil // not a time: shown as no outcome
		}
		l := out[name]
		if outcome == lastSuccess {
			l.Success = at
		} else {
			l.Failure = at
		}
		out[name] = l
		return nil
	})
	if err != nil {
		return nil, wrap("read last outcomes", err)
	}
	return out, nil
}
