package etcdspace

import (
	"errors"
	"testing"
	"time"
)

func TestShouldDefrag(t *testing.T) {
	const min = 64 << 20
	for _, tt := range []struct {
		e    Endpoint
		want bool
	}{
		{Endpoint{Size: 1 << 30, InUse: 400 << 20}, true},
		{Endpoint{Size: 1 << 30, InUse: 600 << 20}, false},  // less than half free
		{Endpoint{Size: 100 << 20, InUse: 40 << 20}, false}, // 60 MiB free: not worth it
		{Endpoint{Size: 1 << 30, InUse: 0, Err: errors.New("down")}, false},
	} {
		if got := ShouldDefrag(tt.e, min); got != tt.want {
			t.Errorf("ShouldDefrag(%d MiB, %d MiB in use) = %v", tt.e.Size>>20, tt.e.InUse>>20, got)
		}
	}
	if ShouldDefrag(Endpoint{Size: 1 << 30}, 0) {
		t.Error("minFree 0 must mean never")
	}
}

// TestDefragWaitsForLastingFreeSpace: free space that is used again before
// DefragAfter (a steady load's swings) never triggers a defragmentation;
// free space that lasts does, once.
func TestDefragWaitsForLastingFreeSpace(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	free := Endpoint{Size: 1 << 30, InUse: 300 << 20}
	used := Endpoint{Size: 1 << 30, InUse: 900 << 20}
	d := &defragger{minFree: 64 << 20, after: 10 * time.Minute}
	var got []int
	for i := range 80 { // a read every 15 s for 20 minutes
		e := free
		if i < 30 && i%8 >= 4 { // first 7.5 minutes: swinging
			e = used
		}
		if d.due(e, t0.Add(time.Duration(i)*15*time.Second)) {
			got = append(got, i)
			d.since = time.Time{}
		}
	}
	// Free from read 30 on (7.5 min); due 10 minutes later, at read 70.
	if len(got) != 1 || got[0] != 70 {
		t.Errorf("defragmented at reads %v, want [70]", got)
	}
}
