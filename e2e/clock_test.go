package e2e

import (
	"testing"
	"time"

	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// checkClockOffset waits for the worker at url to measure its clock
// against the leader's: they run on one host, with one clock, so the true
// offset, 0, must be within the measurement's error bound.
func checkClockOffset(t *testing.T, url string) {
	t.Helper()
	var offset, bound float64
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		g := pinktest.Scrape(t, url)
		offset = pinktest.Metric(t, g, "pink_worker_clock_offset_seconds", nil)
		bound = pinktest.Metric(t, g, "pink_worker_clock_offset_error_seconds", nil)
		return pinktest.Series(t, g, "pink_worker_clock_offset_seconds", nil) == 1, "no clock offset measured yet"
	})
	t.Logf("worker clock offset %.6fs ± %.6fs", offset, bound)
	if offset > bound || -offset > bound || bound > 0.1 {
		t.Errorf("worker clock offset %vs ± %vs: want 0 within the bound, and a bound under 100ms", offset, bound)
	}
}
