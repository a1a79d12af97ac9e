package cron_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	robfig "github.com/robfig/cron/v3"

	"github.com/pink-scheduler/pink/internal/cron"
)

// robfigParser is how pink parsed schedules before it followed crontab(5).
var robfigParser = robfig.NewParser(robfig.SecondOptional | robfig.Minute | robfig.Hour | robfig.Dom | robfig.Month | robfig.Dow | robfig.Descriptor)

// TestLegacyMatchesOldParser proves the upgrade report right: every
// expression the old parser accepted still parses as a stored schedule,
// LegacyNext gives the fires the old parser gave, and LegacyEquivalent is
// an expression that, under the new rules, fires exactly so.
func TestLegacyMatchesOldParser(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 20))
	tried, changed := 0, 0
	for tried < 3000 {
		expr := randomExpr(rng)
		old, err := robfigParser.Parse(expr)
		if err != nil {
			continue // 7 as Sunday and the like: the old parser refused it
		}
		tried++
		e, err := cron.ParseStored(expr)
		if err != nil {
			t.Fatalf("ParseStored(%q): %v; the old parser accepted it", expr, err)
		}
		keep, err := cron.Parse(e.LegacyEquivalent())
		if err != nil {
			t.Fatalf("%q: LegacyEquivalent %q does not parse: %v", expr, e.LegacyEquivalent(), err)
		}
		if e.DayRuleChanged() {
			changed++
		}
		at, was, kept := mustTime(t, "2026-03-01T00:00:00"), mustTime(t, "2026-03-01T00:00:00"), mustTime(t, "2026-03-01T00:00:00")
		for n := range 5 {
			want := old.Next(was)
			if want.IsZero() {
				break // beyond the old parser's five-year search
			}
			at, was, kept = e.LegacyNext(at), want, keep.Next(kept)
			if !at.Equal(want) || !kept.Equal(want) {
				t.Fatalf("%q fire %d: old parser %v, LegacyNext %v, %q %v", expr, n+1, want, at, e.LegacyEquivalent(), kept)
			}
		}
	}
	if changed == 0 {
		t.Fatal("no random expression changed its day rule: the test proves nothing")
	}
}

func TestDayRuleChanged(t *testing.T) {
	for _, c := range []struct {
		expr    string
		changed bool
		keep    string
	}{
		{"0 0 */2 * 1", true, "0 0 1-31/2 * 1"},
		{"33 * */7 * 5", true, "33 * 1-31/7 * 5"},
		{"15 17 4-28 * */2", true, "15 17 4-28 * 0-6/2"},
		{"0 0 0 ?/3 * 1-5", true, "0 0 0 1-31/3 * 1-5"},
		{"0 0 1,* * 1", true, "0 0 * * 1"},
		{"0 0 * * 1", false, "0 0 * * 1"},
		{"0 0 1,15 * 1", false, "0 0 1,15 * 1"},
		{"0 0 */2 * *", false, "0 0 */2 * *"},
		{"0 0 */1 * 1", false, "0 0 */1 * 1"},
		{"@weekly", false, "0 0 0 * * 0"},
	} {
		e, err := cron.ParseStored(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if e.DayRuleChanged() != c.changed || e.LegacyEquivalent() != c.keep {
			t.Errorf("%s: DayRuleChanged %v, LegacyEquivalent %q; want %v, %q", c.expr, e.DayRuleChanged(), e.LegacyEquivalent(), c.changed, c.keep)
		}
	}
	// The issue's own example: the old rule fired on 2 March, cron on 9 March.
	e, _ := cron.Parse("0 0 */2 * 1")
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if got := e.LegacyNext(from).Format(time.DateOnly) + " " + e.Next(from).Format(time.DateOnly); !strings.EqualFold(got, "2026-03-02 2026-03-09") {
		t.Errorf("old, new = %s", got)
	}
}
