package cron_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cron"
)

// conformance lists expressions with the fires crontab(5) gives them. The
// expected times were worked out from the manual's rules (by hand and with
// a brute-force walk over the calendar written separately from this
// package), not by the code under test.
var conformance = []struct {
	expr, from string
	want       []string
	why        string
}{
	{"0 0 */2 * 1", "2026-03-01T00:00:00", []string{"2026-03-09T00:00:00", "2026-03-23T00:00:00", "2026-04-13T00:00:00", "2026-04-27T00:00:00"},
		"a day field starting with * makes the day rule AND: Mondays on odd dates"},
	{"0 0 1-31/2 * 1", "2026-03-01T00:00:00", []string{"2026-03-02T00:00:00", "2026-03-03T00:00:00", "2026-03-05T00:00:00", "2026-03-07T00:00:00"},
		"both day fields restricted without a star: OR"},
	{"0 0 1,15 * 1", "2026-03-01T00:00:00", []string{"2026-03-02T00:00:00", "2026-03-09T00:00:00", "2026-03-15T00:00:00", "2026-03-16T00:00:00"},
		"OR: the 1st, the 15th and every Monday"},
	{"30 4 1,15 * 5", "2026-03-01T00:00:00", []string{"2026-03-01T04:30:00", "2026-03-06T04:30:00", "2026-03-13T04:30:00", "2026-03-15T04:30:00"},
		"crontab(5)'s own example: 4:30 on the 1st, the 15th and every Friday"},
	{"0 0 13 * 5", "2026-03-01T00:00:00", []string{"2026-03-06T00:00:00", "2026-03-13T00:00:00", "2026-03-20T00:00:00", "2026-03-27T00:00:00"},
		"not 'Friday the 13th': OR"},
	{"33 * */7 * 5", "2026-03-01T00:00:00", []string{"2026-05-01T00:33:00", "2026-05-01T01:33:00", "2026-05-01T02:33:00"},
		"AND: Fridays on the 1st, 8th, 15th, 22nd or 29th"},
	{"15 17 4-28 * */2", "2026-03-01T00:00:00", []string{"2026-03-05T17:15:00", "2026-03-07T17:15:00", "2026-03-08T17:15:00", "2026-03-10T17:15:00"},
		"AND through a starred day of week"},
	{"* 22-22 14-17 11 */4", "2026-03-01T00:00:00", []string{"2026-11-15T22:00:00", "2026-11-15T22:01:00", "2026-11-15T22:02:00"},
		"AND: 14-17 November on a Sunday or Thursday"},
	{"0 0 ? * 1", "2026-03-01T00:00:00", []string{"2026-03-02T00:00:00", "2026-03-09T00:00:00"},
		"? is * in the day fields"},
	{"0 0 * * 1,*/3", "2026-03-01T00:00:00", []string{"2026-03-02T00:00:00", "2026-03-04T00:00:00", "2026-03-07T00:00:00", "2026-03-08T00:00:00"},
		"a list: Monday, and Sunday, Wednesday, Saturday"},
	{"0 0 * * 7", "2026-03-01T00:00:00", []string{"2026-03-08T00:00:00", "2026-03-15T00:00:00", "2026-03-22T00:00:00"},
		"7 is Sunday"},
	{"0 0 * * 0", "2026-03-01T00:00:00", []string{"2026-03-08T00:00:00"}, "0 is Sunday"},
	{"0 12 * * 0,7", "2026-03-01T00:00:00", []string{"2026-03-01T12:00:00", "2026-03-08T12:00:00", "2026-03-15T12:00:00"},
		"0 and 7 together: once"},
	{"0 0 * * 5-7", "2026-03-01T00:00:00", []string{"2026-03-06T00:00:00", "2026-03-07T00:00:00", "2026-03-08T00:00:00", "2026-03-13T00:00:00"},
		"a range ending in 7"},
	{"0 0 * * sat-sun", "2026-03-01T00:00:00", []string{"2026-03-07T00:00:00", "2026-03-08T00:00:00", "2026-03-14T00:00:00"},
		"a range ending in sun"},
	{"0 0 * * FRI-Sun", "2026-03-01T00:00:00", []string{"2026-03-06T00:00:00", "2026-03-07T00:00:00", "2026-03-08T00:00:00", "2026-03-13T00:00:00"},
		"names in any case"},
	{"0 9 * * 1-5", "2026-03-06T10:00:00", []string{"2026-03-09T09:00:00", "2026-03-10T09:00:00"}, "weekdays"},
	{"*/15 9-17 * * mon-fri", "2026-03-06T16:50:00", []string{"2026-03-06T17:00:00", "2026-03-06T17:15:00", "2026-03-06T17:30:00"},
		"steps, ranges and names"},
	{"0 0 1 jan,JUL *", "2026-03-01T00:00:00", []string{"2026-07-01T00:00:00", "2027-01-01T00:00:00"}, "month names"},
	{"5/15 * * * *", "2026-03-01T00:00:00", []string{"2026-03-01T00:05:00", "2026-03-01T00:20:00", "2026-03-01T00:35:00", "2026-03-01T00:50:00"},
		"a value with a step runs to the field's end"},
	{"0 0 */10 * *", "2026-03-25T00:00:00", []string{"2026-03-31T00:00:00", "2026-04-01T00:00:00", "2026-04-11T00:00:00"},
		"a step restarts with each month"},
	{"0 0 31 * *", "2026-03-31T00:00:00", []string{"2026-05-31T00:00:00", "2026-07-31T00:00:00", "2026-08-31T00:00:00"},
		"months without a 31st are skipped"},
	{"0 0 29 2 *", "2026-03-01T00:00:00", []string{"2028-02-29T00:00:00", "2032-02-29T00:00:00"}, "leap days"},
	{"0 0 29 2 *", "2096-03-01T00:00:00", []string{"2104-02-29T00:00:00", "2108-02-29T00:00:00"},
		"2100 is not a leap year: eight years to the next 29 February"},
	{"0 0 29 2 */7", "2026-03-01T00:00:00", []string{"2032-02-29T00:00:00", "2060-02-29T00:00:00"},
		"29 February on a Sunday: 28 years apart"},
	{"0 0 29 2 1", "2026-03-01T00:00:00", []string{"2027-02-01T00:00:00", "2027-02-08T00:00:00", "2027-02-15T00:00:00", "2027-02-22T00:00:00", "2028-02-07T00:00:00"},
		"OR within February: its Mondays and its 29th"},
	{"*/20 * * * * *", "2026-03-01T00:00:00", []string{"2026-03-01T00:00:20", "2026-03-01T00:00:40", "2026-03-01T00:01:00"},
		"six fields: leading seconds"},
	{"@weekly", "2026-03-01T00:00:00", []string{"2026-03-08T00:00:00"}, "@weekly is Sunday midnight"},
	{"@monthly", "2026-03-01T00:00:00", []string{"2026-04-01T00:00:00"}, "@monthly"},
	{"@yearly", "2026-06-01T00:00:00", []string{"2027-01-01T00:00:00"}, "@yearly"},
	{"@annually", "2026-06-01T00:00:00", []string{"2027-01-01T00:00:00"}, "@annually"},
	{"@daily", "2026-03-01T00:00:00", []string{"2026-03-02T00:00:00"}, "@daily"},
	{"@midnight", "2026-03-01T00:00:00", []string{"2026-03-02T00:00:00"}, "@midnight"},
	{"@hourly", "2026-03-01T00:30:00", []string{"2026-03-01T01:00:00"}, "@hourly"},
	{"0 0 31 12 *", "9998-12-31T00:00:00", []string{"9999-12-31T00:00:00"}, "the last representable year"},
}

const layout = "2006-01-02T15:04:05"

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(layout, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestConformance(t *testing.T) {
	for _, c := range conformance {
		t.Run(c.expr+"@"+c.from, func(t *testing.T) {
			e, err := cron.Parse(c.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.expr, err)
			}
			at := mustTime(t, c.from)
			var got []string
			for range c.want {
				at = e.Next(at)
				got = append(got, at.Format(layout))
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("%s (%s)\n got %v\nwant %v", c.expr, c.why, got, c.want)
			}
		})
	}
}

func TestNeverMatches(t *testing.T) {
	for _, expr := range []string{"0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *", "0 0 30 2 */7"} {
		e, err := cron.Parse(expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", expr, err)
		}
		if got := e.Next(mustTime(t, "2026-03-01T00:00:00")); !got.IsZero() {
			t.Errorf("%s: Next = %v, want the zero time", expr, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"0 0 * *", "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, found 4"},
		{"0 0 0 0 * * *", "found 7"},
		{"0 0 * * 8", `day-of-week field "8": 8 is out of range 0-7 (0 and 7 are Sunday)`},
		{"60 * * * *", `minute field "60": 60 is out of range 0-59`},
		{"0 24 * * *", `hour field "24": 24 is out of range 0-23`},
		{"0 0 0 * *", `day-of-month field "0": 0 is out of range 1-31`},
		{"0 0 * 13 *", `month field "13": 13 is out of range 1-12`},
		{"*/61 * * * *", `minute field "*/61": step 61 is larger than the field's 60 values, so it matches one value only: name that value`},
		{"0 0 * * */8", `day-of-week field "*/8": step 8 is larger than the field's 7 values`},
		{"*/0 * * * *", `minute field "*/0": step "0" must be a whole number from 1`},
		{"*/x * * * *", `step "x" must be a whole number from 1`},
		{"0 0 L * *", `day-of-month field "L": "L": L, W and # (last day, weekday, nth weekday) are Quartz extensions that cron and pink do not support`},
		{"0 0 15W * *", `"15W": L, W and #`},
		{"0 0 LW * *", `"LW": L, W and #`},
		{"0 0 * * 5#3", `"5#3": L, W and #`},
		{"0 0 * * 5L", `"5L": L, W and #`},
		{"0 0 5-1 * *", `day-of-month field "5-1": range "5-1" runs backwards; split it (for example 22-23,0-2)`},
		{"0 0 * * sat-mon", `range "sat-mon" runs backwards`},
		{"0 0 * * 5-0", `range "5-0" runs backwards`},
		{"0 0 * * funday", `day-of-week field "funday": "funday" is neither a number from 0 to 7 nor a name such as mon`},
		{"0 0 * foo *", `"foo" is neither a number from 1 to 12 nor a name such as jan`},
		{"x * * * *", `minute field "x": "x" is not a number from 0 to 59`},
		{"1,,2 * * * *", `minute field "1,,2": a value is missing`},
		{"1- * * * *", `a value is missing`},
		{"-1 * * * *", `a value is missing`},
		{"+5 * * * *", `"+5" is not a number from 0 to 59`},
		{"1-2-3 * * * *", `"2-3" is not a number`},
		{"? * * * *", `minute field "?": "?" is only for the day fields; write "*"`},
		{"0 0 * jan *", ""},
		{"@reboot", "@reboot is not supported: pink fires on a clock, not when a machine starts"},
		{"@fortnightly", `unknown descriptor "@fortnightly": use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>`},
	} {
		_, err := cron.Parse(c.expr)
		if c.want == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v, want no error", c.expr, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.expr, err, c.want)
		}
	}
}

// A stored schedule that an earlier pink accepted keeps its fires, and
// says why a new job could not use it.
func TestParseStoredKeepsOldForms(t *testing.T) {
	for _, c := range []struct{ expr, from, next, refused string }{
		{"*/61 * * * *", "2026-03-01T00:00:00", "2026-03-01T01:00:00", `minute field "*/61": step 61 is larger`},
		{"? * * * *", "2026-03-01T00:00:30", "2026-03-01T00:01:00", `minute field "?": "?" is only for the day fields`},
		{"0 0 * * 1", "2026-03-01T00:00:00", "2026-03-02T00:00:00", ""},
	} {
		e, err := cron.ParseStored(c.expr)
		if err != nil {
			t.Fatalf("ParseStored(%q): %v", c.expr, err)
		}
		if got := e.Next(mustTime(t, c.from)).Format(layout); got != c.next {
			t.Errorf("%s: Next = %s, want %s", c.expr, got, c.next)
		}
		if got := e.Refused(); (c.refused == "") != (got == "") || !strings.Contains(got, c.refused) {
			t.Errorf("%s: Refused() = %q, want %q", c.expr, got, c.refused)
		}
	}
}

// Next is strictly after its argument and ignores sub-second parts.
func TestNextIsStrictlyAfter(t *testing.T) {
	e, err := cron.Parse("* * * * * *")
	if err != nil {
		t.Fatal(err)
	}
	at := mustTime(t, "2026-03-01T00:00:00").Add(999 * time.Millisecond)
	if got := e.Next(at).Format(layout); got != "2026-03-01T00:00:01" {
		t.Errorf("Next(00:00:00.999) = %s, want 00:00:01", got)
	}
	if got := e.Next(mustTime(t, "2026-12-31T23:59:59")).Format(layout); got != "2027-01-01T00:00:00" {
		t.Errorf("Next(year end) = %s", got)
	}
}
