package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// BenchmarkListRunsAcross is a page of 50 runs across jobs from an index
// of 20,000 and of 200,000 runs (100,000 jobs, 10 groups): newest first, a
// group's, and one deep in the index (by cursor). Its cost does not grow
// with the index (docs/benchmarks.md).
func BenchmarkListRunsAcross(b *testing.B) {
	for _, size := range []int{20_000, 200_000} {
		b.Run(fmt.Sprintf("runs=%d", size), func(b *testing.B) {
			ctx := context.Background()
			e := pinktest.StartEtcd(b)
			st := store.New(e.Client, "")
			runs := make([]snapshot.Run, 0, size)
			newest := time.Now().Truncate(time.Second)
			for i := range size {
				// 100,000 jobs (fewer when there are fewer runs), a run a
				// second of nominal time up to now, as a busy cluster has.
				at := newest.Add(-time.Duration(size-i) * time.Second)
				runs = append(runs, runAt(fmt.Sprintf("job-%05d", i%100_000), fmt.Sprintf("g%d", i%10), at, snapshot.StatusSucceeded))
			}
			if err := st.RecordRuns(ctx, runs); err != nil {
				b.Fatal(err)
			}
			deep := store.RunIndexPosition(runs[size/2].ID)
			for _, c := range []struct {
				name   string
				f      store.RunFilter
				cursor string
			}{
				{"newest", store.RunFilter{}, ""},
				{"group", store.RunFilter{Group: "g3"}, ""},
				{"deep", store.RunFilter{}, deep},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						page, err := st.ListRunsAcross(ctx, c.f, 50, c.cursor)
						if err != nil || len(page.Runs) != 50 {
							b.Fatalf("%d runs, %v", len(page.Runs), err)
						}
					}
				})
			}
		})
	}
}
