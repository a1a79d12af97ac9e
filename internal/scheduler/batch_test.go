package scheduler_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// opCounter counts the successful etcd requests, by operation, of every
// store that reports to its registry: the test's, the scheduler's and the
// workers'.
type opCounter struct {
	t   *testing.T
	reg *telemetry.Registry
}

func newOpCounter(t *testing.T) *opCounter {
	return &opCounter{t: t, reg: telemetry.NewRegistry()}
}

// store is a store of c that reports its requests to the counter.
func (c *opCounter) store(cl *pinktest.Cluster) *store.Store {
	return store.New(cl.Etcd.Client, cl.Root, store.WithObserver(telemetry.NewEtcd(c.reg).Observe))
}

func (c *opCounter) get(op string) int {
	labels := map[string]string{"op": op}
	return int(pinktest.Metric(c.t, c.reg, "pink_etcd_request_duration_seconds", labels) -
		pinktest.Metric(c.t, c.reg, "pink_etcd_request_errors_total", labels))
}

// TestManyJobsFireTogether: fires of one instant go to etcd in batches,
// workers claim and report in batches, and still every job runs exactly
// once a second, with no gap and no duplicate.
func TestManyJobsFireTogether(t *testing.T) {
	const jobs = 150
	c := pinktest.NewCluster(t)
	ops := newOpCounter(t)
	for i := range jobs {
		c.CreateJob(t, job.Spec{Name: fmt.Sprintf("j%03d", i), Group: "g", Schedule: "* * * * * *", Target: "record"})
	}
	rec := &recorder{}
	withCapacity := func(c *worker.Config) { c.Capacity, c.Registerer = 2*jobs, ops.reg }
	stop1 := c.StartWorker(t, "g", map[string]worker.Handler{"record": rec.handle}, withCapacity).Stop
	stop2 := c.StartWorker(t, "g", map[string]worker.Handler{"record": rec.handle}, withCapacity).Stop
	stopScheduler := c.StartScheduler(t, "node-1", func(o *pinktest.SchedulerOptions) { o.Registerer = ops.reg }).Stop

	pinktest.Eventually(t, 30*time.Second, func() (bool, string) {
		n := len(c.Runs(t, fmt.Sprintf("j%03d", jobs-1)))
		return n >= 4, fmt.Sprintf("%d runs of the last job", n)
	})
	stopScheduler()
	stop1()
	stop2()
	total := 0
	for i := range jobs {
		runs := c.Runs(t, fmt.Sprintf("j%03d", i))
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
