package api

import (
	"fmt"
	"net/http"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// forbidRefusal says why a trigger of a forbid job was refused, in terms
// the caller can act on: a run in progress (wait, or force one after it)
// differs from a run that waits because its group has no live worker, or
// none that runs its target (start one; forcing only queues another).
func (s *Server) forbidRefusal(r *http.Request, spec job.Spec) error {
	const force = "force it to queue after that one (?force=true, pink jobs trigger --force)"
	msg := "a run of this job is in progress and its concurrency is forbid; " + force
	if live, err := s.st.ListLive(r.Context(), spec.Group, spec.Name); err == nil && len(live) > 0 {
		msg = s.pendingRefusal(r, spec, live, force, msg)
	}
	return errorf(http.StatusConflict, "concurrency_forbid", msg)
}

// pendingRefusal is the refusal's message given the job's live snapshots:
// on which worker its run is, or why it is pending; msg if the workers
// cannot be read.
func (s *Server) pendingRefusal(r *http.Request, spec job.Spec, live []snapshot.Live, force, msg string) string {
	for _, l := range live {
		if l.State != snapshot.StatePending {
			return fmt.Sprintf("a run of this job is in progress on %s and its concurrency is forbid; %s", l.Client, force)
		}
	}
	clients, err := s.st.ListClients(r.Context(), spec.Group)
	if err != nil {
		return msg
	}
	why, target := "", live[0].Target
	for _, l := range live {
		if why = cluster.NoWorkerFor(spec.Group, l.Target, clients); why != "" {
			target = l.Target
			break
		}
	}
	switch {
	case why == "":
		// Waiting for something else (a retry's backoff, a run it replaces).
		return "a run of this job is pending and its concurrency is forbid; " + force
	case cluster.TakingWork(clients) == 0:
		return fmt.Sprintf("a run of this job is pending because group %s has no live worker, and its concurrency is forbid: "+
			"start a worker of group %s; or %s", spec.Group, spec.Group, force)
	}
	return fmt.Sprintf("a run of this job is pending because no live worker of group %s runs target %q, and its concurrency is forbid: "+
		"start a worker of group %s that runs it, or correct the job's target; or %s", spec.Group, target, spec.Group, force)
}
