package worker

import (
	"testing"
	"time"
)

// TestClockEstimate: the estimate is the midpoint of the bounds of the
// sample with the smallest upper bound among the last clockWindow of one
// leader; a new leader starts afresh.
func TestClockEstimate(t *testing.T) {
	ms := time.Millisecond
	var e clockEstimate
	check := func(leader string, s clockSample, wantOffset, wantBound time.Duration) {
		t.Helper()
		if o, b := e.add(leader, s); o != wantOffset || b != wantBound {
			t.Errorf("add(%s, %+v) = %v ± %v, want %v ± %v", leader, s, o, b, wantOffset, wantBound)
		}
	}
	check("a", clockSample{hi: 10 * ms, width: 4 * ms}, 8*ms, 2*ms)
	// A late delivery inflates hi: the earlier, tighter sample stays.
	check("a", clockSample{hi: 90 * ms, width: 2 * ms}, 8*ms, 2*ms)
	check("a", clockSample{hi: 9 * ms, width: 6 * ms}, 6*ms, 3*ms)
	for range clockWindow - 1 {
		check("a", clockSample{hi: 20 * ms, width: 2 * ms}, 6*ms, 3*ms)
	}
	// The 9ms sample is out of the window now.
	check("a", clockSample{hi: 20 * ms, width: 2 * ms}, 19*ms, 1*ms)
	// Another leader, another clock: its samples only.
	check("b", clockSample{hi: -300 * ms, width: 2 * ms}, -301*ms, 1*ms)
	if len(e.samples) != 1 {
		t.Errorf("%d samples after a leader change, want 1", len(e.samples))
	}
}
