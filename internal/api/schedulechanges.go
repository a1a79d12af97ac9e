package api

import (
	"net/http"

	"github.com/pink-scheduler/pink/pkg/job"
)

// listScheduleChanges is a list kind of its own, with its own cursors.
const listScheduleChanges = "schedule_changes"

// changeScanPage is how many jobs the listing reads from etcd at a time.
const changeScanPage = 500

// scheduleChange is what changed for a job written before pink read
// schedules as crontab(5) does: its next fires under the old day rule and
// today's, a schedule that keeps the old fires, and, for a form new jobs
// may no longer use, why.
type scheduleChange struct {
	*ruleChange
	RefusedForNewJobs string `json:"refused_for_new_jobs,omitempty"`
}

// ruleChange is a job.RuleChange as answers write it; a zero time (no
// further fire) reads 0001-01-01T00:00:00.000Z.
type ruleChange struct {
	OldNext apiTime `json:"old_next"`
	NewNext apiTime `json:"new_next"`
	KeepOld string  `json:"keep_old_schedule"`
}

// scheduleChangeOf reports the change for spec, if it was written before
// the rules changed and either its fires moved or its form is refused now.
func (s *Server) scheduleChangeOf(spec job.Spec, sched *job.Schedule, since int64) (*scheduleChange, bool) {
	if since == 0 || spec.Revision >= since {
		return nil, false
	}
	c := &scheduleChange{RefusedForNewJobs: sched.Refused()}
	if rc, ok := sched.RuleChange(s.now()); ok {
		c.ruleChange = &ruleChange{OldNext: apiTime(rc.OldNext), NewNext: apiTime(rc.NewNext), KeepOld: rc.KeepOld}
	}
	return c, c.ruleChange != nil || c.RefusedForNewJobs != ""
}

// scheduleChangeView is one entry of GET /api/v1/schedules/changes.
type scheduleChangeView struct {
	Job      string `json:"job"`
	Group    string `json:"group"`
	Schedule string `json:"schedule"`
	Timezone string `json:"timezone"`
	Paused   bool   `json:"paused"`
	*scheduleChange
}

// listScheduleChanges lists the jobs written before pink read schedules
// as crontab(5) does whose next fires moved (or whose schedule a new job
// could not use), so that an upgrade moves no job silently. A job leaves
// the list when it is written again.
func (s *Server) listScheduleChanges(r *http.Request) (int, any, error) {
	limit, after, err := pageQuery(r, listScheduleChanges, defaultPageLimit)
	if err != nil {
		return 0, nil, err
	}
	if after != "" && !job.ValidName(after) {
		return 0, nil, badCursor()
	}
	since := s.cronRulesSince()
	if since == 0 {
		return 0, nil, errorf(http.StatusServiceUnavailable, "etcd_unavailable", "this node has not reached etcd yet; retry")
	}
	// One more than a page, so a full page knows whether another follows.
	changes, next := []scheduleChangeView{}, ""
	for len(changes) <= limit {
		page, err := s.st.JobsWrittenBefore(r.Context(), since, after, changeScanPage)
		if err != nil {
			return 0, nil, err
		}
		for _, spec := range page.Jobs {
			sched, err := spec.ParsedSchedule()
			if err != nil {
				continue // the scheduler logs it as an invalid schedule
			}
			if c, ok := s.scheduleChangeOf(spec, sched, since); ok && len(changes) <= limit {
				changes = append(changes, scheduleChangeView{Job: spec.Name, Group: spec.Group, Schedule: spec.Schedule,
					Timezone: spec.Timezone, Paused: spec.Paused, scheduleChange: c})
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(changes) > limit {
		changes = changes[:limit]
		next = changes[limit-1].Job
	}
	items, cursor, err := boundedPage(listScheduleChanges, changes, func(i int) string { return changes[i].Job }, next)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"since_revision": since, "jobs": items, "next_cursor": cursor}, nil
}
