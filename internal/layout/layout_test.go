// Package layout holds the tests that keep the source tree the shape
// docs/architecture.md describes: which packages are public contracts, what
// each package must never import, that the public API shows no internal
// type, and that files and functions stay small enough to read.
package layout

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pink-scheduler/pink"

// root is the module's root directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// goCmd runs the go command in the module root and returns its output.
func goCmd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = root(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// imports maps each package of the module (without the module prefix) to
// the module packages it imports (non-test files).
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(goCmd(t, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		var deps []string
		for _, d := range fields[1:] {
			if rest, ok := strings.CutPrefix(d, module+"/"); ok {
				deps = append(deps, rest)
			}
		}
		out[pkg] = deps
	}
	return out
}

// TestPublicPackages: pkg/ holds the public contracts and nothing else.
func TestPublicPackages(t *testing.T) {
	var public []string
	for pkg := range imports(t) {
		if strings.HasPrefix(pkg, "pkg/") {
			public = append(public, pkg)
		}
	}
	slices.Sort(public)
	want := []string{"pkg/client", "pkg/job", "pkg/pinktest", "pkg/snapshot", "pkg/worker"}
	if !slices.Equal(public, want) {
		t.Errorf("public packages %v, want %v: everything else belongs under internal/", public, want)
	}
}

// TestImportRules: each package's one job shows in what it may not import
// (docs/architecture.md lists the same rules).
func TestImportRules(t *testing.T) {
	rules := []struct {
		pkg    string
		only   []string // if set, the only module packages it may import
		forbid []string // prefixes it must not import
	}{
		{pkg: "cmd/pink", only: []string{"internal/cli"}},
		{pkg: "pkg/job", only: []string{"internal/cron"}},
		{pkg: "internal/cron", only: []string{}},
		{pkg: "pkg/snapshot", only: []string{"pkg/job"}},
		{pkg: "pkg/client", only: []string{"pkg/job", "pkg/snapshot"}},
		{pkg: "pkg/worker", forbid: []string{"internal/scheduler", "internal/api", "internal/node", "internal/cli"}},
		{pkg: "internal/store", forbid: []string{"internal/scheduler", "internal/api", "internal/node", "internal/telemetry", "pkg/worker"}},
		{pkg: "internal/scheduler", forbid: []string{"internal/api", "internal/node", "internal/cli", "pkg/worker"}},
		{pkg: "internal/api", forbid: []string{"internal/scheduler", "internal/node", "internal/cli", "pkg/worker"}},
		{pkg: "internal/telemetry", only: []string{"pkg/snapshot"}},
		{pkg: "internal/counts", only: []string{"pkg/snapshot"}},
		{pkg: "internal/cursor", only: []string{"internal/counts", "pkg/snapshot"}},
		{pkg: "internal/cluster", only: []string{}},
		{pkg: "internal/audit", only: []string{}},
	}
	all := imports(t)
	for _, r := range rules {
		deps, ok := all[r.pkg]
		if !ok {
			t.Errorf("no package %s", r.pkg)
			continue
		}
		for _, d := range deps {
			if r.only != nil && !slices.Contains(r.only, d) {
				t.Errorf("%s imports %s; it may import only %v", r.pkg, d, r.only)
			}
			for _, f := range r.forbid {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s imports %s, which it must not", r.pkg, d)
				}
			}
		}
	}
}

// TestPublicAPIShowsNoInternalType: go doc of each public package names no
// type of an internal package, so a user can use every part of it.
func TestPublicAPIShowsNoInternalType(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(root(t), "internal"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	internalRef := regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\.[A-Z]\w*`)
	for _, pkg := range []string{"./pkg/worker", "./pkg/job", "./pkg/snapshot", "./pkg/client", "./pkg/pinktest"} {
		doc := goCmd(t, "doc", "-all", pkg)
		if refs := internalRef.FindAllString(doc, -1); len(refs) > 0 {
			t.Errorf("go doc %s shows internal types: %v", pkg, slices.Compact(refs))
		}
	}
}

// Sizes a reader can hold in their head.
const (
	maxFileLines = 450
	maxFuncLines = 80
)

// TestSizes: no source file (tests aside) over maxFileLines lines and no
// function over maxFuncLines.
func TestSizes(t *testing.T) {
	for _, dir := range []string{"cmd", "internal", "pkg"} {
		err := filepath.WalkDir(filepath.Join(root(t), dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root(t), path)
			if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
				t.Errorf("%s has %d lines (at most %d): split it by idea", rel, n, maxFileLines)
			}
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok {
					continue
				}
				if n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1; n > maxFuncLines {
					t.Errorf("%s: %s has %d lines (at most %d)", rel, fd.Name.Name, n, maxFuncLines)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
