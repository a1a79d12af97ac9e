package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// BenchmarkWriteFires is the etcd cost of a fire written alone and in
// batches of the sizes the leader makes, on an embedded etcd: ns/fire is
// what bounds one leader's fires per second.
func BenchmarkWriteFires(b *testing.B) {
	for _, batch := range []int{1, 10, 40} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			e := pinktest.StartEtcd(b)
			st := store.New(e.Client, "/pink")
			ctx := context.Background()
			if err := st.CreateGroup(ctx, cluster.Group{Name: "g"}); err != nil {
				b.Fatal(err)
			}
			specs := make([]job.Spec, batch)
			for i := range specs {
				specs[i] = job.Spec{Name: fmt.Sprintf("j%03d", i), Group: "g", Schedule: "* * * * * *", Target: "noop", CreatedAt: t0}
				specs[i].ApplyDefaults()
			}
			if _, err := st.CreateJobs(ctx, specs); err != nil {
				b.Fatal(err)
			}
			for i := range specs {
				var err error
				if specs[i], err = st.GetJob(ctx, specs[i].Name); err != nil {
					b.Fatal(err)
				}
			}
			w := register(b, e, st, "w1")
			_, fence := campaign(b, e.Client, st, "node-a")
			at := t0
			for b.Loop() {
				at = at.Add(time.Second)
				fires := make([]store.Fire, batch)
				for i, spec := range specs {
					fires[i] = fireAt(spec, at, &w)
				}
				if batch == 1 {
					if res, err := st.WriteFire(ctx, fence, fires[0], at); err != nil || res.Outcome != store.FireWritten {
						b.Fatalf("fire: %v %v", res.Outcome, err)
					}
					continue
				}
				if res, err := st.WriteFires(ctx, fence, fires, at); err != nil || res == nil {
					b.Fatalf("fire batch: %v", err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/fire")
		})
	}
}
