package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// The run index lists every run across jobs, newest nominal time first:
// execute/history/index/<newest-first stamp>/<run id>, its value the run's
// group and status, so that filters read no rows. It is written in the
// transaction that writes the run to history and deleted in the one that
// trims it, so it holds exactly the runs history holds. The stamp counts
// down (maxIndexSecond minus the nominal Unix second), so etcd reads the
// newest runs first with a plain ascending range and a limit: a sorted
// range would make etcd read the whole index.

// maxIndexSecond is larger than the Unix second of snapshot.LastFire.
const maxIndexSecond = 999_999_999_999

// indexEntry is the value of an index key.
type indexEntry struct {
	Group  string          `json:"g"`
	Status snapshot.Status `json:"s"`
	// Duration is the run's duration in seconds, for statistics.
	Duration float64 `json:"d,omitempty"`
}

// indexStamp is the newest-first stamp of nominal time t.
func indexStamp(t time.Time) string {
	return fmt.Sprintf("%012d", maxIndexSecond-max(t.Unix(), 0))
}

// runIndexKey is the index key of a run, from its id alone (the nominal
// time is in the id), so a trim needs no read to find it.
func (k keys) runIndexKey(runID string) (string, bool) {
	at, ok := snapshot.ScheduledAtOf(runID)
	if !ok {
		return "", false
	}
	return k.runIndexPrefix() + indexStamp(at) + "/" + runID, true
}

func (k keys) runIndexPrefix() string { return k.root + "/execute/history/index/" }

// indexRun adds run's index entry to t.
func (s *Store) indexRun(t *txn, run snapshot.Run) {
	if key, ok := s.k.runIndexKey(run.ID); ok {
		t.then(clientv3.OpPut(key, encode(indexEntry{Group: run.Group, Status: run.Status, Duration: run.DurationSeconds})))
	}
}

// RunFilter selects runs across jobs; zero fields select everything.
type RunFilter struct {
	Group  string
	Status snapshot.Status
	// Since and Until bound the nominal time, both included.
	Since, Until time.Time
}

func (f RunFilter) keeps(e indexEntry) bool {
	return (f.Group == "" || e.Group == f.Group) && (f.Status == "" || e.Status == f.Status)
}

// MaxIndexScan bounds the index entries one ListRunsAcross reads: a filter
// that matches rarely returns a short page (maybe empty) with a cursor
// rather than read the whole index in one request.
const MaxIndexScan = 10_000

// Windows of nominal time that one index read covers, in seconds: etcd
// counts every key of a range it is asked for, even with a limit, so a
// read over the whole index would cost its size. Each read covers a window
// that widens while the index is sparse and narrows where it is dense, so
// that a read counts about what it returns.
const (
	firstWindow = 60
	maxWindow   = maxIndexSecond
)

// ListRunsAcross returns up to limit runs of every job that f selects,
// newest nominal time first, after cursor (a previous page's Next). Its
// cost is the index entries it scans (at most MaxIndexScan) plus one read
// per run returned, whatever the number of jobs and runs.
func (s *Store) ListRunsAcross(ctx context.Context, f RunFilter, limit int, cursor string) (page RunPage, err error) {
	defer s.track("run_list_across", time.Now(), &err)
	prefix := s.k.runIndexPrefix()
	until := f.Until
	if until.IsZero() {
		until = s.now().Add(time.Hour) // no run's nominal time is later
	}
	from, end := prefix+indexStamp(until), prefixEnd(prefix)
	if !f.Since.IsZero() {
		end = prefix + indexStamp(f.Since) + "0" // past every key of that second
	}
	if cursor != "" {
		from = max(from, prefix+cursor+"\x00")
	}
	var ids []string
	last, rev, done, err := s.indexScan(ctx, from, end, MaxIndexScan, func(key string, e indexEntry) bool {
		if f.keeps(e) {
			ids = append(ids, lastSegment(key))
		}
		return len(ids) < limit
	})
	if err != nil {
		return page, err
	}
	// Unless the range is read to its end, the page resumes after the last
	// entry read: the last run returned, or where the bounded scan stopped.
	if !done {
		page.Next = strings.TrimPrefix(last, prefix)
	}
	page.Runs, err = s.readRuns(ctx, ids, rev)
	return page, err
}

// indexScan reads the run index from key from (included) to end (not),
// newest first, in windows, at one revision, calling fn with each entry
// until fn returns false or maxScan entries were read. It returns the last
// key read, the revision, and whether the range was read to its end.
func (s *Store) indexScan(ctx context.Context, from, end string, maxScan int, fn func(key string, e indexEntry) bool) (last string, rev int64, done bool, err error) {
	prefix := s.k.runIndexPrefix()
	scanned, window := 0, int64(firstWindow)
	for from < end {
		if scanned >= maxScan {
			return last, rev, false, nil
		}
		winEnd := min(end, windowEnd(prefix, from, window))
		opts := []clientv3.OpOption{clientv3.WithRange(winEnd), clientv3.WithLimit(int64(min(pageBatch, maxScan-scanned)))}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.c.Get(ctx, from, opts...)
		if err != nil {
			return last, rev, false, wrap("read the run index", err)
		}
		rev = resp.Header.Revision
		for i, kv := range resp.Kvs {
			scanned++
			last = string(kv.Key)
			var e indexEntry
			_ = json.Unmarshal(kv.Value, &e)
			if !fn(last, e) {
				return last, rev, i == len(resp.Kvs)-1 && !resp.More && winEnd == end, nil
			}
		}
		if resp.More {
			from = last + "\x00"
		} else {
			from = winEnd // the window is read: on to the next one
		}
		switch {
		case resp.Count > 4*pageBatch:
			window = max(1, window/4)
		case resp.Count < pageBatch/4:
			window = min(maxWindow, window*4)
		}
	}
	return last, rev, true, nil
}

// readRuns reads the history rows of ids at revision rev, in order; a row
// trimmed meanwhile is left out.
func (s *Store) readRuns(ctx context.Context, ids []string, rev int64) ([]snapshot.Run, error) {
	runs := make([]snapshot.Run, 0, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), maxOpsPerTxn)
		ops := make([]clientv3.Op, 0, n)
		for _, id := range ids[:n] {
			job, _ := snapshot.JobOf(id)
			ops = append(ops, clientv3.OpGet(s.k.history(job, id), clientv3.WithRev(rev)))
		}
		tr, err := s.c.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return runs, wrap("read runs", err)
		}
		for _, r := range tr.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				var run snapshot.Run
				if err := decode(string(kv.Key), kv.Value, &run); err != nil {
					return runs, err
				}
				runs = append(runs, run)
			}
		}
		ids = ids[n:]
	}
	return runs, nil
}

// RunIndexPosition is the position of run id in the run index, the cursor
// that resumes a ListRunsAcross after it.
func RunIndexPosition(runID string) string {
	at, _ := snapshot.ScheduledAtOf(runID)
	return indexStamp(at) + "/" + runID
}

// windowEnd is the end of the index window of the given seconds that
// starts at key from (a key or a position in the index).
func windowEnd(prefix, from string, seconds int64) string {
	rest := strings.TrimPrefix(from, prefix)
	stamp, err := strconv.ParseInt(rest[:min(len(rest), 12)], 10, 64)
	if err != nil || len(rest) < 12 {
		return prefixEnd(prefix)
	}
	if stamp+seconds > maxIndexSecond {
		return prefixEnd(prefix)
	}
	return prefix + fmt.Sprintf("%012d", stamp+seconds)
}
