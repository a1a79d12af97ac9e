package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Durations in requests come in either of the forms answers carry: <name>
// as a Go duration string ("90s") or <name>_seconds as a number (90). One
// of them is enough; both are accepted when they agree (a body read from
// the API and sent back has both), and refused with 400
// conflicting_fields when they do not, so that an edit of one form next to
// a stale other is never silently half-applied.

// codeConflictingFields is the error code of a duration given in both
// forms with different values.
const codeConflictingFields = "conflicting_fields"

// maxInputSeconds is the largest <name>_seconds a time.Duration holds.
const maxInputSeconds = float64(math.MaxInt64 / int64(time.Second))

// fromSeconds is the duration of a <name>_seconds value, rounded to the
// nanosecond; field names it in the error.
func fromSeconds(field string, s float64) (time.Duration, error) {
	if math.IsNaN(s) || s < 0 || s > maxInputSeconds {
		return 0, &Error{Status: http.StatusBadRequest, Code: "invalid_field", Field: field,
			Message: fmt.Sprintf("%s must be a number of seconds from 0 to %.0f", field, maxInputSeconds)}
	}
	return time.Duration(math.Round(s * float64(time.Second))), nil
}

// agree reports whether a duration and a number of seconds are the same
// value: equal as the seconds an answer writes, or as nanoseconds.
func agree(d time.Duration, s float64, fromS time.Duration) bool {
	return d.Seconds() == s || d == fromS
}

// pairedDuration resolves the duration name sent as text (nil: absent)
// and/or as seconds (name_seconds; nil: absent). ok is false when neither
// was given.
func pairedDuration(name string, text *time.Duration, seconds *float64) (d time.Duration, ok bool, err error) {
	if seconds == nil {
		if text == nil {
			return 0, false, nil
		}
		return *text, true, nil
	}
	fromS, err := fromSeconds(name+"_seconds", *seconds)
	if err != nil {
		return 0, false, err
	}
	if text != nil && !agree(*text, *seconds, fromS) {
		return 0, false, conflict(name, text.String(), *seconds)
	}
	return fromS, true, nil
}

// conflict is the error of a duration whose two forms disagree.
func conflict(name, text string, seconds float64) error {
	return &Error{Status: http.StatusBadRequest, Code: codeConflictingFields, Field: name + "_seconds",
		Message: fmt.Sprintf("%s %q and %s_seconds %s disagree: send one of them, or both with the same value",
			name, text, name, strconv.FormatFloat(seconds, 'f', -1, 64))}
}
