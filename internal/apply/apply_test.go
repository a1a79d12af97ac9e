package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/apply"
	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/client"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

func TestMain(m *testing.M) { pinktest.Main(m) }

const v1 = `
groups:
  - name: batch
    description: nightly batch workers
jobs:
  - name: report
    group: batch
    schedule: "0 3 * * *"
    timezone: Europe/Berlin
    target: http
    params: {url: "https://reports.internal/run", method: POST}
    timeout: 30m
    labels: {team: data}
  - name: cleanup
    group: batch
    schedule: "@hourly"
    target: http
    params: {url: "https://cleanup.internal/"}
`

func setup(t *testing.T) (*client.Client, *pinktest.Etcd) {
	t.Helper()
	e := pinktest.StartEtcd(t)
	srv := httptest.NewServer(api.New(api.Config{Store: store.New(e.Client, "")}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.Options{Server: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c, e
}

func plan(t *testing.T, c *client.Client, file string, prune bool) apply.Plan {
	t.Helper()
	f, err := apply.Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	p, err := apply.MakePlan(context.Background(), c, f, prune)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func lines(p apply.Plan) string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.String())
	}
	return strings.Join(out, "\n")
}

func run(t *testing.T, c *client.Client, file string, prune bool) apply.Plan {
	t.Helper()
	p := plan(t, c, file, prune)
	if _, err := apply.Execute(context.Background(), c, p, "test"); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestApply: create, then a second apply changes nothing, then a change is
// an update of exactly the changed fields, a dry run changes nothing, and
// prune deletes only jobs of the file's groups.
func TestApply(t *testing.T) {
	c, e := setup(t)
	ctx := context.Background()
	p := run(t, c, v1, false)
	if got, want := lines(p), "+ group batch\n+ job report\n+ job cleanup"; got != want {
		t.Errorf("first apply:\n%s\nwant:\n%s", got, want)
	}

	rev := e.Revision(t)
	p = run(t, c, v1, false)
	if p.Changes() || e.Revision(t) != rev {
		t.Errorf("second apply changed something:\n%s", lines(p))
	}
	if got, want := lines(p), "= group batch\n= job report\n= job cleanup"; got != want {
		t.Errorf("second apply:\n%s\nwant:\n%s", got, want)
	}

	v2 := strings.Replace(v1, `"0 3 * * *"`, `"0 4 * * *"`, 1)
	v2 = strings.Replace(v2, "timeout: 30m", "timeout: 45m", 1)
	v2 = strings.Replace(v2, "description: nightly batch workers", "description: batch workers", 1)
	dry := plan(t, c, v2, false)
	want := "~ group batch: description: \"nightly batch workers\" -> \"batch workers\"\n" +
		"~ job report: schedule: \"0 3 * * *\" -> \"0 4 * * *\"; timeout: \"30m0s\" -> \"45m0s\"\n= job cleanup"
	if got := lines(dry); got != want {
		t.Errorf("dry run of a change:\n%s\nwant:\n%s", got, want)
	}
	if e.Revision(t) != rev {
		t.Error("planning wrote to etcd")
	}
	run(t, c, v2, false)
	j, err := c.Job(ctx, "report")
	if err != nil || j.Schedule != "0 4 * * *" || j.Timeout.String() != "45m0s" {
		t.Errorf("after the change: %+v %v", j.Spec, err)
	}

	// A job of another group is outside the prune scope.
	if err := c.CreateGroup(ctx, "other", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateJob(ctx, mustJob(t, "outsider", "other"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateJob(ctx, mustJob(t, "stray", "batch"), ""); err != nil {
		t.Fatal(err)
	}
	withoutCleanup := v2[:strings.Index(v2, "  - name: cleanup")]
	p = run(t, c, withoutCleanup, true)
	if got, want := lines(p), "= group batch\n= job report\n- job cleanup\n- job stray"; got != want {
		t.Errorf("prune:\n%s\nwant:\n%s", got, want)
	}
	jobs, _ := c.Jobs(ctx, "")
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name)
	}
	if fmt.Sprint(names) != "[outsider report]" {
		t.Errorf("jobs after prune: %v", names)
	}
}

// TestApplyKeepsAnOperatorsPause: a file that does not mention paused does
// not resume a job an operator paused; one that does, does.
func TestApplyKeepsAnOperatorsPause(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	run(t, c, v1, false)
	if err := c.Do(ctx, "POST", "/api/v1/jobs/report/pause", map[string]string{"reason": "incident"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if p := plan(t, c, v1, false); p.Changes() {
		t.Errorf("a file without paused wants to change a paused job:\n%s", lines(p))
	}
	explicit := strings.Replace(v1, "    timeout: 30m", "    timeout: 30m\n    paused: false", 1)
	if got := lines(plan(t, c, explicit, false)); !strings.Contains(got, "~ job report: paused: true -> false") {
		t.Errorf("explicit paused: false:\n%s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for name, file := range map[string]string{
		"empty":             "",
		"unknown top level": "job: []",
		"unknown job field": "jobs:\n  - {name: a, group: g, schedule: '@hourly', target: x, retires: 3}",
		"invalid cron":      "jobs:\n  - {name: a, group: g, schedule: '61 * * * *', target: x}",
		"duplicate job":     "jobs:\n  - {name: a, group: g, schedule: '@hourly', target: x}\n  - {name: a, group: g, schedule: '@daily', target: x}",
		"server field":      "jobs:\n  - {name: a, group: g, schedule: '@hourly', target: x, revision: 7}",
		"bad group name":    "groups:\n  - {name: Batch}",
		"not a mapping":     "- a\n- b",
	} {
		if _, err := apply.Parse([]byte(file)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func mustJob(t *testing.T, name, group string) job.Spec {
	t.Helper()
	f, err := apply.Parse([]byte(fmt.Sprintf("jobs:\n  - {name: %s, group: %s, schedule: '@daily', target: noop}", name, group)))
	if err != nil {
		t.Fatal(err)
	}
	return f.Jobs[0].Spec
}

// TestApplyValidatesBeforeWriting: a file that cannot be applied as a
// whole changes nothing, even when its first objects alone could be
// created; a job of a group that exists only in the cluster is fine.
func TestApplyValidatesBeforeWriting(t *testing.T) {
	c, e := setup(t)
	ctx := context.Background()
	if err := c.CreateGroup(ctx, "existing", "", ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, msg string
	}{
		{"job of an unknown group after valid objects",
			v1 + "  - {name: orphan, group: nowhere, schedule: '@daily', target: noop}\n",
			`jobs[2] (orphan): group "nowhere" is neither in the file nor in the cluster`},
		{"only an unknown group",
			"jobs:\n  - {name: a, group: ghost, schedule: '@daily', target: noop}\n",
			`jobs[0] (a): group "ghost" is neither in the file nor in the cluster`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := apply.Parse([]byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			rev := e.Revision(t)
			_, err = apply.MakePlan(ctx, c, f, true)
			if !errors.Is(err, apply.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("MakePlan: %v; want ErrInvalid with %q", err, tc.msg)
			}
			if got := e.Revision(t); got != rev {
				t.Errorf("etcd revision %d -> %d: a refused file wrote", rev, got)
			}
		})
	}

	// Files built in code get the same checks as parsed ones.
	spec := mustJob(t, "a", "existing")
	for name, f := range map[string]apply.File{
		"duplicate job":   {Jobs: []apply.JobDef{{Spec: spec}, {Spec: spec}}},
		"duplicate group": {Groups: []apply.GroupDef{{Name: "g"}, {Name: "g"}}},
		"bad group name":  {Groups: []apply.GroupDef{{Name: "G!"}}},
		"invalid spec":    {Jobs: []apply.JobDef{{Spec: job.Spec{Name: "x", Group: "existing", Schedule: "nope", Target: "noop"}}}},
		"empty":           {},
	} {
		if _, err := apply.MakePlan(ctx, c, f, false); !errors.Is(err, apply.ErrInvalid) {
			t.Errorf("%s: MakePlan = %v, want ErrInvalid", name, err)
		}
	}

	rev := e.Revision(t)
	p := run(t, c, "jobs:\n  - {name: a, group: existing, schedule: '@daily', target: noop}\n", false)
	if got := lines(p); got != "+ job a" || e.Revision(t) == rev {
		t.Errorf("a job of a group in the cluster: %q", got)
	}
}

// TestPlansMaskCredentials: a plan, which CI prints, never shows a
// credential; a changed credential is reported without its values; and a
// token that reads params masked says it cannot compare them instead of
// reporting a change every time.
func TestPlansMaskCredentials(t *testing.T) {
	e := pinktest.StartEtcd(t)
	tokens := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(tokens, []byte(fmt.Sprintf("tokens:\n  - {name: ci, role: admin, token_sha256: %s}\n  - {name: dash, role: viewer, token_sha256: %s}\n",
		auth.HashToken("adm"), auth.HashToken("view"))), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.Load(tokens, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Store: store.New(e.Client, ""), Auth: authn}))
	t.Cleanup(srv.Close)
	as := func(token string) *client.Client {
		c, err := client.New(client.Options{Server: srv.URL, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin, viewer := as("adm"), as("view")
	file := func(url, key string) string {
		return `
groups: [{name: hooks}]
jobs:
  - name: hook
    group: hooks
    schedule: "@hourly"
    target: http
    params: {url: "` + url + `", headers: {X-Api-Key: "` + key + `", X-Team: data}}
`
	}
	run(t, admin, file("https://a.example.com/", "KEY-ONE"), false)
	tests := []struct {
		name string
		c    *client.Client
		file string
		want string
	}{
		{"admin, same file", admin, file("https://a.example.com/", "KEY-ONE"), "= group hooks\n= job hook"},
		{"admin, credential changed", admin, file("https://a.example.com/", "KEY-TWO"),
			"= group hooks\n~ job hook: params: credentials changed (values not shown)"},
		{"admin, url changed", admin, file("https://b.example.com/", "KEY-TWO"),
			`= group hooks` + "\n" + `~ job hook: params: {"headers":{"X-Api-Key":"***","X-Team":"data"},"url":"https://a.example.com/"} -> {"headers":{"X-Api-Key":"***","X-Team":"data"},"url":"https://b.example.com/"}`},
		{"viewer, same file", viewer, file("https://a.example.com/", "KEY-ONE"),
			"= group hooks\n~ job hook: params: hold credentials this token may not read (an admin token compares them)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lines(plan(t, tt.c, tt.file, false))
			if got != tt.want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, tt.want)
			}
			if strings.Contains(got, "KEY-") {
				t.Errorf("the plan shows a credential")
			}
		})
	}
}
