package api

import (
	"context"
	"fmt"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// The leader hands a snapshot only to a live worker of its group that runs
// its target (cluster.Client.Runs); until there is one, it waits as
// pending. The API says so where people look: in the answer to a job's
// create or replace (warnings) and on each pending snapshot
// (pending_reason). Both are read from the group's live registrations when
// asked: they cost the leader nothing and no etcd write.

// targetWarnings are the warnings of a job just written: one when no live
// worker of its group would take its fires, else none. The job is written
// either way; a failed read of the workers only costs the warning.
func (s *Server) targetWarnings(ctx context.Context, spec job.Spec) []string {
	clients, err := s.st.ListClients(ctx, spec.Group)
	if err != nil {
		s.log.Warn("cannot read the group's workers to check the job's target", "job_name", spec.Name, "group", spec.Group, "err", err)
		return nil
	}
	if w := cluster.TargetWarning(spec.Group, spec.Target, clients); w != "" {
		return []string{w}
	}
	return nil
}

// pendingReasons sets the reasons of the pending snapshots among views,
// reading the live workers of their groups (of group, if not "") once,
// and only if one is pending.
func (s *Server) pendingReasons(ctx context.Context, group string, views []snapshotView) error {
	var byGroup map[string][]cluster.Client
	for i := range views {
		if views[i].State != snapshot.StatePending {
			continue
		}
		if byGroup == nil {
			clients, err := s.st.ListClients(ctx, group)
			if err != nil {
				return fmt.Errorf("read the live workers: %w", err)
			}
			byGroup = map[string][]cluster.Client{}
			for _, c := range clients {
				byGroup[c.Group] = append(byGroup[c.Group], c)
			}
		}
		views[i].PendingReason = cluster.NoWorkerFor(views[i].Group, views[i].Target, byGroup[views[i].Group])
	}
	return nil
}
