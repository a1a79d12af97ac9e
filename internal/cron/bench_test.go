package cron_test

import (
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cron"
)

// BenchmarkNext is the cost of one Next: common schedules, a rare one, and
// the bound (an expression that matches nothing walks the whole 400 years).
func BenchmarkNext(b *testing.B) {
	for _, c := range []struct{ name, expr string }{
		{"every_second", "* * * * * *"},
		{"weekdays_9am", "0 9 * * 1-5"},
		{"mondays_on_odd_dates", "0 0 */2 * 1"},
		{"leap_day", "0 0 29 2 *"},
		{"never_30_february", "0 0 30 2 *"},
	} {
		b.Run(c.name, func(b *testing.B) {
			e, err := cron.Parse(c.expr)
			if err != nil {
				b.Fatal(err)
			}
			from := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			at := from
			for b.Loop() {
				if at = e.Next(at); at.IsZero() {
					at = from
				}
			}
		})
	}
}
