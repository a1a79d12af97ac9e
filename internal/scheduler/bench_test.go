package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// BenchmarkPick is the dispatch choice of each strategy among a group's
// clients.
func BenchmarkPick(b *testing.B) {
	for _, clients := range []int{3, 30} {
		g := newGroupState("g")
		for i := range clients {
			id := fmt.Sprintf("w%02d", i)
			g.clients[id] = &cluster.Client{ID: id, Group: "g", Targets: []string{"noop"}}
			g.perClient[id] = i % 5
		}
		for _, s := range []job.Strategy{job.StrategyRoundRobin, job.StrategyRandom, job.StrategyLeastLoaded, job.StrategyHash} {
			b.Run(fmt.Sprintf("%s/clients=%d", s, clients), func(b *testing.B) {
				js := &jobState{spec: job.Spec{Name: "j", Strategy: s}}
				snap := &snapshot.Snapshot{ID: "j@20261126T120000Z", Target: "noop"}
				for b.Loop() {
					if pick(js, g, snap, nil) == nil {
						b.Fatal("no client picked")
					}
				}
			})
		}
	}
}

// BenchmarkFireQueue is the leader's next-fire structure: take the job
// due first and requeue it at its next fire, among n jobs.
func BenchmarkFireQueue(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			var q fireQueue
			base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			for i := range n {
				q.set(&jobState{spec: job.Spec{Name: fmt.Sprintf("j%06d", i)}, idx: -1, next: base.Add(time.Duration(i%3600) * time.Second)})
			}
			for b.Loop() {
				js := q.peek()
				js.next = js.next.Add(time.Hour)
				q.set(js)
			}
		})
	}
}

// BenchmarkPlanFires is the misfire decision of one due job: on time, and
// an hour behind with each policy.
func BenchmarkPlanFires(b *testing.B) {
	sched, err := job.ParseSchedule("* * * * * *", "UTC")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		policy job.Misfire
		behind time.Duration
	}{
		{"on_time", job.MisfireRunOnce, time.Second},
		{"hour_behind/skip", job.MisfireSkip, time.Hour},
		{"hour_behind/run_once", job.MisfireRunOnce, time.Hour},
		{"hour_behind/run_all", job.MisfireRunAll, time.Hour},
	} {
		b.Run(c.name, func(b *testing.B) {
			spec := job.Spec{Name: "j", Schedule: "* * * * * *", Misfire: c.policy}
			spec.ApplyDefaults()
			for b.Loop() {
				if p := planFires(sched, &spec, now.Add(-c.behind), now, 5*time.Second); len(p.fires) == 0 {
					b.Fatal("empty plan")
				}
			}
		})
	}
}
