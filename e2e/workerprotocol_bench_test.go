package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkHTTPWorkers measures the HTTP worker protocol through one
// scheduler node (`pink dev`): 1,000 jobs every second in a group served
// by 1, 10 or 100 remote workers that long-poll, run nothing and report at
// once (each client its runs one after the other), for 20 s. It reports
// runs/s and start lag (nominal time to the poll's answer) p50 and p99
// (docs/benchmarks.md):
//
//	go test -run '^$' -bench BenchmarkHTTPWorkers -benchtime 1x ./e2e
func BenchmarkHTTPWorkers(b *testing.B) {
	for _, workers := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for range b.N {
				benchHTTPWorkers(b, workers, 1000, 20*time.Second)
			}
		})
	}
}

func benchHTTPWorkers(b *testing.B, workers, jobs int, window time.Duration) {
	_, api := startConsoleDevArgs(b, "--capacity", "1")
	api.HTTP.Timeout = time.Minute
	group := fmt.Sprintf("bench%d", workers)
	capacity := min(max(2*jobs/workers, 8), 256) // remote.MaxCapacity
	ids := make([]string, workers)
	for i := range ids {
		var reg struct {
			WorkerID string `json:"worker_id"`
		}
		api.JSON(b, "POST", "/api/v1/groups/"+group+"/workers", map[string]any{"capacity": capacity, "targets": []string{"noop"}, "ttl_seconds": 10},
			http.StatusCreated, &reg)
		ids[i] = reg.WorkerID
	}
	for i := range jobs {
		api.JSON(b, "POST", "/api/v1/jobs", map[string]any{"name": fmt.Sprintf("j%04d", i), "group": group, "schedule": "* * * * * *", "target": "noop"},
			http.StatusCreated, nil)
	}
	var mu sync.Mutex
	var lags []time.Duration
	var wg sync.WaitGroup
	start := time.Now().Add(3 * time.Second).Truncate(time.Second) // after the jobs' first fires settle
	end := start.Add(window)
	b.ResetTimer()
	for _, id := range ids {
		wg.Go(func() {
			path := "/api/v1/groups/" + group + "/workers/" + id
			for time.Now().Before(end.Add(2 * time.Second)) {
				var polled struct {
					Runs []struct {
						SnapshotID  string    `json:"snapshot_id"`
						ScheduledAt time.Time `json:"scheduled_at"`
						Claim       string    `json:"claim"`
					} `json:"runs"`
				}
				status, body, err := api.TryDo("POST", path+"/poll", map[string]any{"max": capacity, "wait_seconds": 2})
				if err != nil || status != http.StatusOK || json.Unmarshal(body, &polled) != nil {
					b.Errorf("poll: %d %v %s", status, err, body)
					return
				}
				got := time.Now()
				for _, r := range polled.Runs {
					if !r.ScheduledAt.Before(start) && r.ScheduledAt.Before(end) {
						mu.Lock()
						lags = append(lags, got.Sub(r.ScheduledAt))
						mu.Unlock()
					}
					status, body, err := api.TryDo("POST", "/api/v1/runs/"+r.SnapshotID+"/result",
						map[string]any{"worker_id": id, "claim": r.Claim, "status": "succeeded"})
					if err != nil || status != http.StatusOK {
						b.Errorf("result: %d %v %s", status, err, body)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lags)
	if len(lags) == 0 {
		b.Fatal("no run in the window")
	}
	pct := func(p float64) float64 { return lags[int(p*float64(len(lags)-1))].Seconds() * 1000 }
	b.ReportMetric(float64(len(lags))/window.Seconds(), "runs/s")
	b.ReportMetric(pct(0.5), "lag-p50-ms")
	b.ReportMetric(pct(0.99), "lag-p99-ms")
	b.ReportMetric(float64(jobs)*window.Seconds(), "fires")
}
