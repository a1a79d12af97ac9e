package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// pink's own write concurrency, as its code has it (TestPinkConcurrency
// keeps these equal to the constants of internal/scheduler and pkg/worker): the
// leader writes up to fireBatchesInFlight fire transactions at once
// (scheduler.batchesInFlight), and each worker up to workerClaimers claim
// and workerReporters result transactions (worker.claimers and
// worker.reporters).
const (
	fireBatchesInFlight = 8
	workerClaimers      = 2
	workerReporters     = 2
)

// PinkConcurrency is the most write transactions a cluster of one leader
// and workers workers has in flight at once, which is what it has during a
// burst: the leader's fire batches plus every worker's claims and results.
// It is the etcd baseline's default concurrency.
func PinkConcurrency(workers int) int {
	return fireBatchesInFlight + workers*(workerClaimers+workerReporters)
}

// snapshotBytes is the encoded size of the value a fire of the run's jobs
// writes: the dispatched snapshot of one job of each schedule (as stored,
// with its etcd revision), assigned to a worker of the run. It returns the
// largest.
func snapshotBytes(ctx context.Context, st *store.Store, cfg Config, client string) (int, error) {
	at := time.Now().UTC().Truncate(time.Second)
	dispatched := at.Add(5 * time.Millisecond)
	most, first := 0, 0
	for _, share := range cfg.Schedules {
		spec, err := st.GetJob(ctx, jobName(first))
		if err != nil {
			return 0, fmt.Errorf("read a benchmark job: %w", err)
		}
		first += share.Jobs
		s := snapshot.ForJob(&spec, snapshot.CronID(spec.Name, at), snapshot.TriggerCron, at, at.Add(2*time.Millisecond))
		s.State, s.Client, s.DispatchedAt = snapshot.StateDispatched, client, &dispatched
		b, err := json.Marshal(s)
		if err != nil {
			return 0, fmt.Errorf("encode a snapshot: %w", err)
		}
		most = max(most, len(b))
	}
	return most, nil
}
