package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestFindJobsScanBound: a filter few jobs pass reads at most the scan
// bound per call, answers a short page with a cursor, and paging through
// finds every match exactly once, in name order.
func TestFindJobsScanBound(t *testing.T) {
	ctx := context.Background()
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "")
	store.SetMaxJobScan(t, 7)
	if err := st.CreateGroup(ctx, cluster.Group{Name: "g"}); err != nil {
		t.Fatal(err)
	}
	var specs []job.Spec
	var want []string
	for i := range 40 {
		spec := job.Spec{Name: fmt.Sprintf("j%02d", i), Group: "g", Schedule: "@hourly", Target: "noop"}
		if i%9 == 4 {
			spec.Description = "needle"
			want = append(want, spec.Name)
		}
		spec.ApplyDefaults()
		specs = append(specs, spec)
	}
	if _, err := st.CreateJobs(ctx, specs); err != nil {
		t.Fatal(err)
	}
	var got []string
	after, calls, short := "", 0, 0
	for {
		page, err := st.FindJobs(ctx, store.JobFilter{Query: "NEEDLE"}, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		for _, j := range page.Jobs {
			got = append(got, j.Name)
		}
		if page.Next != "" && len(page.Jobs) < 10 {
			short++
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
	// 40 jobs at 7 a call: 6 calls, the first 5 cut short by the bound.
	if calls != 6 || short != 5 {
		t.Errorf("%d calls, %d cut short; want 6 and 5", calls, short)
	}
}
