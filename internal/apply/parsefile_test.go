package apply

import (
	"strings"
	"testing"
)

func TestParseFileByType(t *testing.T) {
	const job = `{"jobs": [{"name": "a", "group": "g", "schedule": "@daily", "target": "x"}]}`
	for _, tc := range []struct {
		name, body, err string
	}{
		{"jobs.json", job, ""},
		{"jobs.JSON", job, ""},
		{"jobs.json", "{\"jobs\": [\n  {\"name\": \"a\", \"group\": \"g\", \"schedule\": \"@daily\", \"target\": \"x\"},\n]}", "not JSON: line 3, column 1: invalid character ']' looking for beginning of value"},
		{"jobs.json", "{\"jobs\": []} {}", "not JSON: line 1, column 14: more after the document"},
		{"jobs.json", "{\"jobs\": [", "not JSON: line 1, column 10: the document ends early"},
		{"jobs.json", "# a comment\n" + job, "not JSON: line 1, column 1: invalid character '#' looking for beginning of value"},
		// The same trailing comma is valid YAML (flow style): a YAML file may hold it.
		{"jobs.yaml", "{\"jobs\": [\n  {\"name\": \"a\", \"group\": \"g\", \"schedule\": \"@daily\", \"target\": \"x\"},\n]}", ""},
		{"jobs.yaml", "jobs:\n  - name: a\n   group: g\n", "not YAML or JSON: yaml: line 1"},
	} {
		_, err := ParseFile(tc.name, []byte(tc.body))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tc.err == "") != (got == "") || !strings.Contains(got, tc.err) {
			t.Errorf("%s %.40q: error %q, want %q", tc.name, tc.body, got, tc.err)
		}
	}
}
