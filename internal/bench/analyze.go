package bench

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/pkg/worker"
)

// analyze folds the runs of nominal times in [t0, t1) into res. A fire's
// lags are its first run's. A duplicate is a second snapshot of one fire or
// a second run of one attempt; a retry after a worker died (attempt 2) is
// neither, and is counted as retried.
func analyze(res *Result, rec *recorder, obs *observer, expected map[string][]time.Time, t0, t1 time.Time) {
	type fire struct {
		job string
		at  time.Time
	}
	firstRun := map[fire]run{}
	snapshots := map[fire]map[string]bool{}
	attempts := map[string]int{}
	for _, r := range rec.snapshot() {
		if r.scheduled.Before(t0) || !r.scheduled.Before(t1) {
			continue
		}
		k := fire{r.job, r.scheduled}
		if snapshots[k] == nil {
			snapshots[k] = map[string]bool{}
		}
		snapshots[k][r.snapshot] = true
		attempts[fmt.Sprintf("%s#%d", r.snapshot, r.attempt)]++
		if r.attempt > 1 {
			res.Retried++
		}
		if f, ok := firstRun[k]; !ok || r.started.Before(f.started) {
			firstRun[k] = r
		}
	}
	for _, ids := range snapshots {
		res.Duplicates += len(ids) - 1
	}
	for _, n := range attempts {
		res.Duplicates += n - 1
	}
	var sched, disp, start []float64
	for _, r := range firstRun {
		fired, dispatched := obs.seen(r.snapshot, r.client)
		if !fired.IsZero() {
			sched = append(sched, fired.Sub(r.scheduled).Seconds())
		}
		if !dispatched.IsZero() {
			disp = append(disp, dispatched.Sub(r.scheduled).Seconds())
		}
		start = append(start, r.started.Sub(r.scheduled).Seconds())
	}
	for name, times := range expected {
		res.FiresExpected += len(times)
		for _, at := range times {
			if _, ok := firstRun[fire{name, at}]; !ok {
				res.Missed++
			}
		}
	}
	res.FiresRan = len(firstRun)
	res.RunsPerSecond = float64(res.FiresRan) / t1.Sub(t0).Seconds()
	res.ScheduleLagP50, res.ScheduleLagP99, res.ScheduleLagMax = quantile(sched, .5), quantile(sched, .99), quantile(sched, 1)
	res.DispatchLagP99 = quantile(disp, .99)
	res.StartLagP50, res.StartLagP99 = quantile(start, .5), quantile(start, .99)
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[min(i, len(s)-1)]
}

// run is what a worker's handler records of one call.
type run struct {
	job, snapshot, client string
	attempt               int
	scheduled, fired      time.Time
	dispatched, started   time.Time
}

// recorder is the benchmark's no-op handler and its memory.
type recorder struct {
	mu    sync.Mutex
	runs  []run
	first chan time.Time
	once  sync.Once
	work  time.Duration
}

func newRecorder(work time.Duration) *recorder {
	return &recorder{first: make(chan time.Time, 1), work: work}
}

func (r *recorder) handle(ctx context.Context, w worker.Run) (string, error) {
	now := time.Now()
	r.mu.Lock()
	r.runs = append(r.runs, run{job: w.Job, snapshot: w.SnapshotID, client: w.Client, attempt: w.Attempt,
		scheduled: w.ScheduledAt.UTC(), fired: w.FiredAt, dispatched: w.DispatchedAt, started: now})
	r.mu.Unlock()
	r.once.Do(func() { r.first <- w.FiredAt })
	if r.work > 0 {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(r.work):
		}
	}
	return "", nil
}

func (r *recorder) snapshot() []run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]run(nil), r.runs...)
}

func (r *recorder) waitFirst(ctx context.Context, limit time.Duration) (time.Time, error) {
	select {
	case t := <-r.first:
		return t, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-time.After(limit):
		return time.Time{}, errors.New("timed out")
	}
}

// waitFor waits until every expected fire has a run, or limit passes.
func (r *recorder) waitFor(ctx context.Context, expected map[string][]time.Time, limit time.Duration) {
	want := 0
	for _, ts := range expected {
		want += len(ts)
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		got := map[string]bool{}
		for _, ru := range r.snapshot() {
			if ts, ok := expected[ru.job]; ok && len(ts) > 0 && !ru.scheduled.Before(ts[0]) && !ru.scheduled.After(ts[len(ts)-1]) {
				got[ru.job+"@"+ru.scheduled.String()] = true
			}
		}
		if len(got) >= want {
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}
