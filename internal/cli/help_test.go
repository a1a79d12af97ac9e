package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// commandPaths are the paths of every command of the tree but cobra's
// hidden ones (__complete).
func commandPaths(c *cobra.Command, path []string) [][]string {
	var out [][]string
	for _, sub := range c.Commands() {
		if sub.Hidden {
			continue
		}
		p := append(slices.Clone(path), sub.Name())
		out = append(out, p)
		out = append(out, commandPaths(sub, p)...)
	}
	return out
}

// writeCommands are the commands that change something: they, and only
// they, take --reason (for the audit log).
var writeCommands = []string{
	"apply", "groups create", "groups delete", "jobs backfill", "jobs delete", "jobs pause", "jobs resume",
	"jobs trigger", "snapshots delete",
}

// TestEveryCommandHelps: pink, and every command and subcommand, answer
// -h, --help and `help` on stdout with exit 0: a description, usage,
// flags and an example; read-only commands do not list --reason;
// --server names one default.
func TestEveryCommandHelps(t *testing.T) {
	paths := append([][]string{nil}, commandPaths(newRoot(&bytes.Buffer{}, &bytes.Buffer{}), nil)...)
	if len(paths) < 40 {
		t.Fatalf("only %d commands: %v", len(paths), paths)
	}
	var withReason []string
	serverFlags := 0
	for _, path := range paths {
		name := strings.Join(path, " ")
		cmd, _, err := newRoot(&bytes.Buffer{}, &bytes.Buffer{}).Find(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		forms := [][]string{append(slices.Clone(path), "-h"), append(slices.Clone(path), "--help"), append([]string{"help"}, path...)}
		var first string
		for _, args := range forms {
			var out, errOut bytes.Buffer
			if code := Main(args, &out, &errOut); code != 0 || errOut.Len() > 0 {
				t.Errorf("pink %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut.String())
				continue
			}
			if first == "" {
				first = out.String()
			} else if out.String() != first {
				t.Errorf("pink %s prints another help than pink %s", strings.Join(args, " "), strings.Join(forms[0], " "))
			}
		}
		for _, want := range []string{"Usage:\n  pink", "Examples:\n  ", "Flags:\n", "-h, --help"} {
			if !strings.Contains(first, want) {
				t.Errorf("pink %s -h lacks %q:\n%s", name, want, first)
			}
		}
		if cmd.Short == "" || !strings.Contains(first, firstLine(cmd)) {
			t.Errorf("pink %s -h lacks its description %q:\n%s", name, cmd.Short, first)
		}
		if strings.Contains(first, "      --reason string ") {
			withReason = append(withReason, name)
		}
		for _, line := range strings.Split(first, "\n") {
			if !strings.Contains(line, "      --server string ") {
				continue
			}
			serverFlags++
			if strings.Count(line, "default") != 1 {
				t.Errorf("pink %s -h: --server names %d defaults: %q", name, strings.Count(line, "default"), line)
			}
		}
	}
	if serverFlags < 25 {
		t.Errorf("only %d commands list --server", serverFlags)
	}
	if !slices.Equal(withReason, writeCommands) {
		t.Errorf("commands with --reason: %q, want %q", withReason, writeCommands)
	}
}

// firstLine is what help shows first of a command: its long text, else
// its short one.
func firstLine(c *cobra.Command) string {
	if c.Long != "" {
		return strings.SplitN(c.Long, "\n", 2)[0]
	}
	return c.Short
}

// TestUsageErrors: command-line mistakes exit 2 with what is wrong on
// stderr and nothing on stdout.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"jobs", "explode"}, `unknown command "explode"; try: backfill, delete, describe, get, list`},
		{[]string{"jobs", "get"}, "missing NAME (usage: pink jobs get NAME [flags])"},
		{[]string{"jobs", "get", "a", "b"}, `unexpected arguments ["b"]`},
		{[]string{"runs", "list", "--jobs", "x"}, "unknown flag: --jobs"},
		{[]string{"runs", "list", "-n", "0"}, "--limit must be 1-1000"},
		{[]string{"runs", "list", "-n", "x"}, `invalid argument "x" for "-n, --limit"`},
		{[]string{"jobs", "list", "-o", "xml"}, "--output must be one of table, wide, json, yaml, name"},
		{[]string{"nosuch"}, `unknown command "nosuch" for "pink"`},
		{[]string{"jobs", "list", "--reason", "x"}, "unknown flag: --reason"},
		{[]string{"worker"}, "--group is required"},
		{[]string{"scheduler", "--metrics-job-info-labels", "team,cost-center"}, `--metrics-job-info-labels: "cost-center" is not a job label name`},
		{[]string{"dev", "--cluster-name", "eu west"}, `--cluster-name "eu west": want 1 to 63 letters`},
	} {
		var out, errOut bytes.Buffer
		code := Main(tc.args, &out, &errOut)
		if code != ExitUsage || out.Len() > 0 || !strings.Contains(errOut.String(), tc.stderr) || !strings.Contains(errOut.String(), "--help' for usage.") {
			t.Errorf("pink %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, out.String(), errOut.String(), tc.stderr)
		}
	}
}

func TestHuman(t *testing.T) {
	for _, tc := range []struct {
		s    int
		want string
	}{{0, "0s"}, {59, "59s"}, {60, "1m"}, {192, "3m12s"}, {3600, "1h"}, {18300, "5h5m"}, {86400 * 3, "3d"}, {86400*3 + 7200, "3d2h"}} {
		if got := human(time.Duration(tc.s) * time.Second); got != tc.want {
			t.Errorf("human(%ds) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
