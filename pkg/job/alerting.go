package job

import (
	"fmt"
	"strconv"
)

// AlertFailuresLabel is the job label that sets how many fires in a row
// must fail before PinkJobFailing fires for the job: 1 for a nightly job
// whose one failure matters, more for a job that fails now and then and
// recovers by itself. The leader exports it as pink_job_alert_failures.
const AlertFailuresLabel = "pink_alert_failures"

// DefaultAlertFailures is the threshold of a job without the label.
const DefaultAlertFailures = 3

// MaxAlertFailures bounds the label: pink counts a streak from the newest
// 100 history rows of a job.
const MaxAlertFailures = 100

// AlertFailures is the job's threshold of failed fires in a row.
func (s Spec) AlertFailures() int {
	n, err := alertFailures(s.Labels)
	if err != nil || n == 0 {
		return DefaultAlertFailures
	}
	return n
}

// alertFailures reads the label: 0 if absent, an error if it is not a
// whole number from 1 to MaxAlertFailures.
func alertFailures(labels map[string]string) (int, error) {
	v, ok := labels[AlertFailuresLabel]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxAlertFailures {
		return 0, fmt.Errorf("label %s is %q: want a whole number of failed fires in a row, 1 to %d", AlertFailuresLabel, v, MaxAlertFailures)
	}
	return n, nil
}
