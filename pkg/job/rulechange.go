package job

import "time"

// ruleChangeFires is how many upcoming fires RuleChange compares: enough
// to see a change in the day rule, which shows within weeks.
const ruleChangeFires = 20

// RuleChange is how a stored schedule's fires changed when pink began to
// read cron expressions as crontab(5) does. Before, pink combined the day
// fields with OR unless one held a plain "*" ("0 0 */2 * 1" fired every
// odd date and every Monday); now a day field starting with "*" means AND
// (Mondays on odd dates), as in cron. Jobs written before the change are
// reported, never silently moved.
type RuleChange struct {
	// OldNext and NewNext are the first fires after the time asked about
	// that differ between the old rule and today's (zero: no further
	// fire).
	OldNext time.Time `json:"old_next"`
	NewNext time.Time `json:"new_next"`
	// KeepOld is a schedule that fires under today's rules exactly as this
	// one did under the old rule.
	KeepOld string `json:"keep_old_schedule"`
}

// RuleChange compares the schedule's next fires after t under the old day
// rule and under crontab(5)'s, and reports the first that differ; ok is
// false when they agree (most schedules) or the schedule is an @every.
func (s *Schedule) RuleChange(after time.Time) (change RuleChange, ok bool) {
	if s.spec == nil || !s.spec.DayRuleChanged() {
		return change, false
	}
	oldAt, newAt := after, after
	for range ruleChangeFires {
		oldAt, _ = s.nextBy(oldAt, s.spec.LegacyNext)
		newAt, _ = s.next(newAt)
		if !oldAt.Equal(newAt) {
			return RuleChange{OldNext: oldAt, NewNext: newAt, KeepOld: s.spec.LegacyEquivalent()}, true
		}
		if newAt.IsZero() {
			break
		}
	}
	return change, false
}

// Refused says why a new job may not use this stored schedule (a form an
// earlier pink accepted: a step larger than its field, "?" outside the day
// fields); it keeps its fires. Empty for a schedule ParseSchedule accepts.
func (s *Schedule) Refused() string {
	if s.spec == nil {
		return ""
	}
	return s.spec.Refused()
}
