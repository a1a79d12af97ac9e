package job

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/internal/cron"
)

// Schedule is a parsed cron expression bound to a time zone.
//
// Expressions mean what crontab(5) makes of them (Vixie cron, cronie): 5
// fields, or 6 with leading seconds; names, lists, ranges and steps; 0 and
// 7 are Sunday; when a day field starts with "*" a day must match both day
// fields, otherwise either. docs/jobs.md ("Cron syntax") has the details.
//
// Cron expressions match wall-clock times in the job's zone. pink resolves the
// two daylight-saving edge cases the same way every time:
//   - a wall time that does not exist (spring forward) fires once, at the
//     instant the gap ends; several matches inside one gap collapse into that
//     single fire;
//   - a wall time that exists twice (fall back) fires once, at its first
//     occurrence.
//
// So a schedule never fires twice for one wall time and never silently drops a
// day. "@every" schedules count elapsed time and ignore wall clocks.
type Schedule struct {
	expr  string
	loc   *time.Location
	spec  *cron.Expr    // evaluated on naive wall-clock times (UTC fields)
	every time.Duration // non-zero for @every
}

// ParseSchedule parses expr in the IANA time zone tz ("" means UTC), as a
// new job's schedule.
func ParseSchedule(expr, tz string) (*Schedule, error) {
	s, err := parseSchedule(expr, tz)
	if err != nil {
		return nil, err
	}
	if s.spec != nil && s.spec.Refused() != "" {
		return nil, fmt.Errorf("cannot parse schedule %q: %s", s.expr, s.spec.Refused())
	}
	return s, nil
}

// ParseStoredSchedule parses a schedule that a job in etcd holds. It also
// accepts the forms an earlier pink accepted and new jobs may no longer
// use (see Refused), with the fires they had, so that an upgrade never
// stops a job.
func ParseStoredSchedule(expr, tz string) (*Schedule, error) {
	return parseSchedule(expr, tz)
}

func parseSchedule(expr, tz string) (*Schedule, error) {
	loc, err := LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, errors.New("schedule is empty")
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, errors.New("time zone prefixes are not supported in the schedule: use the timezone field")
	}
	if strings.HasPrefix(expr, "@every") {
		return parseEvery(expr, loc)
	}
	spec, err := cron.ParseStored(expr)
	if err != nil {
		return nil, fmt.Errorf("cannot parse schedule %q: %w", expr, err)
	}
	s := &Schedule{expr: expr, loc: loc, spec: spec}
	if s.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires", expr)
	}
	return s, nil
}

func parseEvery(expr string, loc *time.Location) (*Schedule, error) {
	arg := strings.TrimSpace(strings.TrimPrefix(expr, "@every"))
	d, err := time.ParseDuration(arg)
	if err != nil {
		return nil, fmt.Errorf("cannot parse schedule %q: @every needs a duration such as 10s or 5m", expr)
	}
	if d < time.Second || d%time.Second != 0 {
		return nil, fmt.Errorf("schedule %q: @every needs a whole number of seconds, at least 1s", expr)
	}
	return &Schedule{expr: expr, loc: loc, every: d}, nil
}

// LoadLocation resolves an IANA zone name; "" and "UTC" mean UTC. Local is
// refused on purpose: a schedule must mean the same on every node.
func LoadLocation(tz string) (*time.Location, error) {
	switch tz {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, errors.New(`time zone "Local" depends on the node: name an IANA zone such as Europe/Berlin`)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", tz)
	}
	return loc, nil
}

// String returns the expression as written.
func (s *Schedule) String() string { return s.expr }

// Location is the zone the schedule is evaluated in.
func (s *Schedule) Location() *time.Location { return s.loc }

// Every returns the fixed interval of an @every schedule, or 0.
func (s *Schedule) Every() time.Duration { return s.every }

// LastFire is the latest fire time pink represents: its records, ids and
// cursors write a year with four digits. A schedule has no fire after it.
var LastFire = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Next returns the first fire time strictly after t, in the schedule's zone,
// or the zero time if the schedule never fires again (before LastFire).
func (s *Schedule) Next(after time.Time) time.Time {
	t, _ := s.next(after)
	return t
}

// Notes on a fire time that daylight saving moved or made ambiguous.
const (
	// NoteDSTGap: the matched wall time did not exist (the clock jumped
	// forward); the fire happens when the gap ends.
	NoteDSTGap = "dst_gap"
	// NoteDSTRepeated: the wall time occurs twice (the clock went back);
	// the fire happens at its first occurrence only.
	NoteDSTRepeated = "dst_repeated"
)

// Fire is one upcoming fire time with a note if daylight saving shaped it.
type Fire struct {
	At   time.Time
	Note string
}

// Preview returns up to n fires after t, noting daylight-saving effects.
func (s *Schedule) Preview(after time.Time, n int) []Fire {
	out := make([]Fire, 0, n)
	for len(out) < n {
		t, note := s.next(after)
		if t.IsZero() {
			break
		}
		out = append(out, Fire{At: t, Note: note})
		after = t
	}
	return out
}

func (s *Schedule) next(after time.Time) (time.Time, string) {
	return s.nextBy(after, s.spec.Next)
}

// nextBy is next with the wall-clock matcher given, so that the old day
// rule (RuleChange) gets the same daylight-saving handling.
func (s *Schedule) nextBy(after time.Time, match func(time.Time) time.Time) (time.Time, string) {
	t, note := s.nextAny(after, match)
	if t.After(LastFire) {
		return time.Time{}, ""
	}
	return t, note
}

func (s *Schedule) nextAny(after time.Time, match func(time.Time) time.Time) (time.Time, string) {
	if s.every > 0 {
		base := after.Truncate(time.Second)
		if base.After(LastFire.Add(-s.every)) {
			return time.Time{}, "" // the sum would pass LastFire (or overflow)
		}
		return base.Add(s.every).In(s.loc), ""
	}
	w := wallClock(after.In(s.loc))
	// Each step moves the wall clock strictly forward, so the loop ends; the
	// bound only protects against a pathological zone database.
	for range 100000 {
		w = match(w)
		if w.IsZero() {
			return time.Time{}, ""
		}
		if t, note, ok := s.resolve(w, after); ok {
			return t, note
		}
	}
	return time.Time{}, ""
}

// NextN returns up to n fire times after t.
func (s *Schedule) NextN(after time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for len(out) < n {
		after = s.Next(after)
		if after.IsZero() {
			break
		}
		out = append(out, after)
	}
	return out
}

// resolve maps the naive wall-clock time w to the earliest instant after
// `after` that shows w in the schedule's zone, applying the DST rules above.
func (s *Schedule) resolve(w, after time.Time) (time.Time, string, bool) {
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, s.loc)
	if got := wallClock(t); !got.Equal(w) {
		// w falls into a gap. time.Date normalised it to one side of the
		// transition; the transition instant is where the gap ends.
		start, end := t.ZoneBounds()
		gapEnd := end
		if got.After(w) {
			gapEnd = start
		}
		return gapEnd, NoteDSTGap, gapEnd.After(after)
	}
	best, occurrences := time.Time{}, 0
	consider := func(c time.Time) {
		if !wallClock(c.In(s.loc)).Equal(w) {
			return
		}
		occurrences++
		if c.After(after) && (best.IsZero() || c.Before(best)) {
			best = c.In(s.loc)
		}
	}
	consider(t)
	// The same wall time may also exist in the neighbouring zone periods
	// (a repeated hour); the earliest occurrence wins.
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	if _, prev := start.Add(-time.Second).Zone(); !start.IsZero() && prev != off {
		consider(t.Add(time.Duration(off-prev) * time.Second))
	}
	if _, next := end.Zone(); !end.IsZero() && next != off {
		consider(t.Add(time.Duration(off-next) * time.Second))
	}
	note := ""
	if occurrences > 1 {
		note = NoteDSTRepeated
	}
	return best, note, !best.IsZero()
}

// wallClock returns t's wall-clock fields as a UTC time, so that cron
// matching ignores offsets.
func wallClock(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.UTC)
}

// Interval estimates the nominal time between fires: the longest gap among the
// next few fires after t. Alerts use it as "should have run by now".
func (s *Schedule) Interval(after time.Time) time.Duration {
	if s.every > 0 {
		return s.every
	}
	fires := s.NextN(after, 8)
	var longest time.Duration
	for i := 1; i < len(fires); i++ {
		if d := fires[i].Sub(fires[i-1]); d > longest {
			longest = d
		}
	}
	return longest
}

// Describe reads the schedule in English with its zone ("every weekday at
// 09:00, Europe/Berlin", "every 5m"), for people: the console and the CLI
// show it beside the expression. It is "" when the expression has no short
// reading; then the expression is the text to show.
func (s *Schedule) Describe() string {
	if s.every > 0 {
		return "every " + s.every.String()
	}
	text := s.spec.Describe()
	if text == "" {
		return ""
	}
	return text + ", " + s.loc.String()
}
