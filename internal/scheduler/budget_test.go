package scheduler

import "testing"

// TestHistoryKeep: the rows every job may hold (keep plus the slack it
// gathers between trims) fit the budget, and the limit and the floor of
// one run hold.
func TestHistoryKeep(t *testing.T) {
	tests := []struct {
		budget          int64
		jobs, limit     int
		keep, slack     int
		fitsUnlessFloor bool
	}{
		{DefaultHistoryMaxBytes, 10, 100, 100, 10, true},
		{DefaultHistoryMaxBytes, 1000, 100, 60, 6, true},
		{DefaultHistoryMaxBytes, 0, 100, 100, 10, true},
		{DefaultHistoryMaxBytes, 1000, 10, 10, 1, true},
		{DefaultHistoryMaxBytes, 100_000, 100, 1, 1, false},
		{64 << 20, 10, 100_000, 768, 77, true},
	}
	for _, tt := range tests {
		keep, slack := historyKeep(tt.budget, tt.jobs, tt.limit)
		if keep != tt.keep || slack != tt.slack {
			t.Errorf("historyKeep(%d MiB, %d jobs, limit %d) = %d, %d; want %d, %d", tt.budget>>20, tt.jobs, tt.limit, keep, slack, tt.keep, tt.slack)
		}
		if most := int64(max(tt.jobs, 1)) * int64(keep+slack) * historyRowBytes; tt.fitsUnlessFloor && most > tt.budget {
			t.Errorf("%d jobs × (%d + %d) rows × %d bytes = %d MiB, over the %d MiB budget", tt.jobs, keep, slack, historyRowBytes, most>>20, tt.budget>>20)
		}
	}
}
