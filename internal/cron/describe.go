package cron

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// Describe reads the expression in English for people ("every weekday at
// 09:00", "every 15 minutes"), or returns "" when it has no short reading:
// then the expression itself is the clearest text. It says nothing of the
// time zone, which is the job's.
func (e *Expr) Describe() string {
	clock, at := e.describeClock()
	if clock == "" {
		return ""
	}
	days, ok := e.describeDays()
	if !ok {
		return ""
	}
	months := e.describeMonths()
	var out string
	switch {
	case at && days == "":
		out = "every day " + clock
	case at:
		out = days + " " + clock
	case days == "":
		out = clock
	default:
		out = clock + ", " + days
	}
	if months != "" {
		out += ", " + months
	}
	return out
}

// describeClock reads the second, minute and hour fields. at reports a
// reading of the form "at 09:00" (which the day phrase comes before).
func (e *Expr) describeClock() (text string, at bool) {
	secAll, minAll, hourAll := e.second == span(0, 59), e.minute == span(0, 59), e.hour == span(0, 23)
	sec, secOne := one(e.second)
	switch {
	case secAll && minAll && hourAll:
		return "every second", false
	case !secOne:
		if k := even(e.second, 59); k > 0 && minAll && hourAll {
			return fmt.Sprintf("every %d seconds", k), false
		}
		return "", false
	}
	suffix := ""
	if sec != 0 {
		suffix = fmt.Sprintf(" and %d seconds", sec)
	}
	min, minOne := one(e.minute)
	switch {
	case minAll && hourAll:
		if sec != 0 {
			return "", false
		}
		return "every minute", false
	case hourAll && minOne:
		return fmt.Sprintf("every hour at minute %d%s", min, suffix), false
	case hourAll:
		if k := even(e.minute, 59); k > 0 && sec == 0 {
			return fmt.Sprintf("every %d minutes", k), false
		}
		return "", false
	case minOne:
		if k := even(e.hour, 23); k > 0 && bits.OnesCount64(e.hour) > 6 {
			return fmt.Sprintf("every %d hours at minute %d%s", k, min, suffix), false
		}
	}
	hours, mins := values(e.hour), values(e.minute)
	if len(hours)*len(mins) > 6 {
		return "", false
	}
	var times []string
	for _, h := range hours {
		for _, m := range mins {
			t := fmt.Sprintf("%02d:%02d", h, m)
			if sec != 0 {
				t += fmt.Sprintf(":%02d", sec)
			}
			times = append(times, t)
		}
	}
	return "at " + list(times), true
}

// describeDays reads the day-of-month and day-of-week fields, combined as
// crontab(5) does; "" means every day. ok is false for combinations with
// no short reading.
func (e *Expr) describeDays() (text string, ok bool) {
	domAll, dowAll := e.dom == span(1, 31), e.dow == span(0, 6)
	if !e.domStar && !e.dowStar {
		// Both restricted: a day matches if either field does.
		if domAll || dowAll {
			return "", true
		}
		return describeMonthDays(e.dom) + " or " + describeWeekdays(e.dow), true
	}
	// A field starting with "*": a day must match both.
	switch {
	case domAll && dowAll:
		return "", true
	case domAll:
		return describeWeekdays(e.dow), true
	case dowAll:
		return describeMonthDays(e.dom), true
	default:
		// A partial step of days and some weekdays: rare, and clearest
		// as the expression itself.
		return "", false
	}
}

func describeWeekdays(dow uint64) string {
	switch dow {
	case span(1, 5):
		return "every weekday"
	case 1 | 1<<6:
		return "on weekends"
	}
	var names []string
	for _, d := range values(dow) {
		names = append(names, time.Weekday(d).String())
	}
	if len(names) == 1 {
		return "every " + names[0]
	}
	return "on " + list(names)
}

func describeMonthDays(dom uint64) string {
	days := values(dom)
	if len(days) == 1 {
		return fmt.Sprintf("on day %d of the month", days[0])
	}
	if k := step(dom>>1, 30); k > 0 && days[0] == 1 {
		return fmt.Sprintf("every %d days of the month from the 1st", k)
	}
	var s []string
	for _, d := range days {
		s = append(s, fmt.Sprint(d))
	}
	return "on days " + list(s) + " of the month"
}

func (e *Expr) describeMonths() string {
	if e.month == span(1, 12) {
		return ""
	}
	var names []string
	for _, m := range values(e.month) {
		names = append(names, time.Month(m).String())
	}
	return "in " + list(names)
}

// span is the bit set of lo..hi.
func span(lo, hi int) uint64 { return rangeBits(lo, hi) }

// one returns the value of a set with exactly one member.
func one(set uint64) (int, bool) {
	if bits.OnesCount64(set) != 1 {
		return 0, false
	}
	return bits.TrailingZeros64(set), true
}

// step returns k when set is 0, k, 2k, ... up to max (k > 1), else 0.
func step(set uint64, max int) int {
	if set&1 == 0 || bits.OnesCount64(set) < 2 {
		return 0
	}
	k := bits.TrailingZeros64(set &^ 1)
	var want uint64
	for v := 0; v <= max; v += k {
		want |= 1 << v
	}
	if k < 2 || want != set {
		return 0
	}
	return k
}

// even is step for a step that divides the field's range, so the gap
// stays the same across the wrap (*/7 seconds is 0, 7, ... 56, then 0
// four seconds later: not "every 7 seconds").
func even(set uint64, max int) int {
	if k := step(set, max); k > 0 && (max+1)%k == 0 {
		return k
	}
	return 0
}

// values lists the members of set in order.
func values(set uint64) []int {
	var out []int
	for set != 0 {
		v := bits.TrailingZeros64(set)
		out = append(out, v)
		set &^= 1 << v
	}
	return out
}

// list joins items as English does: "a", "a and b", "a, b and c".
func list(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
