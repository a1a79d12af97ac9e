package api

import (
	"fmt"
	"net/http"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// forbidRefusal says why a trigger of a forbid job was refused, in terms
// the caller can act on: a run in progress (wait, or force one after it)
// differs from a run that waits because its group has no live worker
// (start a worker; forcing only queues another).
func (s *Server) forbidRefusal(r *http.Request, spec job.Spec) error {
	const force = "force it to queue after that one (?force=true, pink jobs trigger --force)"
	msg := "a run of this job is in progress and its concurrency is forbid; " + force
	if live, err := s.st.ListLive(r.Context(), spec.Group, spec.Name); err == nil && len(live) > 0 {
		running := ""
		for _, l := range live {
			if l.State != snapshot.StatePending {
				running = l.Client
				break
			}
		}
		if running != "" {
			msg = fmt.Sprintf("a run of this job is in progress on %s and its concurrency is forbid; %s", running, force)
		} else {
			msg = fmt.Sprintf("a run of this job is pending because group %s has no live worker, and its concurrency is forbid: "+
				"start a worker of group %s; or %s", spec.Group, spec.Group, force)
		}
	}
	return errorf(http.StatusConflict, "concurrency_forbid", msg)
}
