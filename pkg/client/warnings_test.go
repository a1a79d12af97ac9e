package client_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/job"
)

// TestWriteWarnings: CreateJob and ReplaceJob return the API's warnings
// with the job written; LiveSnapshots returns why a pending snapshot waits
// (Snapshots, as before, does not).
func TestWriteWarnings(t *testing.T) {
	c, _, e := startAPIOn(t, 0)
	for _, g := range []string{"default", "empty"} {
		if err := c.CreateGroup(ctx(t), g, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	lease, err := e.Client.Grant(ctx(t), 600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(e.Client, "").RegisterClient(ctx(t), lease.ID, cluster.Client{ID: "w1", Group: "default", Capacity: 1, Targets: []string{"http", "shell"}}); err != nil {
		t.Fatal(err)
	}
	spec := func(group, target string) job.Spec {
		return job.Spec{Name: "j", Group: group, Schedule: "@daily", Target: target, Params: []byte(`{"command":["true"]}`)}
	}
	const typo = `no live worker of group "default" runs target "shel" (live workers run: http, shell); fires will wait as pending until one does`
	tests := []struct {
		name  string
		write func(context.Context, job.Spec, string) (client.Job, error)
		spec  job.Spec
		want  []string
	}{
		{"create with a typo", c.CreateJob, spec("default", "shel"), []string{typo}},
		{"replace with the fix", c.ReplaceJob, spec("default", "shell"), nil},
		{"replace into a group without workers", c.ReplaceJob, spec("empty", "shell"),
			[]string{`no live worker in group "empty"; fires will wait as pending until one registers`}},
		{"replace with the typo", c.ReplaceJob, spec("default", "shel"), []string{typo}},
	}
	for _, tt := range tests {
		out, err := tt.write(ctx(t), tt.spec, "")
		if err != nil || out.Target != tt.spec.Target || fmt.Sprintf("%q", out.Warnings) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("%s: target %q warnings %q (%v), want %q", tt.name, out.Target, out.Warnings, err, tt.want)
		}
	}
	if j, err := c.Job(ctx(t), "j"); err != nil || j.Warnings != nil {
		t.Errorf("Job: warnings %q (%v), want none on a read", j.Warnings, err)
	}
	if err := c.Do(ctx(t), http.MethodPost, "/api/v1/jobs/j/trigger", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	snaps, err := c.LiveSnapshots(ctx(t), "", "j")
	if err != nil || len(snaps) != 1 || snaps[0].State != "pending" || snaps[0].PendingReason != `no live worker of group "default" runs target "shel"` {
		t.Errorf("LiveSnapshots = %+v (%v)", snaps, err)
	}
}
