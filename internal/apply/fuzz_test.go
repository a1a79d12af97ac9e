package apply

import (
	"testing"
)

// FuzzParse: any bytes parse to a file or fail with an error, never a
// panic; a parsed file's jobs are valid and uniquely named.
func FuzzParse(f *testing.F) {
	f.Add([]byte("groups:\n  - name: batch\njobs:\n  - name: a\n    group: batch\n    schedule: \"@hourly\"\n    target: http\n    params: {url: \"http://x/\"}\n"))
	f.Add([]byte(`{"jobs":[{"name":"a","group":"g","schedule":"* * * * *","target":"x","paused":true}]}`))
	f.Add([]byte("jobs: [{name: a}]"))
	f.Add([]byte("groups:\n  - {name: Bad}"))
	f.Add([]byte("? [a]\n: b"))
	f.Add([]byte("jobs:\n  - name: a\n    group: g\n    schedule: '@hourly'\n    target: x\n    revision: 3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, d := range file.Jobs {
			if err := d.Spec.Validate(); err != nil {
				t.Fatalf("parsed an invalid job: %v", err)
			}
			if names[d.Spec.Name] {
				t.Fatalf("parsed a duplicate job %s", d.Spec.Name)
			}
			names[d.Spec.Name] = true
		}
	})
}
