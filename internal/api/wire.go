package api

import (
	"errors"
	"math"
	"time"
)

// How answers write times and durations (docs/api.md, "Conventions").
//
// Answers are built from view types (jobView, snapshotView, runView, ...)
// whose times are apiTime and whose durations are a pair of fields, never
// from the stored records themselves: what etcd holds keeps its own
// encoding and precision (a snapshot's scheduled_at is part of its id and
// of the fence), and only the answers are normalised. Because the
// normalisation is by type, a string that merely looks like a time (in a
// job's params, a run's output) is never touched.

// apiTime is a time in an answer: RFC 3339 in UTC with exactly three
// fractional digits, "2026-12-02T07:30:00.123Z", whatever the zone and
// precision of the value. Finer digits are cut, not rounded, so that a
// time never moves into a later millisecond (or second, or day).
type apiTime time.Time

// zonedTime is a fire time in its job's zone, as previews show it: the
// same three digits, with the zone's offset ("2026-03-08T03:00:00.000-04:00");
// the fire's utc field holds the same instant as an apiTime.
type zonedTime time.Time

// Layouts of apiTime and zonedTime.
const (
	utcLayout   = "2006-01-02T15:04:05.000Z"
	zonedLayout = "2006-01-02T15:04:05.000Z07:00"
)

// MarshalJSON writes the time in UTC with milliseconds.
func (t apiTime) MarshalJSON() ([]byte, error) {
	return appendTime(time.Time(t).UTC(), utcLayout)
}

// MarshalJSON writes the time in its own zone with milliseconds.
func (t zonedTime) MarshalJSON() ([]byte, error) {
	return appendTime(time.Time(t), zonedLayout)
}

func appendTime(t time.Time, layout string) ([]byte, error) {
	// As time.Time.MarshalJSON: a year RFC 3339 cannot write is an error.
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, errors.New("apiTime.MarshalJSON: year outside of range [0,9999]")
	}
	b := make([]byte, 0, len(layout)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, layout)
	return append(b, '"'), nil
}

// timePtr is the answer form of an optional time (nil stays nil: null,
// or absent with omitempty).
func timePtr(t *time.Time) *apiTime {
	if t == nil {
		return nil
	}
	v := apiTime(*t)
	return &v
}

// times is the answer form of a list of times (never null).
func times(ts []time.Time) []apiTime {
	out := make([]apiTime, len(ts))
	for i, t := range ts {
		out[i] = apiTime(t)
	}
	return out
}

// A duration in an answer is two fields: <name>, Go's string of it
// ("1h30m0s", "250ms"), and <name>_seconds, the same as a number of
// seconds (5400, 0.25). Optional durations (a job's) leave both out
// together when zero: durationText gives "" for them.

// durationText is the <name> of an optional duration: "" when zero.
func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// secondsText is Go's string of a duration kept as a number of seconds (a
// run's, a percentile of runs'), rounded to the nanosecond.
func secondsText(s float64) string {
	return time.Duration(math.Round(s * float64(time.Second))).String()
}
