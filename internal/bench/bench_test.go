package bench

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseScheduleShare(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    ScheduleShare
		wantErr string
	}{
		{"* * * * * *", ScheduleShare{Weight: 1, Schedule: "* * * * * *"}, ""},
		{"9:* * * * * *", ScheduleShare{Weight: 9, Schedule: "* * * * * *"}, ""},
		{"1:@every 10s", ScheduleShare{Weight: 1, Schedule: "@every 10s"}, ""},
		{"@every 10s", ScheduleShare{Weight: 1, Schedule: "@every 10s"}, ""},
		{"0:* * * * * *", ScheduleShare{}, "weight must be"},
		{"3:", ScheduleShare{}, "empty"},
		{"3:not a schedule", ScheduleShare{}, "cannot parse"},
	} {
		got, err := ParseScheduleShare(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseScheduleShare(%q) = %v, %v; want an error with %q", c.in, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseScheduleShare(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestAssignSchedules(t *testing.T) {
	for _, c := range []struct {
		weights []int
		jobs    int
		want    []int
	}{
		{[]int{1}, 7, []int{7}},
		{[]int{9, 1}, 1000, []int{900, 100}},
		{[]int{3, 1}, 20, []int{15, 5}},
		{[]int{1, 1, 1}, 10, []int{4, 3, 3}},
		{[]int{2, 1}, 4, []int{3, 1}},
		{[]int{1000, 1}, 10, nil}, // the second share would get no job
	} {
		var shares []ScheduleShare
		for _, w := range c.weights {
			shares = append(shares, ScheduleShare{Weight: w, Schedule: DefaultSchedule})
		}
		got, err := AssignSchedules(shares, c.jobs)
		if c.want == nil {
			if err == nil {
				t.Errorf("AssignSchedules(%v, %d) = %+v; want an error", c.weights, c.jobs, got)
			}
			continue
		}
		if err != nil {
			t.Fatalf("AssignSchedules(%v, %d): %v", c.weights, c.jobs, err)
		}
		var jobs []int
		for _, s := range got {
			jobs = append(jobs, s.Jobs)
		}
		if !reflect.DeepEqual(jobs, c.want) {
			t.Errorf("AssignSchedules(%v, %d) gives %v jobs; want %v", c.weights, c.jobs, jobs, c.want)
		}
	}
}

func TestFiresIn(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	created := at("2026-03-01T10:00:02.400Z")
	t0, t1 := at("2026-03-01T10:00:05.300Z"), at("2026-03-01T10:00:35.300Z")
	for _, c := range []struct {
		schedule string
		first    string
		n        int
	}{
		{"* * * * * *", "2026-03-01T10:00:06Z", 30},
		{"*/2 * * * * *", "2026-03-01T10:00:06Z", 15},
		{"0 * * * * *", "", 0},
		// @every counts from the cursor (the creation time, truncated).
		{"@every 10s", "2026-03-01T10:00:12Z", 3},
		{"@every 3s", "2026-03-01T10:00:08Z", 10},
	} {
		got, err := FiresIn(c.schedule, created, t0, t1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.n || (c.n > 0 && !got[0].Equal(at(c.first))) {
			t.Errorf("FiresIn(%q) = %v; want %d fires from %s", c.schedule, got, c.n, c.first)
		}
	}
}

// TestPinkConcurrency keeps the baseline's idea of pink's write
// concurrency equal to the constants the scheduler and the worker use.
func TestPinkConcurrency(t *testing.T) {
	for _, c := range []struct {
		file, name string
		want       int
	}{
		{"../scheduler/batch.go", "batchesInFlight", fireBatchesInFlight},
		{"../../pkg/worker/claim.go", "claimers", workerClaimers},
		{"../../pkg/worker/report.go", "reporters", workerReporters},
	} {
		if got := sourceConst(t, c.file, c.name); got != c.want {
			t.Errorf("%s: %s = %d; internal/bench assumes %d: update it and docs/benchmarks.md", c.file, c.name, got, c.want)
		}
	}
	if got := PinkConcurrency(2); got != 16 {
		t.Errorf("PinkConcurrency(2) = %d; want 8 + 2×(2+2) = 16", got)
	}
}

func sourceConst(t *testing.T, file, name string) int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name != name || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s: %s is not a literal", file, name)
				}
				v, ok := constant.Int64Val(constant.MakeFromLiteral(lit.Value, lit.Kind, 0))
				if !ok {
					t.Fatalf("%s: %s = %s is not an integer", file, name, lit.Value)
				}
				return int(v)
			}
		}
	}
	t.Fatalf("%s declares no constant %s", file, name)
	return 0
}
