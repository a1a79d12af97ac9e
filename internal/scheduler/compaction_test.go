package scheduler

import (
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// TestCompactorTarget: the target is the newest mark at least the kept
// interval old, marks before it are dropped, and none is too young.
func TestCompactorTarget(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := &compactor{}
	for i := range 7 {
		c.marks = append(c.marks, store.CompactionMark{At: t0.Add(time.Duration(i) * time.Minute), Rev: int64(100 + i)})
	}
	if rev := c.target(t0.Add(4*time.Minute+59*time.Second), 5*time.Minute); rev != 0 || len(c.marks) != 7 {
		t.Errorf("no mark 5 minutes old yet: target %d, %d marks left", rev, len(c.marks))
	}
	if rev := c.target(t0.Add(6*time.Minute+30*time.Second), 5*time.Minute); rev != 101 || len(c.marks) != 6 {
		t.Errorf("target %d with %d marks left; want 101 (the mark of minute 1) and the 6 from it on", rev, len(c.marks))
	}
	if rev := c.target(t0.Add(6*time.Minute+30*time.Second), time.Minute); rev != 105 || len(c.marks) != 2 {
		t.Errorf("under pressure: target %d with %d marks left; want 105", rev, len(c.marks))
	}
}
