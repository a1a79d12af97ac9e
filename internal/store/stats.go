package store

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/pink-scheduler/pink/internal/cursor"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// StatsQuery selects the runs RunStats counts: of one job or group (or
// all), with a nominal time in [From, To), in buckets of Step.
type StatsQuery struct {
	Job, Group string
	From, To   time.Time
	Step       time.Duration
}

// StatsBucket is the runs of one bucket: counts by status and durations.
type StatsBucket struct {
	Start     time.Time
	Runs      map[snapshot.Status]int
	Durations []float64 // seconds, sorted
}

// RunStats counts the runs of the run index that q selects, newest first,
// reading at most maxScan entries. Truncated reports a range it could not
// read to the end (its oldest buckets are then incomplete); Oldest is the
// nominal time of the oldest entry it read.
func (s *Store) RunStats(ctx context.Context, q StatsQuery, maxScan int) (buckets []StatsBucket, oldest time.Time, truncated bool, err error) {
	defer s.track("run_stats", time.Now(), &err)
	n := int((q.To.Sub(q.From) + q.Step - 1) / q.Step)
	buckets = make([]StatsBucket, n)
	for i := range buckets {
		buckets[i] = StatsBucket{Start: q.From.Add(time.Duration(i) * q.Step), Runs: map[snapshot.Status]int{}}
	}
	prefix := s.k.runIndexPrefix()
	// To is excluded: the newest second read is the one before it.
	from, end := prefix+indexStamp(q.To.Add(-time.Second)), prefix+indexStamp(q.From)+"0"
	_, _, done, err := s.indexScan(ctx, from, end, maxScan, func(key string, e indexEntry) bool {
		id := lastSegment(key)
		at, ok := snapshot.ScheduledAtOf(id)
		if !ok {
			return true
		}
		oldest = at
		if job, _ := snapshot.JobOf(id); (q.Job != "" && job != q.Job) || (q.Group != "" && e.Group != q.Group) {
			return true
		}
		if i := int(at.Sub(q.From) / q.Step); i >= 0 && i < n {
			buckets[i].Runs[e.Status]++
			buckets[i].Durations = append(buckets[i].Durations, e.Duration)
		}
		return true
	})
	for i := range buckets {
		sort.Float64s(buckets[i].Durations)
	}
	return buckets, oldest, !done, err
}

// JobTotals counts jobs: all, paused, and failing (their last finished run
// failed), of one group if group is not "" or one job if name is not "".
type JobTotals struct {
	Jobs, Paused, Failing int
}

// CountJobs reads every job and last-run time once (its cost grows with the
// number of jobs, not of runs).
func (s *Store) CountJobs(ctx context.Context, group, name string) (t JobTotals, err error) {
	defer s.track("job_count", time.Now(), &err)
	jobs := map[string]bool{}
	_, err = s.listPrefix(ctx, s.k.jobPrefix(), func(key string, v []byte, _, _ int64) error {
		var spec struct {
			Name   string `json:"name"`
			Group  string `json:"group"`
			Paused bool   `json:"paused"`
		}
		if json.Unmarshal(v, &spec) != nil || (group != "" && spec.Group != group) || (name != "" && spec.Name != name) {
			return nil
		}
		jobs[spec.Name] = true
		t.Jobs++
		if spec.Paused {
			t.Paused++
		}
		return nil
	})
	if err != nil {
		return t, wrap("count jobs", err)
	}
	last := map[string][2]time.Time{} // job: success, failure
	_, err = s.listPrefix(ctx, s.k.lastPrefix(), func(key string, v []byte, _, _ int64) error {
		job, outcome := jobAndOutcome(key[len(s.k.lastPrefix()):])
		if !jobs[job] {
			return nil
		}
		at, err := cursor.ParseStamp(string(v))
		if err != nil {
			return nil
		}
		l := last[job]
		if outcome == lastSuccess {
			l[0] = at
		} else {
			l[1] = at
		}
		last[job] = l
		return nil
	})
	for _, l := range last {
		if l[1].After(l[0]) {
			t.Failing++
		}
	}
	return t, wrap("count failing jobs", err)
}

// jobAndOutcome splits "<job>/<outcome>".
func jobAndOutcome(rest string) (job, outcome string) {
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == '/' {
			return rest[:i], rest[i+1:]
		}
	}
	return rest, ""
}
