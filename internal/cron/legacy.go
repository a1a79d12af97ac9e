package cron

import (
	"strings"
	"time"
)

// Before pink followed crontab(5), it combined the day fields with AND only
// when one of them held a plain "*" or "?" item, and with OR otherwise, so
// "0 0 */2 * 1" fired on every odd date and every Monday. This file keeps
// that rule for one purpose: to find and report the stored jobs whose
// fires moved with the change, with a schedule that keeps the old fires.

// LegacyNext is Next with the day fields combined the way pink combined
// them before it followed crontab(5).
func (e *Expr) LegacyNext(t time.Time) time.Time {
	return e.next(t, e.legacyAnd)
}

// DayRuleChanged reports whether the day fields combine differently under
// crontab(5) than they used to in pink (only then can the fires differ).
func (e *Expr) DayRuleChanged() bool {
	return e.legacyAnd != (e.domStar || e.dowStar)
}

// LegacyEquivalent returns an expression that, under crontab(5), fires as
// this one did under the old rule: the same fields, with a leading "*"
// spelled out as a range (the old rule's OR) or a day field that held a
// plain "*" item written as "*" (its AND). It returns the expression as
// written when the rule did not change.
func (e *Expr) LegacyEquivalent() string {
	fields := append([]string(nil), e.fields...)
	if !e.DayRuleChanged() {
		return strings.Join(fields, " ")
	}
	dom, dow := len(fields)-3, len(fields)-1
	if e.legacyAnd {
		// The old AND came from a plain "*" item, which makes its field
		// full: "*" says the same and starts with a star.
		for _, i := range []int{dom, dow} {
			if full(e, i == dom) {
				fields[i] = "*"
				break
			}
		}
		return strings.Join(fields, " ")
	}
	// The old OR: no field may start with a star any more.
	fields[dom] = spellStar(fields[dom], "1-31")
	fields[dow] = spellStar(fields[dow], "0-6")
	return strings.Join(fields, " ")
}

func full(e *Expr, dom bool) bool {
	if dom {
		return e.dom == rangeBits(1, 31)
	}
	return e.dow == rangeBits(0, 6)
}

func rangeBits(lo, hi int) uint64 {
	var b uint64
	for v := lo; v <= hi; v++ {
		b |= 1 << v
	}
	return b
}

// spellStar replaces a leading "*" or "?" with the field's full range.
func spellStar(field, all string) string {
	if !startsWithStar(field) {
		return field
	}
	return all + field[1:]
}
