// Package cron parses cron expressions with the meaning crontab(5) gives
// them (Vixie cron, cronie) and finds their next match.
//
// It works on naive wall-clock times (the fields of a time.Time in UTC); the
// job package maps them to instants in a job's zone and handles daylight
// saving. The rules that differ between cron implementations are those of
// crontab(5):
//   - day of month and day of week: when both fields are restricted a day
//     matches if either does; when either field starts with "*" a day must
//     match both (so "0 0 */2 * 1" is Mondays that fall on an odd date);
//   - 0 and 7 are Sunday in the day-of-week field, and "sun" ends a range
//     as 7 ("fri-sun");
//   - a schedule that fires rarely (29 February on a Monday) is found
//     however far ahead it is: the search covers the Gregorian calendar's
//     400-year cycle, which bounds the work of one call.
package cron

import (
	"fmt"
	"strconv"
	"strings"
)

// field describes one position of an expression.
type field struct {
	name     string
	min, max int
	// values is how many distinct values the field has; a step larger
	// than that matches its start only and is almost always a mistake.
	values int
	names  map[string]int
}

var (
	secondField = field{name: "second", min: 0, max: 59, values: 60}
	minuteField = field{name: "minute", min: 0, max: 59, values: 60}
	hourField   = field{name: "hour", min: 0, max: 23, values: 24}
	domField    = field{name: "day-of-month", min: 1, max: 31, values: 31}
	monthField  = field{name: "month", min: 1, max: 12, values: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}}
	// Day of week runs 0-7: crontab(5) makes both 0 and 7 Sunday.
	dowField = field{name: "day-of-week", min: 0, max: 7, values: 7, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}}
)

// descriptors are the @ shorthands of crontab(5), as 6-field expressions.
var descriptors = map[string]string{
	"@yearly":   "0 0 0 1 1 *",
	"@annually": "0 0 0 1 1 *",
	"@monthly":  "0 0 0 1 * *",
	"@weekly":   "0 0 0 * * 0",
	"@daily":    "0 0 0 * * *",
	"@midnight": "0 0 0 * * *",
	"@hourly":   "0 0 * * * *",
}

// Expr is a parsed expression: the set of values each field matches and
// how its day fields combine.
type Expr struct {
	second, minute, hour, dom, month, dow uint64 // bit i set: value i matches

	// domStar and dowStar: the field starts with "*" (or "?"), which
	// crontab(5) reads as unrestricted when it combines the day fields.
	domStar, dowStar bool
	// legacyAnd is how pink combined the day fields before it followed
	// crontab(5): with AND only when a field held a plain "*" or "?".
	legacyAnd bool
	// fields are the expression's fields as written (5 or 6).
	fields []string
	// refused says why a new job may not use this expression although a
	// stored one keeps it (ParseStored); empty when Parse accepts it.
	refused string
}

// Parse parses a 5-field expression (minute hour day-of-month month
// day-of-week), a 6-field one with leading seconds, or a descriptor
// (@daily, ...). @every is the job package's: it is not a cron expression.
func Parse(expr string) (*Expr, error) {
	e, err := parse(expr)
	if err != nil {
		return nil, err
	}
	if e.refused != "" {
		return nil, fmt.Errorf("%s", e.refused)
	}
	return e, nil
}

// ParseStored parses an expression saved by an earlier pink. It accepts
// the forms that pink accepted then and refuses now for new schedules (a
// step larger than its field, "?" outside the day fields), with the same
// matches as before, so that an upgrade never stops a stored job; Refused
// says why a new job could not use it.
func ParseStored(expr string) (*Expr, error) {
	return parse(expr)
}

// Refused returns why Parse refuses an expression that ParseStored
// accepted, or "".
func (e *Expr) Refused() string { return e.refused }

func parse(expr string) (*Expr, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "@") {
		six, ok := descriptors[expr]
		if !ok {
			if expr == "@reboot" {
				return nil, fmt.Errorf("@reboot is not supported: pink fires on a clock, not when a machine starts")
			}
			return nil, fmt.Errorf("unknown descriptor %q: use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>", expr)
		}
		expr = six
	}
	fields := strings.Fields(expr)
	all := fields
	switch len(fields) {
	case 5:
		all = append([]string{"0"}, fields...)
	case 6:
	default:
		return nil, fmt.Errorf("expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, found %d", len(fields))
	}
	e := &Expr{fields: fields}
	specs := []struct {
		f    field
		bits *uint64
	}{
		{secondField, &e.second}, {minuteField, &e.minute}, {hourField, &e.hour},
		{domField, &e.dom}, {monthField, &e.month}, {dowField, &e.dow},
	}
	var legacyStar [6]bool
	for i, s := range specs {
		bits, star, refused, err := parseField(s.f, all[i])
		if err != nil {
			return nil, err
		}
		*s.bits, legacyStar[i] = bits, star
		if refused != "" && e.refused == "" {
			e.refused = refused
		}
	}
	// Sunday is 0 and 7; match on 0 only.
	if e.dow&(1<<7) != 0 {
		e.dow = e.dow&^(1<<7) | 1
	}
	e.domStar = startsWithStar(all[3])
	e.dowStar = startsWithStar(all[5])
	e.legacyAnd = legacyStar[3] || legacyStar[5]
	return e, nil
}

func startsWithStar(s string) bool { return s[0] == '*' || s[0] == '?' }

// parseField returns the bits of one field; star reports a list item that
// was a plain "*" or "?" (how pink used to decide the day rule), refused a
// form that ParseStored keeps but Parse refuses.
func parseField(f field, text string) (bits uint64, star bool, refused string, err error) {
	for _, item := range strings.Split(text, ",") {
		b, s, r, err := parseItem(f, item)
		if err != nil {
			return 0, false, "", fmt.Errorf("%s field %q: %w", f.name, text, err)
		}
		bits |= b
		star = star || s
		if r != "" && refused == "" {
			refused = fmt.Sprintf("%s field %q: %s", f.name, text, r)
		}
	}
	return bits, star, refused, nil
}

// parseItem parses one list item: "*", "?", a value or a range of values,
// each optionally followed by "/step". A single value with a step runs to
// the field's end ("5/15" is "5-59/15"), as pink always read it.
func parseItem(f field, item string) (bits uint64, star bool, refused string, err error) {
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 || len(stepText) > 4 {
			return 0, false, "", fmt.Errorf("step %q must be a whole number from 1", stepText)
		}
		step = n
		if step > f.values {
			refused = fmt.Sprintf("step %d is larger than the field's %d values, so it matches one value only: name that value", step, f.values)
		}
	}
	var lo, hi int
	switch {
	case rng == "*" || rng == "?":
		if rng == "?" && f.name != domField.name && f.name != dowField.name && refused == "" {
			refused = `"?" is only for the day fields; write "*"`
		}
		lo, hi = f.min, f.max
		if f.name == dowField.name {
			hi = 6 // 7 is Sunday again
		}
		star = step == 1
	default:
		loText, hiText, isRange := strings.Cut(rng, "-")
		if lo, err = value(f, loText); err != nil {
			return 0, false, "", err
		}
		switch {
		case isRange:
			if hi, err = value(f, hiText); err != nil {
				return 0, false, "", err
			}
			if f.name == dowField.name && hi == 0 && lo > 0 && strings.EqualFold(hiText, "sun") {
				hi = 7 // "fri-sun": Sunday ends the week
			}
			if lo > hi {
				return 0, false, "", fmt.Errorf("range %q runs backwards; split it (for example 22-23,0-2)", rng)
			}
		case hasStep:
			hi = f.max
			if f.name == dowField.name {
				hi = 6
			}
		default:
			hi = lo
		}
	}
	for v := lo; v <= hi; v += step {
		bits |= 1 << v
	}
	return bits, star, refused, nil
}

// value parses a number or, in the month and day-of-week fields, a
// three-letter name in any case.
func value(f field, text string) (int, error) {
	if text == "" {
		return 0, fmt.Errorf("a value is missing")
	}
	if n, ok := f.names[strings.ToLower(text)]; ok {
		return n, nil
	}
	if unsupported(text) {
		return 0, fmt.Errorf("%q: L, W and # (last day, weekday, nth weekday) are Quartz extensions that cron and pink do not support", text)
	}
	n, err := strconv.Atoi(text)
	if err != nil || text[0] == '+' || text[0] == '-' || len(text) > 4 {
		if f.names != nil {
			return 0, fmt.Errorf("%q is neither a number from %d to %d nor a name such as %s", text, f.min, f.max, example(f))
		}
		return 0, fmt.Errorf("%q is not a number from %d to %d", text, f.min, f.max)
	}
	if n < f.min || n > f.max {
		if f.name == dowField.name {
			return 0, fmt.Errorf("%d is out of range 0-7 (0 and 7 are Sunday)", n)
		}
		return 0, fmt.Errorf("%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

func example(f field) string {
	if f.name == monthField.name {
		return "jan"
	}
	return "mon"
}

// unsupported reports the Quartz forms L, LW, 15W, 5L and 5#3.
func unsupported(text string) bool {
	t := strings.ToUpper(text)
	if strings.Contains(t, "#") || t == "L" || t == "LW" {
		return true
	}
	last := t[len(t)-1]
	if last != 'L' && last != 'W' {
		return false
	}
	_, err := strconv.Atoi(t[:len(t)-1])
	return err == nil
}
