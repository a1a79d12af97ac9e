package dashboards

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The rules of grafana/dashboard-linter, which does not install as a Go
// tool here (one of its dependencies is not served), encoded for pink's
// dashboards: template-datasource-rule, template-job-rule,
// template-instance-rule (the variables), target-job-rule and
// target-instance-rule (every query is scoped to them; recorded series
// aggregate the job and instance away, so they carry the cluster only),
// target-rate-interval-rule (TestConventions), target-counter-agg-rule,
// panel-datasource-rule, panel-title-description-rule and panel-units-rule
// (TestConventions), and the dashboard is not editable.
var (
	selector = regexp.MustCompile(`\b(pink_[a-zA-Z0-9_]+|pink:[a-zA-Z0-9_:]+|process_[a-z_]+)(\{[^}]*\})?`)
	// counterRef is a counter (or a histogram's _bucket/_count) and what
	// follows it up to its range: it must be read through a range function.
	counterRef = regexp.MustCompile(`(\w+\()?\b(pink_[a-zA-Z0-9_]+_(total|bucket|count)|process_start_time_seconds)\{[^}]*\}(\[[^\]]+\])?`)
)

func TestLinterRules(t *testing.T) {
	for file, d := range All() {
		if d.Editable {
			t.Errorf("%s: editable (the dashboards are code: an edit in Grafana is lost at the next provisioning)", file)
		}
		vars := d.Templating.List
		want := []string{"datasource", "cluster", "job", "instance"}
		for i, name := range want {
			if i >= len(vars) || vars[i].Name != name {
				t.Fatalf("%s: variable %d must be %s (template rules): %+v", file, i, name, vars)
			}
			if i > 0 && (vars[i].Datasource == nil || vars[i].Datasource.UID != "${datasource}" || !vars[i].Multi || !vars[i].IncludeAll || vars[i].AllValue != ".*") {
				t.Errorf("%s: $%s must read ${datasource}, allow many and All (.*): %+v", file, name, vars[i])
			}
		}
		for _, v := range vars[len(want):] {
			if v.Name == "job" || v.Name == "instance" || v.Name == "cluster" {
				t.Errorf("%s: a second $%s", file, v.Name)
			}
		}
		var exprs []string
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				exprs = append(exprs, p.Title+": "+tg.Expr)
			}
		}
		if len(d.Annotations.List) == 0 {
			t.Errorf("%s: no annotations", file)
		}
		for _, a := range d.Annotations.List {
			if a.Datasource.UID != "${datasource}" || !a.Enable {
				t.Errorf("%s: annotation %s must read ${datasource} and be on", file, a.Name)
			}
			exprs = append(exprs, "annotation "+a.Name+": "+a.Expr)
		}
		for _, e := range exprs {
			where, expr, _ := strings.Cut(e, ": ")
			for _, m := range selector.FindAllStringSubmatch(expr, -1) {
				need := []string{`cluster=~"$cluster"`}
				if !strings.HasPrefix(m[1], "pink:") {
					need = append(need, `job=~"$job"`, `instance=~"$instance"`)
				}
				for _, n := range need {
					if !strings.Contains(m[2], n) {
						t.Errorf("%s / %s: %s lacks %s: %s", file, where, m[1], n, expr)
					}
				}
			}
			for _, m := range counterRef.FindAllStringSubmatch(expr, -1) {
				if m[1] == "" || m[4] == "" {
					t.Errorf("%s / %s: counter %s read without a range function: %s", file, where, m[2], expr)
				}
			}
		}
	}
}

// TestNeverShowsAsNever: the Job dashboard's last success and failure read
// 0 for a job that never had one (no `> 0` filter, which left "No data" on
// the very job an on-call opens) and show it as "never".
func TestNeverShowsAsNever(t *testing.T) {
	found := 0
	for _, p := range Job().Panels {
		if p.Title != "Last success" && p.Title != "Last failure" {
			continue
		}
		found++
		if strings.Contains(p.Targets[0].Expr, "> 0") {
			t.Errorf("%s filters out never: %s", p.Title, p.Targets[0].Expr)
		}
		m := p.FieldConfig.Defaults.Mappings
		if len(m) != 1 || !strings.Contains(fmt.Sprint(m[0]), "never") || !strings.Contains(fmt.Sprint(m[0]), "0:") {
			t.Errorf("%s: value mappings %v, want 0 shown as never", p.Title, m)
		}
	}
	if found != 2 {
		t.Errorf("%d last success/failure panels", found)
	}
}
