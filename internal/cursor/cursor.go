// Package cursor is the encoding of a job's schedule cursor: the nominal
// time of the last fire the leader wrote (or skipped on purpose), followed
// by the job's fire-loop counts, which ride in the value the fire
// transaction writes anyway ("<stamp> f.cron=3 s.misfire_skip=1"). The
// stamp is fixed-width UTC, so byte order is time order and an etcd
// transaction can compare a stored cursor with Stamp(t) as a value.
package cursor

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pink-scheduler/pink/internal/counts"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

const stampLayout = "2006-01-02T15:04:05.000000000Z"

// Stamp encodes a time so that byte order is time order.
func Stamp(t time.Time) string { return t.UTC().Format(stampLayout) }

// ParseStamp decodes Stamp's output.
func ParseStamp(s string) (time.Time, error) { return time.Parse(stampLayout, s) }

// Format encodes a cursor at with the counts that ride in it. The stamp
// comes first, so a transaction that compares the stored value with a bare
// Stamp(t) still compares times: a cursor at t with counts is greater than
// Stamp(t).
func Format(at time.Time, c counts.Job) string {
	var b strings.Builder
	b.WriteString(Stamp(at))
	for _, k := range slices.Sorted(maps.Keys(c.Fires)) {
		if v := c.Fires[k]; v > 0 {
			fmt.Fprintf(&b, " f.%s=%d", k, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Skipped)) {
		if v := c.Skipped[k]; v > 0 {
			fmt.Fprintf(&b, " s.%s=%d", k, v)
		}
	}
	return b.String()
}

// Parse decodes a stored cursor: Format's output, or a bare Stamp as
// written before counts rode in the cursor (its counts are zero). Only the
// time must be valid: a count field this version does not understand
// (written by a newer one, or damaged) is skipped, so that it can never
// stop the job from firing; the next fire rewrites the value without it.
func Parse(v string) (time.Time, counts.Job, error) {
	var c counts.Job
	ts, rest, _ := strings.Cut(v, " ")
	at, err := ParseStamp(ts)
	if err != nil {
		return at, c, err
	}
	for _, field := range strings.Fields(rest) {
		name, num, ok := strings.Cut(field, "=")
		n, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || n < 0 {
			continue
		}
		switch {
		case strings.HasPrefix(name, "f."):
			c.AddFire(snapshot.Trigger(name[2:]), n)
		case strings.HasPrefix(name, "s."):
			c.AddSkipped(snapshot.SkipReason(name[2:]), n)
		}
	}
	return at, c, nil
}
