package alertrules

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite alerts/pink-alerts.yml and testdata/ from the Go definitions")

// TestCommittedFileIsGenerated: alerts/pink-alerts.yml, and the Helm
// chart's copy its PrometheusRule is made of, are exactly what the
// definitions render for DefaultConfig (run with -update after changing
// them), and testdata/other.yml what they render for another deployment.
func TestCommittedFileIsGenerated(t *testing.T) {
	for path, c := range map[string]Config{
		"../../alerts/pink-alerts.yml":                 DefaultConfig(),
		"../../deploy/helm/pink/files/pink-alerts.yml": DefaultConfig(),
		"testdata/other.yml": {ClusterLabel: "pink_cluster", SchedulerSelector: `namespace="pink", app_kubernetes_io_component="scheduler"`,
			RunbookURL: "https://wiki.example/pink/runbooks"},
	} {
		want, err := File(c)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./internal/alertrules -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the definitions in internal/alertrules: run go test ./internal/alertrules -update", path)
		}
	}
}

// TestConfigShapesEveryRule: with another configuration no rule keeps the
// default's label, selector or URL, and every aggregation names the
// configured cluster label.
func TestConfigShapesEveryRule(t *testing.T) {
	c := Config{ClusterLabel: "pink_cluster", SchedulerSelector: `app="pink-scheduler"`, RunbookURL: "https://wiki.example/runbooks"}
	groups, err := Rules(c)
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Rules []struct {
			Alert, Record, Expr string
			Annotations         map[string]string
		}
	}
	if err := groups.Decode(&got); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range got[0].Rules {
		n++
		name := r.Alert + r.Record
		text := r.Expr + r.Annotations["description"]
		for _, old := range []string{`job="pink-scheduler"`, "github.com", "(cluster", " cluster)", "$cluster", "$scheduler"} {
			if strings.Contains(text, old) || strings.Contains(r.Annotations["runbook_url"], old) {
				t.Errorf("%s keeps %q: %s", name, old, text)
			}
		}
		for _, agg := range []string{"sum by (", "max by (", "count by (", " on ("} {
			for rest := r.Expr; strings.Contains(rest, agg); {
				i := strings.Index(rest, agg) + len(agg)
				rest = rest[i:]
				if !strings.HasPrefix(rest, "pink_cluster") {
					t.Errorf("%s: %s...) without the cluster label: %s", name, agg, r.Expr)
				}
			}
		}
		if r.Alert != "" && r.Annotations["runbook_url"] != "https://wiki.example/runbooks#"+strings.ToLower(r.Alert) {
			t.Errorf("%s: runbook_url %q", name, r.Annotations["runbook_url"])
		}
		if strings.Contains(r.Expr, "up{") && !strings.Contains(r.Expr, `up{app="pink-scheduler"}`) {
			t.Errorf("%s: the scheduler selector is not applied: %s", name, r.Expr)
		}
	}
	if n < 30 {
		t.Errorf("%d rules, want the full set", n)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // in the error; "" for none
	}{
		{"default", func(*Config) {}, ""},
		{"two matchers", func(c *Config) { c.SchedulerSelector = `namespace="pink",job=~"pink-sched.*"` }, ""},
		{"comma in a value", func(c *Config) { c.SchedulerSelector = `job=~"a,b"` }, ""},
		{"empty cluster label", func(c *Config) { c.ClusterLabel = "" }, "cluster label"},
		{"cluster label with a dash", func(c *Config) { c.ClusterLabel = "pink-cluster" }, "cluster label"},
		{"reserved cluster label", func(c *Config) { c.ClusterLabel = "__name__" }, "cluster label"},
		{"empty selector", func(c *Config) { c.SchedulerSelector = " " }, "scheduler selector"},
		{"braces in the selector", func(c *Config) { c.SchedulerSelector = `{job="x"}` }, "not a label matcher"},
		{"unquoted value", func(c *Config) { c.SchedulerSelector = `job=x` }, "not a label matcher"},
		{"relative runbook URL", func(c *Config) { c.RunbookURL = "docs/runbooks.md" }, "runbook URL"},
		{"runbook URL with a fragment", func(c *Config) { c.RunbookURL = "https://x.example/r#top" }, "runbook URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
			if _, ferr := File(c); (ferr == nil) != (err == nil) {
				t.Fatalf("File: %v, Validate: %v", ferr, err)
			}
		})
	}
}

// TestFileParses: the rendered file is valid YAML with one group.
func TestFileParses(t *testing.T) {
	b, err := File(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Groups []struct{ Name string } }
	if err := yaml.Unmarshal(b, &f); err != nil || len(f.Groups) != 1 || f.Groups[0].Name != "pink" {
		t.Fatalf("groups %+v, %v", f.Groups, err)
	}
}
