package cli

import "testing"

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"command exited with status 3", 20, "command exited with…"},
		{"a\nmultiline   error", 40, "a multiline error"},
		{"unbreakableeeeeeeeeeeeeeeeeeeee", 10, "unbreakab…"},
		{"größenüberschreitung der Ausgabe", 12, "größenübers…"},
	} {
		if got := cut(tc.in, tc.n); got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestDur(t *testing.T) {
	for _, tc := range []struct {
		s    float64
		want string
	}{{0, "<1ms"}, {0.0004, "<1ms"}, {0.001, "1ms"}, {0.0026, "3ms"}, {1.5, "1.5s"}, {125, "2m5s"}} {
		if got := dur(tc.s); got != tc.want {
			t.Errorf("dur(%v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
