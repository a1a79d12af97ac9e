package scheduler_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// opCounter counts the store's etcd requests by operation.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) observe(op string, _ time.Duration, err error) {
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[op]++
}

func (c *opCounter) get(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

// TestManyJobsFireTogether: fires of one instant go to etcd in batches,
// workers claim and report in batches, and still every job runs exactly
// once a second, with no gap and no duplicate.
func TestManyJobsFireTogether(t *testing.T) {
	const jobs = 150
	e := pinktest.StartEtcd(t)
	ops := &opCounter{n: map[string]int{}}
	st := store.New(e.Client, "", store.WithObserver(ops.observe))
	for i := range jobs {
		createJob(t, st, job.Spec{Name: fmt.Sprintf("j%03d", i), Group: "g", Schedule: "* * * * * *", Target: "record"})
	}
	rec := &recorder{}
	withCapacity := func(c *worker.Config) { c.Capacity = 2 * jobs }
	_, stop1 := startWorker(t, st, "g", map[string]worker.Handler{"record": rec.handle}, withCapacity)
	_, stop2 := startWorker(t, st, "g", map[string]worker.Handler{"record": rec.handle}, withCapacity)
	stopScheduler := startScheduler(t, st, "node-1")

	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		n := len(history(t, st, fmt.Sprintf("j%03d", jobs-1)))
		return n >= 4, fmt.Sprintf("%d runs of the last job", n)
	})
	stopScheduler()
	stop1()
	stop2()
	total := 0
	for i := range jobs {
		runs := history(t, st, fmt.Sprintf("j%03d", i))
		checkConsecutive(t, runs)
		total += len(runs)
	}
	if calls := len(rec.get()); calls != total {
		t.Errorf("%d handler calls, %d runs in history", calls, total)
	}
	for _, op := range []string{"fire_batch", "claim_batch", "complete_batch"} {
		if ops.get(op) == 0 {
			t.Errorf("no %s request: the batched path was not taken", op)
		}
	}
	t.Logf("%d runs; requests: fire %d, fire_batch %d, claim %d, claim_batch %d, complete %d, complete_batch %d", total,
		ops.get("fire"), ops.get("fire_batch"), ops.get("claim"), ops.get("claim_batch"), ops.get("complete"), ops.get("complete_batch"))
}
