package cron

import "testing"

func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"* * * * * *", "every second"},
		{"*/10 * * * * *", "every 10 seconds"},
		{"* * * * *", "every minute"},
		{"*/15 * * * *", "every 15 minutes"},
		{"5 * * * *", "every hour at minute 5"},
		{"30 5 * * * *", "every hour at minute 5 and 30 seconds"},
		{"0 */6 * * *", "every day at 00:00, 06:00, 12:00 and 18:00"},
		{"0 */2 * * *", "every 2 hours at minute 0"},
		{"0 9 * * 1-5", "every weekday at 09:00"},
		{"0 9 * * mon-fri", "every weekday at 09:00"},
		{"30 8 * * 0,6", "on weekends at 08:30"},
		{"0 9,17 * * 1", "every Monday at 09:00 and 17:00"},
		{"0 0 * * 1,3,5", "on Monday, Wednesday and Friday at 00:00"},
		{"0 0 * * 7", "every Sunday at 00:00"},
		{"0 0 1 * *", "on day 1 of the month at 00:00"},
		{"0 0 1,15 * *", "on days 1 and 15 of the month at 00:00"},
		{"0 0 */2 * *", "every 2 days of the month from the 1st at 00:00"},
		{"0 0 1 * 1", "on day 1 of the month or every Monday at 00:00"},
		{"0 0 1-31 * 1", "every day at 00:00"}, // crontab(5): either field matching is enough
		{"0 0 */2 * 1", ""},                    // odd dates that are Mondays: no short reading
		{"0 12 * jan,jul *", "every day at 12:00, in January and July"},
		{"*/5 * * * 1-5", "every 5 minutes, every weekday"},
		{"15 10 * * * *", "every hour at minute 10 and 15 seconds"},
		{"0 0,30 9 * * *", "every day at 09:00 and 09:30"},
		{"@daily", "every day at 00:00"},
		{"@hourly", "every hour at minute 0"},
		{"@weekly", "every Sunday at 00:00"},
		{"@yearly", "on day 1 of the month at 00:00, in January"},
		{"7,19,31,43 * * * *", ""},    // four minutes of every hour: the expression says it best
		{"0 1,2,3,4,5,6,7 * * *", ""}, // seven times a day
		{"1-5 * * * * *", ""},
		{"*/7 * * * * *", ""}, // 0, 7, ... 56, then 0: not every 7 seconds
		{"*/7 * * * *", ""},
	} {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		if got := e.Describe(); got != tc.want {
			t.Errorf("Describe(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
