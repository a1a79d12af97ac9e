package job

import (
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestScheduleNext checks fire times as instants (RFC 3339 with offset),
// including both daylight-saving edge cases.
func TestScheduleNext(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		tz    string
		after string
		want  []string
	}{
		{"five fields", "*/15 * * * *", "", "2026-11-26T10:07:00Z",
			[]string{"2026-11-26T10:15:00Z", "2026-11-26T10:30:00Z", "2026-11-26T10:45:00Z"}},
		{"six fields with seconds", "*/20 * * * * *", "UTC", "2026-11-26T10:07:05Z",
			[]string{"2026-11-26T10:07:20Z", "2026-11-26T10:07:40Z", "2026-11-26T10:08:00Z"}},
		{"every second", "* * * * * *", "UTC", "2026-11-26T10:07:05.5Z",
			[]string{"2026-11-26T10:07:06Z", "2026-11-26T10:07:07Z"}},
		{"hourly descriptor", "@hourly", "UTC", "2026-11-26T10:07:00Z",
			[]string{"2026-11-26T11:00:00Z", "2026-11-26T12:00:00Z"}},
		{"daily descriptor in a zone", "@daily", "Asia/Tokyo", "2026-11-26T10:07:00Z",
			[]string{"2026-11-27T00:00:00+09:00", "2026-11-28T00:00:00+09:00"}},
		{"every 10s counts from after", "@every 10s", "", "2026-11-26T10:07:03.25Z",
			[]string{"2026-11-26T10:07:13Z", "2026-11-26T10:07:23Z"}},
		{"weekdays at 9 in Berlin (winter, UTC+1)", "0 9 * * 1-5", "Europe/Berlin", "2026-11-27T12:00:00Z",
			[]string{"2026-11-30T09:00:00+01:00", "2026-12-01T09:00:00+01:00"}},
		{"month and weekday names", "0 0 1 jan,jul *", "UTC", "2026-11-26T00:00:00Z",
			[]string{"2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"}},

		// crontab(5): a starred day field makes the day rule AND; 7 is
		// Sunday; rare dates are found however far ahead.
		{"a starred day of month: Mondays on odd dates", "0 0 */2 * 1", "UTC", "2026-03-01T00:00:00Z",
			[]string{"2026-03-09T00:00:00Z", "2026-03-23T00:00:00Z"}},
		{"7 is Sunday", "0 0 * * 7", "UTC", "2026-03-01T00:00:00Z",
			[]string{"2026-03-08T00:00:00Z", "2026-03-15T00:00:00Z"}},
		{"a range ending in Sunday", "0 12 * * sat-sun", "Europe/Berlin", "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T12:00:00+01:00", "2026-03-07T12:00:00+01:00", "2026-03-08T12:00:00+01:00"}},
		{"leap day across 2100", "0 0 29 2 *", "UTC", "2096-01-01T00:00:00Z",
			[]string{"2096-02-29T00:00:00Z", "2104-02-29T00:00:00Z", "2108-02-29T00:00:00Z"}},
		{"leap day in a zone", "0 0 29 2 *", "Pacific/Auckland", "2096-03-01T00:00:00+13:00",
			[]string{"2104-02-29T00:00:00+13:00"}},

		// Spring forward, New York 2026-03-08: 02:00 EST jumps to 03:00 EDT.
		{"skipped wall time fires at the end of the gap", "30 2 * * *", "America/New_York", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"fires inside a gap collapse into one", "*/15 * * * *", "America/New_York", "2026-03-08T01:30:00-05:00",
			[]string{"2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"}},
		{"spring forward in Berlin", "0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"}},

		// Fall back, New York 2026-11-01: 02:00 EDT goes back to 01:00 EST.
		{"repeated wall time fires once, at its first occurrence", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"hourly across fall back skips the repeated hour", "0 * * * *", "America/New_York", "2026-10-31T23:30:00-04:00",
			[]string{"2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00"}},
		{"a job created inside the repeated hour fires in it", "45 1 * * *", "America/New_York", "2026-11-01T01:10:00-05:00",
			[]string{"2026-11-01T01:45:00-05:00", "2026-11-02T01:45:00-05:00"}},
		{"every counts elapsed time across fall back", "@every 30m", "America/New_York", "2026-11-01T01:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSchedule(tc.expr, tc.tz)
			if err != nil {
				t.Fatalf("ParseSchedule(%q, %q): %v", tc.expr, tc.tz, err)
			}
			got := s.NextN(mustTime(t, tc.after), len(tc.want))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d fires, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				want := mustTime(t, w)
				if !got[i].Equal(want) {
					t.Errorf("fire %d = %s, want %s", i, got[i].Format(time.RFC3339), w)
				}
				// The fire is reported in the schedule's zone.
				if _, off := got[i].Zone(); off != offsetOf(want) {
					t.Errorf("fire %d offset = %d, want %d", i, off, offsetOf(want))
				}
			}
		})
	}
}

func offsetOf(t time.Time) int {
	_, off := t.Zone()
	return off
}

// TestScheduleNeverRepeatsAWallTime walks a whole DST year minute by minute
// for a per-minute schedule and checks that no wall-clock minute fires twice
// and fire times strictly increase.
func TestScheduleNeverRepeatsAWallTime(t *testing.T) {
	for _, tz := range []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe"} {
		s, err := ParseSchedule("*/7 * * * *", tz)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		prev := mustTime(t, "2026-01-01T00:00:00Z")
		end := mustTime(t, "2027-01-01T00:00:00Z")
		for prev.Before(end) {
			next := s.Next(prev)
			if !next.After(prev) {
				t.Fatalf("%s: Next(%s) = %s, not after", tz, prev, next)
			}
			wall := next.Format("2006-01-02 15:04")
			if seen[wall] {
				t.Fatalf("%s: wall time %s fired twice", tz, wall)
			}
			seen[wall] = true
			prev = next
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct {
		expr, tz, want string
	}{
		{"", "", "empty"},
		{"   ", "", "empty"},
		{"61 * * * *", "", "cannot parse"},
		{"* * *", "", "cannot parse"},
		{"* * * * * * *", "", "cannot parse"},
		{"TZ=UTC * * * * *", "", "timezone field"},
		{"CRON_TZ=Europe/Berlin 0 9 * * *", "", "timezone field"},
		{"TZ=UTC", "", "timezone field"},
		{"@every 500ms", "", "whole number of seconds"},
		{"@every 1500ms", "", "whole number of seconds"},
		{"@every x", "", "@every needs a duration"},
		{"@every -5s", "", "at least 1s"},
		{"@fortnightly", "", "cannot parse"},
		{"*/61 * * * *", "", `cannot parse schedule "*/61 * * * *": minute field "*/61": step 61 is larger`},
		{"? * * * *", "", `"?" is only for the day fields`},
		{"0 0 L * *", "", "Quartz extensions"},
		{"0 0 * * 8", "", "out of range 0-7 (0 and 7 are Sunday)"},
		{"0 0 30 2 *", "", "never fires"},
		{"* * * * *", "Mars/Olympus_Mons", "unknown time zone"},
		{"* * * * *", "Local", "depends on the node"},
	}
	for _, tc := range tests {
		_, err := ParseSchedule(tc.expr, tc.tz)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q, %q) = %v, want an error containing %q", tc.expr, tc.tz, err, tc.want)
		}
	}
}

func TestScheduleInterval(t *testing.T) {
	tests := []struct {
		expr string
		want time.Duration
	}{
		{"*/5 * * * *", 5 * time.Minute},
		{"@every 10s", 10 * time.Second},
		{"* * * * * *", time.Second},
		{"0 9 * * 1-5", 72 * time.Hour}, // Friday to Monday
		{"@daily", 24 * time.Hour},
	}
	after := mustTime(t, "2026-11-26T10:00:00Z")
	for _, tc := range tests {
		s, err := ParseSchedule(tc.expr, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Interval(after); got != tc.want {
			t.Errorf("Interval(%q) = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

func TestPreviewNotesDaylightSaving(t *testing.T) {
	s, err := ParseSchedule("30 1,2 * * *", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range s.Preview(mustTime(t, "2026-03-07T12:00:00-05:00"), 4) {
		got = append(got, f.At.Format(time.RFC3339)+" "+f.Note)
	}
	want := []string{"2026-03-08T01:30:00-05:00 ", "2026-03-08T03:00:00-04:00 dst_gap",
		"2026-03-09T01:30:00-04:00 ", "2026-03-09T02:30:00-04:00 "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("spring forward preview:\n got %q\nwant %q", got, want)
	}
	got = got[:0]
	for _, f := range s.Preview(mustTime(t, "2026-10-31T12:00:00-04:00"), 3) {
		got = append(got, f.At.Format(time.RFC3339)+" "+f.Note)
	}
	want = []string{"2026-11-01T01:30:00-04:00 dst_repeated", "2026-11-01T02:30:00-05:00 ", "2026-11-02T01:30:00-05:00 "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("fall back preview:\n got %q\nwant %q", got, want)
	}
}

// A stored schedule in a form new jobs may not use keeps its fires.
func TestParseStoredSchedule(t *testing.T) {
	s, err := ParseStoredSchedule("*/61 * * * *", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	got := s.NextN(mustTime(t, "2026-11-26T10:07:00Z"), 2)
	if len(got) != 2 || !got[0].Equal(mustTime(t, "2026-11-26T11:00:00Z")) || !got[1].Equal(mustTime(t, "2026-11-26T12:00:00Z")) {
		t.Errorf("fires = %v, want 11:00 and 12:00", got)
	}
	if !strings.Contains(s.Refused(), "step 61 is larger") {
		t.Errorf("Refused() = %q", s.Refused())
	}
}

// RuleChange reports the first fires that differ between the old day rule
// and crontab(5)'s, in the job's zone; nothing for an unchanged meaning.
func TestRuleChange(t *testing.T) {
	for _, c := range []struct {
		expr, tz, after string
		changed         bool
		old, new, keep  string
	}{
		{"0 0 */2 * 1", "UTC", "2026-03-01T00:00:00Z", true, "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "0 0 1-31/2 * 1"},
		{"30 6 */7 * 5", "Europe/Berlin", "2026-03-01T00:00:00Z", true, "2026-03-01T06:30:00+01:00", "2026-05-01T06:30:00+02:00", "30 6 1-31/7 * 5"},
		// The rules can agree for a while: 26 March is a Thursday, so both
		// fire then; the change shows at the next fire (31 March, dom 31).
		{"0 0 */5 * 4", "UTC", "2026-03-25T12:00:00Z", true, "2026-03-31T00:00:00Z", "2026-04-16T00:00:00Z", "0 0 1-31/5 * 4"},
		{"0 0 * * 1", "UTC", "2026-03-01T00:00:00Z", false, "", "", ""},
		{"0 0 1,15 * 1", "UTC", "2026-03-01T00:00:00Z", false, "", "", ""},
		{"@every 1h", "UTC", "2026-03-01T00:00:00Z", false, "", "", ""},
	} {
		s, err := ParseStoredSchedule(c.expr, c.tz)
		if err != nil {
			t.Fatal(err)
		}
		rc, ok := s.RuleChange(mustTime(t, c.after))
		if ok != c.changed {
			t.Errorf("%s: changed = %v, want %v (%+v)", c.expr, ok, c.changed, rc)
			continue
		}
		if !ok {
			continue
		}
		if !rc.OldNext.Equal(mustTime(t, c.old)) || !rc.NewNext.Equal(mustTime(t, c.new)) || rc.KeepOld != c.keep {
			t.Errorf("%s: %v, %v, %q; want %s, %s, %q", c.expr, rc.OldNext, rc.NewNext, rc.KeepOld, c.old, c.new, c.keep)
		}
	}
}

// The previews the cron-compatibility issue names, as the API shows them.
func TestCrontabPreviews(t *testing.T) {
	for _, c := range []struct{ expr, after, want string }{
		{"0 0 */2 * 1", "2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z 2026-03-23T00:00:00Z"},
		{"0 0 * * 7", "2026-11-26T00:00:00Z", "2026-11-29T00:00:00Z 2026-12-06T00:00:00Z"},
		{"0 0 29 2 *", "2096-02-28T00:00:00Z", "2096-02-29T00:00:00Z 2104-02-29T00:00:00Z"},
	} {
		s, err := ParseSchedule(c.expr, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range s.Preview(mustTime(t, c.after), 2) {
			got = append(got, f.At.Format(time.RFC3339))
			if f.At.Weekday() != time.Sunday && c.expr == "0 0 * * 7" {
				t.Errorf("%s fires on a %s", c.expr, f.At.Weekday())
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s from %s previews %v, want %s", c.expr, c.after, got, c.want)
		}
	}
}
