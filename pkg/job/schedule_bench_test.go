package job_test

import (
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
)

// BenchmarkScheduleNext is the leader's per-fire cost of finding a job's
// next fire time.
func BenchmarkScheduleNext(b *testing.B) {
	for _, c := range []struct{ name, expr, tz string }{
		{"every_second", "* * * * * *", "UTC"},
		{"every_minute", "0 * * * * *", "UTC"},
		{"weekdays_berlin", "30 9 * * 1-5", "Europe/Berlin"},
		{"every_10s", "@every 10s", "UTC"},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := job.ParseSchedule(c.expr, c.tz)
			if err != nil {
				b.Fatal(err)
			}
			at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			for b.Loop() {
				at = s.Next(at)
			}
		})
	}
}
