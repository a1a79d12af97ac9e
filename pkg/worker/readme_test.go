package worker_test

import (
	"os"
	"strings"
	"testing"
)

// between returns the lines of s after the line containing start and
// before the line containing end, each trimmed of tabs.
func between(t *testing.T, s, start, end string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(s, start)
	body, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("no block between %q and %q", start, end)
	}
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if line = strings.TrimLeft(line, "\t"); line != "" && !strings.HasPrefix(line, "```") {
			out = append(out, line)
		}
	}
	return out
}

// TestReadmeExample: the README's SDK snippet is the body of Example, which
// compiles with the tests; the only difference is the first := of err.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	got := between(t, string(readme), "<!-- sdk:start -->", "<!-- sdk:end -->")
	want := between(t, string(example), "// README start", "// README end")
	if len(want) > 0 {
		want[len(want)-1] = strings.Replace(want[len(want)-1], "err = ", "err := ", 1)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README's SDK example:\n%s\ndiffers from Example in example_test.go:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(string(readme), "store.New(") {
		t.Error("the README still shows store.New: SDK users need no internal package")
	}
}
