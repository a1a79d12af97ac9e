package cli

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestAlertRulesCommand: `pink alert-rules` prints exactly the committed
// alerts/pink-alerts.yml; as a PrometheusRule it carries the same groups;
// other labels reach every rule; bad settings are usage errors that print
// nothing on stdout.
func TestAlertRulesCommand(t *testing.T) {
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(append([]string{"alert-rules"}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	committed, err := os.ReadFile("../../alerts/pink-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(); code != 0 || out != string(committed) {
		t.Fatalf("exit %d, stderr %q; stdout equals alerts/pink-alerts.yml: %v", code, errOut, out == string(committed))
	}
	code, out, errOut := run("--prometheus-rule", "pink", "--namespace", "monitoring", "--rule-label", "release=prometheus")
	if code != 0 {
		t.Fatalf("PrometheusRule: exit %d %s", code, errOut)
	}
	var file struct{ Groups []map[string]any }
	var object struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string
		Metadata   struct {
			Name, Namespace string
			Labels          map[string]string
		}
		Spec struct{ Groups []map[string]any }
	}
	if err := yaml.Unmarshal(committed, &file); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(out), &object); err != nil {
		t.Fatal(err)
	}
	if object.APIVersion != "monitoring.coreos.com/v1" || object.Kind != "PrometheusRule" || object.Metadata.Name != "pink" ||
		object.Metadata.Namespace != "monitoring" || !reflect.DeepEqual(object.Metadata.Labels, map[string]string{"release": "prometheus"}) {
		t.Errorf("PrometheusRule header: %+v %+v", object.APIVersion, object.Metadata)
	}
	if !reflect.DeepEqual(object.Spec.Groups, file.Groups) || len(file.Groups) != 1 {
		t.Errorf("the PrometheusRule's groups differ from alerts/pink-alerts.yml's")
	}
	code, out, _ = run("--cluster-label", "pink_cluster", "--scheduler-selector", `app="pink-scheduler"`, "--runbook-url", "https://wiki.example/pink")
	if code != 0 || strings.Contains(out, "(cluster") || !strings.Contains(out, `up{app="pink-scheduler"}`) ||
		!strings.Contains(out, "runbook_url: https://wiki.example/pink#pinknoleader") || !strings.Contains(out, "by (pink_cluster, job_name, group)") {
		t.Errorf("other labels: exit %d\n%.2000s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster-label", "pink-cluster"}, `cluster label "pink-cluster"`},
		{[]string{"--scheduler-selector", `{job="x"}`}, "is not a label matcher"},
		{[]string{"--runbook-url", "runbooks.md"}, `runbook URL "runbooks.md"`},
		{[]string{"--prometheus-rule", "Pink"}, `PrometheusRule name "Pink"`},
		{[]string{"--namespace", "monitoring"}, "give --prometheus-rule too"},
	} {
		code, out, errOut := run(tc.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}
