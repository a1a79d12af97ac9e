package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestUpgradeReportsScheduleChanges starts the pink binary on an etcd that
// holds jobs an earlier pink wrote: the node logs each job whose fires
// moved with crontab(5)'s day rule (and each whose form new jobs may no
// longer use), and `pink schedule changes` lists them; jobs whose fires
// did not move are not mentioned.
func TestUpgradeReportsScheduleChanges(t *testing.T) {
	ctx := context.Background()
	etcd := pinktest.StartEtcd(t)
	st := store.New(etcd.Client, "")
	if err := st.CreateGroup(ctx, cluster.Group{Name: "batch"}); err != nil {
		t.Fatal(err)
	}
	for name, schedule := range map[string]string{
		"biweekly-monday": "0 0 */2 * 1", "mondays": "0 0 * * 1", "hourly-by-accident": "*/61 * * * *",
	} {
		spec := job.Spec{Name: name, Group: "batch", Schedule: schedule, Target: "noop", Paused: true}
		spec.ApplyDefaults()
		if _, err := st.CreateJob(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	p := pinktest.StartProcess(t, "scheduler", nil, "scheduler", "--etcd-endpoints", strings.Join(etcd.Endpoints, ","), "--listen", "127.0.0.1:0")
	addr := p.SchedulerAddr()
	p.WaitOutput("need a look", 30*time.Second)
	logs := p.Output()
	for _, want := range []string{
		`msg="job's schedule now fires as in cron: a day field starting with * makes the day fields combine with AND" job_name=biweekly-monday schedule="0 0 */2 * 1"`,
		`keep_old_schedule="0 0 1-31/2 * 1"`,
		`msg="job's schedule would be refused for a new job; it keeps firing as before" job_name=hourly-by-accident schedule="*/61 * * * *" reason="minute field \"*/61\": step 61 is larger`,
		`fires_moved=1 refused_for_new_jobs=1`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the node's log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "job_name=mondays") {
		t.Errorf("the log mentions mondays, whose fires did not move:\n%s", logs)
	}

	env := []string{"PINK_SERVER=http://" + addr}
	code, out, errOut := pinkCLI(t, env, "schedule", "changes", "-o", "json")
	if code != 0 {
		t.Fatalf("pink schedule changes: exit %d\n%s%s", code, out, errOut)
	}
	var got struct {
		Jobs []struct {
			Job      string    `json:"job"`
			OldNext  time.Time `json:"old_next"`
			NewNext  time.Time `json:"new_next"`
			KeepOld  string    `json:"keep_old_schedule"`
			Refused  string    `json:"refused_for_new_jobs"`
			Schedule string    `json:"schedule"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Jobs) != 2 || got.Jobs[0].Job != "biweekly-monday" || got.Jobs[1].Job != "hourly-by-accident" {
		t.Fatalf("schedule changes = %+v", got.Jobs)
	}
	moved := got.Jobs[0]
	// The old rule fired on every odd date or Monday; cron fires on
	// Mondays that are odd dates: never earlier, and on a Monday.
	if moved.KeepOld != "0 0 1-31/2 * 1" || !moved.NewNext.After(moved.OldNext) || moved.NewNext.Weekday() != time.Monday || moved.NewNext.Day()%2 != 1 {
		t.Errorf("biweekly-monday: %+v", moved)
	}
	if !strings.Contains(got.Jobs[1].Refused, "step 61 is larger") || !got.Jobs[1].OldNext.IsZero() {
		t.Errorf("hourly-by-accident: %+v", got.Jobs[1])
	}
	code, out, _ = pinkCLI(t, env, "schedule", "changes")
	if code != 0 || !strings.Contains(out, "KEEP OLD FIRES WITH") || !strings.Contains(out, "0 0 1-31/2 * 1") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}
