// Package alerts holds pink's Prometheus rules (the YAML files here); its
// tests check them with the real promtool and against the runbooks.
package alerts

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type unitTests struct {
	Tests []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromQLExprTest []struct {
			Expr string `yaml:"expr"`
		} `yaml:"promql_expr_test"`
	} `yaml:"tests"`
}

func load(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func promtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed: run make test, which installs it (Debian package prometheus)")
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestPromtool checks the rules and runs their unit tests with promtool.
func TestPromtool(t *testing.T) {
	promtool(t, ".", "check", "rules", "pink-alerts.yml")
	// promtool 2.42 reads the test's rule_files relative to its working
	// directory.
	promtool(t, "tests", "test", "rules", "pink-alerts_test.yml")
}

var heading = regexp.MustCompile(`(?m)^## (Pink\w+)\s*$`)

// template is a Go template action that reads the alert's value or labels.
var template = regexp.MustCompile(`\{\{[^}]*\$(value|labels)[^}]*\}\}`)

// TestAlertsAreComplete: every alert has a severity, a static summary, a
// description templated with its value or labels, a runbook section, a
// place in the README's list, and
// unit tests that see it fire, see it silent just before its `for` elapses
// (when it has one), and see it silent on healthy input in a test of its own
// (one that never expects it to fire); every recording rule has a test.
func TestAlertsAreComplete(t *testing.T) {
	var alerts ruleFile
	load(t, "pink-alerts.yml", &alerts)
	rules := alerts
	var tests unitTests
	load(t, "tests/pink-alerts_test.yml", &tests)
	runbooks, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(string(runbooks), -1) {
		sections[m[1]] = true
	}
	count := 0
	for _, g := range alerts.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			count++
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			a := r.Annotations
			if a["summary"] == "" || strings.Contains(a["summary"], "{{") {
				t.Errorf("%s: summary must be static: %q", r.Alert, a["summary"])
			}
			if !template.MatchString(a["description"]) {
				t.Errorf("%s: description must be templated with {{ $value }} or {{ $labels.x }}: %q", r.Alert, a["description"])
			}
			if want := "https://github.com/pink-scheduler/pink/blob/main/docs/runbooks.md#" + strings.ToLower(r.Alert); a["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, a["runbook_url"], want)
			}
			// The console link exists only where Prometheus names the
			// console (external label pink_console_url); empty otherwise.
			if c := a["console_url"]; !strings.HasPrefix(c, "{{ with $externalLabels.pink_console_url }}{{ . }}/ui/") || !strings.HasSuffix(c, "{{ end }}") {
				t.Errorf("%s: console_url %q must link into the console under $externalLabels.pink_console_url", r.Alert, c)
			}
			if !sections[r.Alert] {
				t.Errorf("%s: docs/runbooks.md has no section \"## %s\"", r.Alert, r.Alert)
			}
			if !strings.Contains(string(readme), "`"+r.Alert+"`") {
				t.Errorf("%s: the README's list of alerts does not name it", r.Alert)
			}
			fires, healthy, silentBeforeFor := false, false, r.For == ""
			var forDur time.Duration
			if r.For != "" {
				forDur, _ = time.ParseDuration(r.For)
			}
			var firstFiring time.Duration = -1
			for _, tc := range tests.Tests {
				checked, firesHere := false, false
				for _, c := range tc.AlertRuleTest {
					if c.Alertname != r.Alert {
						continue
					}
					checked = true
					at, _ := time.ParseDuration(c.EvalTime)
					if len(c.ExpAlerts) > 0 {
						fires, firesHere = true, true
						if firstFiring < 0 || at < firstFiring {
							firstFiring = at
						}
					}
				}
				// A test that checks the alert and never expects it is the
				// healthy-input case.
				if checked && !firesHere {
					healthy = true
				}
				// A silent check 15s before the first firing one, in the
				// same test, shows the `for` is honored.
				if r.For != "" {
					var silentAt, firingAt []time.Duration
					for _, c := range tc.AlertRuleTest {
						if c.Alertname != r.Alert {
							continue
						}
						at, _ := time.ParseDuration(c.EvalTime)
						if len(c.ExpAlerts) > 0 {
							firingAt = append(firingAt, at)
						} else {
							silentAt = append(silentAt, at)
						}
					}
					for _, f := range firingAt {
						if slices.Contains(silentAt, f-15*time.Second) && f >= forDur {
							silentBeforeFor = true
						}
					}
				}
			}
			if !fires || !healthy || !silentBeforeFor {
				t.Errorf("%s: unit tests: fires %v, healthy-input test %v, silent just before `for` %v", r.Alert, fires, healthy, silentBeforeFor)
			}
		}
	}
	if count < 15 {
		t.Errorf("%d alerts, want the full set", count)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Record == "" {
				continue
			}
			// The test's expression is the recorded series, maybe with a
			// selector: pink:x{...}, not pink:x_y.
			reads := regexp.MustCompile(`^` + regexp.QuoteMeta(r.Record) + `(\{|\s|$)`)
			tested := false
			for _, tc := range tests.Tests {
				for _, e := range tc.PromQLExprTest {
					if reads.MatchString(e.Expr) {
						tested = true
					}
				}
			}
			if !tested {
				t.Errorf("recording rule %s has no promql_expr_test", r.Record)
			}
		}
	}
}
