package cursor

import (
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/counts"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Cursor values are compared by etcd as bytes: their byte order must be
// time order, across sub-second digits and years.
func TestCursorOrderIsTimeOrder(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	times := []time.Time{
		base, base.Add(time.Nanosecond), base.Add(999 * time.Millisecond), base.Add(time.Second),
		base.Add(-time.Nanosecond), base.AddDate(973, 0, 0), base.AddDate(-1000, 0, 0),
		base.In(time.FixedZone("x", -11*3600)).Add(time.Hour),
	}
	enc := make([]string, len(times))
	for i, tm := range times {
		enc[i] = Stamp(tm)
		back, err := ParseStamp(enc[i])
		if err != nil || !back.Equal(tm) {
			t.Fatalf("round trip %s: %v %v", tm, back, err)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	sort.Strings(enc)
	for i := range times {
		if Stamp(times[i]) != enc[i] {
			t.Fatalf("byte order differs from time order at %d: %s vs %s", i, Stamp(times[i]), enc[i])
		}
	}
}

// TestCursorValueEncoding: counts ride after the cursor's fixed-width time;
// a bare time (the format before counts) still loads, with zero counts;
// only a bad time is an error.
func TestCursorValueEncoding(t *testing.T) {
	want := counts.Job{Fires: map[string]int64{"cron": 3, "catchup": 1}, Skipped: map[string]int64{"misfire_skip": 2}}
	tests := []struct {
		name   string
		value  string
		counts counts.Job
	}{
		{"old format", Stamp(t0), counts.Job{}},
		{"with counts", Format(t0, want), want},
		{"zero counts", Format(t0, counts.Job{Fires: map[string]int64{"cron": 0}}), counts.Job{}},
		// Fields this version does not understand are skipped, never a
		// reason not to fire the job.
		{"unknown kind", Stamp(t0) + " x.new=1 f.cron=3", counts.Job{Fires: map[string]int64{"cron": 3}}},
		{"damaged counts", Stamp(t0) + " f.cron=-1 f.manual s.misfire_skip=2", counts.Job{Skipped: map[string]int64{"misfire_skip": 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, c, err := Parse(tt.value)
			if err != nil || !at.Equal(t0) || !reflect.DeepEqual(c, tt.counts) {
				t.Fatalf("Parse(%q) = %v %+v %v, want %v %+v", tt.value, at, c, err, t0, tt.counts)
			}
		})
	}
	if v := Format(t0, want); v != Stamp(t0)+" f.catchup=1 f.cron=3 s.misfire_skip=2" {
		t.Errorf("encoding %q", v)
	}
	for _, bad := range []string{"yesterday", "", "2026-11-26 f.cron=1"} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
