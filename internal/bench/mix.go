package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
)

// DefaultSchedule is every job's schedule when no mix is given: every
// second.
const DefaultSchedule = "* * * * * *"

// ScheduleShare is one entry of a schedule mix: Weight parts of the jobs
// fire on Schedule.
type ScheduleShare struct {
	Weight   int    `json:"weight"`
	Schedule string `json:"schedule"`
	// Jobs is how many of the run's jobs got this schedule (set by the run).
	Jobs int `json:"jobs"`
}

// ParseScheduleShare parses "weight:schedule" (e.g. "9:* * * * * *") or a
// bare schedule (weight 1). The weight is the leading decimal number before
// the first colon; a schedule is checked as a job's would be (UTC).
func ParseScheduleShare(s string) (ScheduleShare, error) {
	share := ScheduleShare{Weight: 1, Schedule: strings.TrimSpace(s)}
	if w, rest, ok := strings.Cut(s, ":"); ok && w != "" && strings.Trim(w, "0123456789") == "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 {
			return ScheduleShare{}, fmt.Errorf("schedule %q: the weight must be a whole number of at least 1", s)
		}
		share = ScheduleShare{Weight: n, Schedule: strings.TrimSpace(rest)}
	}
	if _, err := job.ParseSchedule(share.Schedule, "UTC"); err != nil {
		return ScheduleShare{}, err
	}
	return share, nil
}

// AssignSchedules returns shares with each one's number of jobs,
// proportional to the weights (largest remainder, ties to the earlier
// entry); jobs are assigned in blocks in the order of the shares. A share left without a job is an
// error: the mix asked for it to be measured.
func AssignSchedules(shares []ScheduleShare, jobs int) ([]ScheduleShare, error) {
	total := 0
	for _, s := range shares {
		total += s.Weight
	}
	out := make([]ScheduleShare, len(shares))
	copy(out, shares)
	given := 0
	rem := make([]int, len(out))
	for i := range out {
		out[i].Jobs = jobs * out[i].Weight / total
		rem[i] = jobs * out[i].Weight % total
		given += out[i].Jobs
	}
	for ; given < jobs; given++ {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best].Jobs++
		rem[best] = -1
	}
	for _, s := range out {
		if s.Jobs == 0 {
			return nil, fmt.Errorf("schedule %q gets none of the %d jobs at weight %d of %d: give more jobs or a larger weight", s.Schedule, jobs, s.Weight, total)
		}
	}
	return out, nil
}

// describeMix renders a mix as the flags that give it: the bare schedule
// when there is one, else "weight:schedule" entries separated by "; ".
func describeMix(shares []ScheduleShare) string {
	if len(shares) == 1 {
		return shares[0].Schedule
	}
	parts := make([]string, len(shares))
	for i, s := range shares {
		parts[i] = fmt.Sprintf("%d:%s", s.Weight, s.Schedule)
	}
	return strings.Join(parts, "; ")
}

// jobName is the name of benchmark job i.
func jobName(i int) string { return fmt.Sprintf("bench-%06d", i) }

// FiresIn lists the nominal fires in [t0, t1) of a job on schedule whose
// cursor starts at created (as pink bench creates its jobs): the chain the
// scheduler follows, Next of the cursor and Next of each fire. For cron
// expressions that is every match in the window; for "@every" schedules,
// which count from the cursor, it is the chain anchored at created.
func FiresIn(schedule string, created, t0, t1 time.Time) ([]time.Time, error) {
	sched, err := job.ParseSchedule(schedule, "UTC")
	if err != nil {
		return nil, err
	}
	var times []time.Time
	t := sched.Next(created)
	if sched.Every() == 0 && t.Before(t0) {
		t = sched.Next(t0.Add(-time.Nanosecond))
	}
	for ; !t.IsZero() && t.Before(t1); t = sched.Next(t) {
		if !t.Before(t0) {
			times = append(times, t.UTC())
		}
	}
	return times, nil
}

// expectedFires lists every nominal fire in [t0, t1) of every job, each from
// its own schedule.
func expectedFires(mix []ScheduleShare, created, t0, t1 time.Time) (map[string][]time.Time, error) {
	out := map[string][]time.Time{}
	i := 0
	for _, s := range mix {
		times, err := FiresIn(s.Schedule, created, t0, t1)
		if err != nil {
			return nil, err
		}
		for range s.Jobs {
			out[jobName(i)] = times
			i++
		}
	}
	return out, nil
}
