package cli

import (
	"context"
	"time"
)

// scheduleChange is one entry of GET /api/v1/schedules/changes.
type scheduleChange struct {
	Job               string    `json:"job"`
	Schedule          string    `json:"schedule"`
	Timezone          string    `json:"timezone"`
	OldNext           time.Time `json:"old_next"`
	NewNext           time.Time `json:"new_next"`
	KeepOld           string    `json:"keep_old_schedule"`
	RefusedForNewJobs string    `json:"refused_for_new_jobs"`
}

// ScheduleChanges prints every job written before pink read schedules as
// crontab(5) does whose fires moved, following the pages to the end (-o
// json: the jobs of every page, without since_revision).
func (e Env) ScheduleChanges(ctx context.Context) error {
	var all []scheduleChange
	raw, err := e.list(ctx, "/api/v1/schedules/changes", nil, "jobs", &all)
	if err != nil {
		return err
	}
	return e.show(raw, func() table {
		t := table{header: []string{"JOB", "SCHEDULE", "OLD NEXT", "NEW NEXT", "KEEP OLD FIRES WITH", "NOTE"}, wide: []string{"TIMEZONE"}}
		for _, c := range all {
			t.add("job/"+c.Job, c.Job, c.Schedule, ts(c.OldNext), ts(c.NewNext), orDash(c.KeepOld), orDash(c.RefusedForNewJobs), c.Timezone)
		}
		return t
	})
}
