package worker

import (
	"context"
	"sync"

	"github.com/pink-scheduler/pink/internal/store"
)

// watchJobs follows the jobs of the worker's group, so that each job's
// per-job series exist at 0 from the moment the job does and disappear when
// it is deleted or moves to another group. It resumes from its revision
// like every mirror. With the job label off it does nothing. The returned
// func stops it and waits for it.
func (w *Worker) watchJobs(ctx context.Context) (stop func()) {
	if !w.metrics.PerJob() {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		group := w.cfg.Group
		err := w.st.MirrorGroupJobs(ctx, group, func(evs []store.GroupJobEvent, _ bool) {
			for _, ev := range evs {
				if ev.Deleted {
					w.metrics.DeleteJob(ev.Job, group)
				} else {
					w.metrics.AddJob(ev.Job, group)
				}
			}
		})
		if err != nil && ctx.Err() == nil {
			w.log.Error("job watch stopped; per-job series may be stale", "err", err)
		}
	}()
	return func() { cancel(); wg.Wait() }
}
