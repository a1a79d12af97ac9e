package apply_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pink-scheduler/pink/internal/apply"
	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
)

// TestApplyWarnings: the actions Execute returns carry the API's warnings
// about the jobs it wrote (a target no live worker of the group runs), and
// Warnings lists them for printing; the jobs are written all the same.
func TestApplyWarnings(t *testing.T) {
	c, e := setup(t)
	ctx := context.Background()
	lease, err := e.Client.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateGroup(ctx, "batch", "nightly batch workers", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(e.Client, "").RegisterClient(ctx, lease.ID, cluster.Client{ID: "w1", Group: "batch", Capacity: 1, Targets: []string{"http"}}); err != nil {
		t.Fatal(err)
	}
	typo := strings.Replace(v1, "target: http\n    params: {url: \"https://cleanup.internal/\"}", "target: htp\n    params: {url: \"https://cleanup.internal/\"}", 1)
	fixed := strings.Replace(v1, "timeout: 30m", "timeout: 45m", 1)
	const warning = `job cleanup: no live worker of group "batch" runs target "htp" (live workers run: http); fires will wait as pending until one does`
	for _, step := range []struct {
		name, file string
		actions    string
		warnings   []string
	}{
		{"create with a typo", typo, "+ job report; + job cleanup", []string{warning}},
		{"update fixing it", fixed, "~ job report; ~ job cleanup", nil},
	} {
		done, err := apply.Execute(ctx, c, plan(t, c, step.file, false), "test")
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		var got []string
		for _, a := range done {
			got = append(got, fmt.Sprintf("%s %s %s", map[apply.Kind]string{apply.Create: "+", apply.Update: "~"}[a.Kind], a.Object, a.Name))
		}
		if strings.Join(got, "; ") != step.actions || fmt.Sprintf("%q", apply.Warnings(done)) != fmt.Sprintf("%q", step.warnings) {
			t.Errorf("%s: done %q with warnings %q, want %q with %q", step.name, got, apply.Warnings(done), step.actions, step.warnings)
		}
	}
	if j, err := c.Job(ctx, "cleanup"); err != nil || j.Target != "http" {
		t.Errorf("cleanup after the fix: %+v %v", j.Spec, err)
	}
}
