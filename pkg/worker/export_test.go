package worker

import (
	"testing"
	"time"
)

// SetSummaryInterval sets how often workers log their run summary, until
// the test ends. Call it before starting a worker.
func SetSummaryInterval(t testing.TB, d time.Duration) {
	old := summaryInterval
	summaryInterval = d
	t.Cleanup(func() { summaryInterval = old })
}
