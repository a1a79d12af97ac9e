package cron_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cron"
)

// reference is crontab(5) read literally and evaluated by brute force,
// written apart from the package so the two can disagree: each field
// becomes a set of values, and the search walks the calendar day by day.
type reference struct {
	sets    [6]map[int]bool // second, minute, hour, day of month, month, day of week
	dayStar bool            // a day field starts with * or ?: the day rule is AND
}

var refNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
}

func parseReference(expr string) reference {
	f := strings.Fields(expr)
	if len(f) == 5 {
		f = append([]string{"0"}, f...)
	}
	bounds := [6][2]int{{0, 59}, {0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	var r reference
	for i, text := range f {
		r.sets[i] = map[int]bool{}
		for _, item := range strings.Split(text, ",") {
			lo, hi, step := bounds[i][0], bounds[i][1], 1
			body := item
			if j := strings.Index(item, "/"); j >= 0 {
				body = item[:j]
				step, _ = strconv.Atoi(item[j+1:])
			}
			num := func(s string) int {
				if n, ok := refNames[strings.ToLower(s)]; ok {
					return n
				}
				n, _ := strconv.Atoi(s)
				return n
			}
			switch {
			case body == "*" || body == "?":
			case strings.Contains(body, "-"):
				a, b, _ := strings.Cut(body, "-")
				lo, hi = num(a), num(b)
				if i == 5 && strings.EqualFold(b, "sun") && lo > 0 {
					hi = 7
				}
			case step > 1 || strings.Contains(item, "/"):
				lo = num(body) // "5/15": from 5 to the end
				if i == 5 {
					hi = 6
				}
			default:
				lo, hi = num(body), num(body)
			}
			for v := lo; v <= hi; v += step {
				if i == 5 && v == 7 {
					r.sets[i][0] = true // "0 or 7 is Sunday"
					continue
				}
				r.sets[i][v] = true
			}
		}
	}
	r.dayStar = f[3][0] == '*' || f[3][0] == '?' || f[5][0] == '*' || f[5][0] == '?'
	return r
}

func (r reference) next(after time.Time) time.Time {
	start := after.Truncate(time.Second).Add(time.Second)
	day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	for ; day.Year() <= start.Year()+400; day = day.AddDate(0, 0, 1) {
		dom, dow := r.sets[3][day.Day()], r.sets[5][int(day.Weekday())]
		dayOK := dom || dow
		if r.dayStar {
			dayOK = dom && dow
		}
		if !r.sets[4][int(day.Month())] || !dayOK {
			continue
		}
		for h := 0; h < 24; h++ {
			for m := 0; m < 60 && r.sets[2][h]; m++ {
				for s := 0; s < 60 && r.sets[1][m]; s++ {
					if t := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second); r.sets[0][s] && !t.Before(start) {
						return t
					}
				}
			}
		}
	}
	return time.Time{}
}

// randomExpr builds a valid expression from the forms crontab(5) names:
// *, */n, values, names, ranges (ending in 7 or sun for days of week),
// ranges with steps, and lists of them.
func randomExpr(rng *rand.Rand) string {
	type spec struct {
		lo, hi int
		names  []string
	}
	months := []string{"", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	days := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	fields := []spec{{0, 59, nil}, {0, 23, nil}, {1, 31, nil}, {1, 12, months}, {0, 7, days}}
	if rng.IntN(8) == 0 {
		fields = append([]spec{{0, 59, nil}}, fields...)
	}
	var out []string
	for i, f := range fields {
		isDay := i >= len(fields)-3 && i != len(fields)-2
		item := func() string {
			v := func(n int) string {
				if f.names != nil && rng.IntN(3) == 0 {
					return f.names[n]
				}
				return strconv.Itoa(n)
			}
			a := f.lo + rng.IntN(f.hi-f.lo+1)
			b := a + rng.IntN(f.hi-a+1)
			span := f.hi - f.lo + 1
			if f.lo == 0 && f.hi == 7 {
				span = 7
			}
			step := 1 + rng.IntN(span)
			switch rng.IntN(7) {
			case 0:
				if isDay && rng.IntN(2) == 0 {
					return "?"
				}
				return "*"
			case 1:
				return "*/" + strconv.Itoa(step)
			case 2, 3:
				return v(a)
			case 4:
				return v(a) + "-" + v(b)
			case 5:
				return v(a) + "-" + v(b) + "/" + strconv.Itoa(step)
			default:
				if f.lo == 0 && f.hi == 7 && a == 7 {
					a = 6 // "7/2" would run past the field
				}
				return v(a) + "/" + strconv.Itoa(step)
			}
		}
		n := 1
		if rng.IntN(4) == 0 {
			n = 2 + rng.IntN(3)
		}
		var items []string
		for range n {
			items = append(items, item())
		}
		out = append(out, strings.Join(items, ","))
	}
	return strings.Join(out, " ")
}

// TestAgainstReference compares the next fires of random expressions with
// the brute-force reading of crontab(5). Every day-field form appears, so
// the day rule, 7 as Sunday and names are all exercised.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 2026))
	starts := []string{"2026-03-01T00:00:00", "2027-12-31T23:59:30", "2096-02-28T12:00:00"}
	for i := range 3000 {
		expr := randomExpr(rng)
		e, err := cron.Parse(expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", expr, err)
		}
		ref := parseReference(expr)
		at := mustTime(t, starts[i%len(starts)])
		want := at
		for n := range 5 {
			at, want = e.Next(at), ref.next(want)
			if !at.Equal(want) {
				t.Fatalf("%q fire %d: pink %v, crontab(5) %v", expr, n+1, at, want)
			}
			if at.IsZero() {
				break
			}
		}
	}
}

func ExampleExpr_Next() {
	e, _ := cron.Parse("0 0 */2 * 1")
	fmt.Println(e.Next(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)).Format(time.DateOnly))
	// Output: 2026-03-09
}
