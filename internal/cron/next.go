package cron

import (
	"math/bits"
	"time"
)

// searchYears bounds the search of one call: the Gregorian calendar
// repeats every 400 years, so a day no 400 years match is never matched.
const searchYears = 400

// Next returns the first time strictly after t that the expression
// matches, reading t's fields as a naive wall clock and returning one in
// UTC; the zero time if nothing matches (an impossible date such as 30
// February). Its work is bounded by a walk over at most searchYears years,
// skipping months that cannot match.
func (e *Expr) Next(t time.Time) time.Time {
	return e.next(t, e.domStar || e.dowStar)
}

func (e *Expr) next(t time.Time, and bool) time.Time {
	t = t.UTC().Truncate(time.Second).Add(time.Second)
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	mo := int(month)
	for limit := year + searchYears; year <= limit; {
		if m := nextBit(e.month, mo); m != mo {
			if m < 0 {
				year, mo = year+1, 1
			} else {
				mo = m
			}
			day, hour, minute, second = 1, 0, 0, 0
			continue
		}
		if day > daysIn(year, mo) {
			mo, day, hour, minute, second = mo+1, 1, 0, 0, 0
			if mo > 12 {
				year, mo = year+1, 1
			}
			continue
		}
		if !e.dayMatches(year, mo, day, and) {
			day, hour, minute, second = day+1, 0, 0, 0
			continue
		}
		if h := nextBit(e.hour, hour); h != hour {
			if h < 0 {
				day, hour, minute, second = day+1, 0, 0, 0
			} else {
				hour, minute, second = h, 0, 0
			}
			continue
		}
		if m := nextBit(e.minute, minute); m != minute {
			if m < 0 {
				hour, minute, second = hour+1, 0, 0
			} else {
				minute, second = m, 0
			}
			continue
		}
		if s := nextBit(e.second, second); s != second {
			if s < 0 {
				minute, second = minute+1, 0
			} else {
				second = s
			}
			continue
		}
		return time.Date(year, time.Month(mo), day, hour, minute, second, 0, time.UTC)
	}
	return time.Time{}
}

// dayMatches applies crontab(5)'s day rule: with and, a day must match
// both day fields, otherwise either.
func (e *Expr) dayMatches(year, month, day int, and bool) bool {
	dom := e.dom&(1<<day) != 0
	dow := e.dow&(1<<weekday(year, month, day)) != 0
	if and {
		return dom && dow
	}
	return dom || dow
}

// nextBit returns the lowest set bit of set at or above from, or -1.
func nextBit(set uint64, from int) int {
	if from > 63 {
		return -1
	}
	rest := set >> from << from
	if rest == 0 {
		return -1
	}
	return bits.TrailingZeros64(rest)
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// weekday is the day of the week of a date, 0 for Sunday.
func weekday(year, month, day int) int {
	return int(time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Weekday())
}
