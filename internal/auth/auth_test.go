package auth

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func tokensFile(entries ...[3]string) string {
	var b strings.Builder
	b.WriteString("tokens:\n")
	for _, e := range entries {
		b.WriteString("  - name: " + e[0] + "\n    role: " + e[1] + "\n    token_sha256: " + HashToken(e[2]) + "\n")
	}
	return b.String()
}

func TestParse(t *testing.T) {
	good := tokensFile([3]string{"ci", "operator", "s3cret"}, [3]string{"root", "admin", "other"})
	if entries, err := Parse([]byte(good)); err != nil || len(entries) != 2 || entries[0].role != RoleOperator {
		t.Fatalf("Parse(good) = %v, %v", entries, err)
	}
	json := `{"tokens":[{"name":"ci","role":"viewer","token_sha256":"` + HashToken("x") + `"}]}`
	if entries, err := Parse([]byte(json)); err != nil || len(entries) != 1 || entries[0].role != RoleViewer {
		t.Fatalf("Parse(json) = %v, %v", entries, err)
	}
	for name, bad := range map[string]string{
		"unknown role":                strings.Replace(good, "operator", "superuser", 1),
		"short hash":                  "tokens:\n  - name: a\n    role: admin\n    token_sha256: abc\n",
		"not hex":                     "tokens:\n  - name: a\n    role: admin\n    token_sha256: " + strings.Repeat("z", 64) + "\n",
		"duplicate name":              tokensFile([3]string{"a", "admin", "1"}, [3]string{"a", "viewer", "2"}),
		"no name":                     tokensFile([3]string{"", "admin", "1"}),
		"unknown field":               good + "    extra: 1\n",
		"plain token":                 "tokens:\n  - name: a\n    role: admin\n    token: s3cret\n",
		"groups on an operator token": "tokens:\n  - name: a\n    role: operator\n    groups: [billing]\n    token_sha256: " + HashToken("x") + "\n",
		"an empty group":              "tokens:\n  - name: a\n    role: worker\n    groups: [\"\"]\n    token_sha256: " + HashToken("x") + "\n",
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}

func TestAuthenticateAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(path, []byte(tokensFile([3]string{"ci", "operator", "s3cret"})), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := Load(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]error{
		"Bearer s3cret": nil, "Bearer wrong": ErrBadToken, "": ErrNoToken, "Basic s3cret": ErrNoToken, "Bearer ": ErrNoToken,
		"bearer s3cret": nil, "BEARER s3cret": nil, "  Bearer   s3cret ": nil, "Bearers3cret": ErrNoToken,
	} {
		id, err := a.Authenticate(header)
		if !errors.Is(err, want) || (want == nil && (id.Name != "ci" || id.Role != RoleOperator)) {
			t.Errorf("Authenticate(%q) = %+v, %v; want %v", header, id, err, want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx, 20*time.Millisecond)

	// A changed file is picked up.
	if err := os.WriteFile(path, []byte(tokensFile([3]string{"ci2", "admin", "new-token"})), 0o600); err != nil {
		t.Fatal(err)
	}
	wait(t, func() bool { id, err := a.Authenticate("Bearer new-token"); return err == nil && id.Role == RoleAdmin })
	if _, err := a.Authenticate("Bearer s3cret"); !errors.Is(err, ErrBadToken) {
		t.Errorf("old token still accepted after reload: %v", err)
	}
	// A broken file keeps the tokens in force.
	if err := os.WriteFile(path, []byte("tokens: [oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.reload(); err == nil {
		t.Fatal("a broken tokens file reloaded without error")
	}
	if _, err := a.Authenticate("Bearer new-token"); err != nil {
		t.Errorf("a broken file revoked the tokens: %v", err)
	}
}

func wait(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReloadOnSIGHUP: a SIGHUP to the process reloads the tokens file even
// when the periodic check would not notice the change (the interval is an
// hour and the new file has the old size and modification time).
func TestReloadOnSIGHUP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(path, []byte(tokensFile([3]string{"ci-", "operator", "aaaaaa"})), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Load(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// Keep a SIGHUP that arrives before Run listens, or after it stopped,
	// from ending the test binary. This stays registered: a signal still
	// in flight when the test ends must not kill the tests after it.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { a.Run(ctx, time.Hour); close(done) }()

	// Same length, same mtime: only a forced reload sees it.
	if err := os.WriteFile(path, []byte(tokensFile([3]string{"cd-bot", "admin", "bbbbbb"})), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if a.changed() {
		t.Fatal("the rewritten file looks changed; the test would not isolate SIGHUP")
	}
	if _, err := a.Authenticate("Bearer bbbbbb"); !errors.Is(err, ErrBadToken) {
		t.Fatalf("new token accepted before SIGHUP: %v", err)
	}
	// Run may not listen yet when the first signal comes: signal again
	// until the reload shows.
	reloaded := func() bool {
		id, err := a.Authenticate("Bearer bbbbbb")
		return err == nil && id.Name == "cd-bot" && id.Role == RoleAdmin
	}
	for deadline := time.Now().Add(10 * time.Second); !reloaded(); {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload the tokens file")
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 25 && !reloaded(); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := a.Authenticate("Bearer aaaaaa"); !errors.Is(err, ErrBadToken) {
		t.Errorf("old token still accepted after SIGHUP: %v", err)
	}
	cancel()
	<-done
}

// TestWorkerTokens: a worker token carries its groups and may serve those
// only; one without groups serves every group; an admin serves any; a
// viewer or operator none (they are no workers).
func TestWorkerTokens(t *testing.T) {
	entries, err := Parse([]byte("tokens:\n  - name: billing\n    role: worker\n    groups: [billing, invoices]\n    token_sha256: " + HashToken("b") + "\n" +
		"  - name: any\n    role: worker\n    token_sha256: " + HashToken("a") + "\n"))
	if err != nil || len(entries) != 2 || entries[0].role != RoleWorker {
		t.Fatalf("Parse: %v %v", entries, err)
	}
	for _, tc := range []struct {
		id    Identity
		group string
		want  bool
	}{
		{Identity{Role: RoleWorker, Groups: []string{"billing", "invoices"}}, "invoices", true},
		{Identity{Role: RoleWorker, Groups: []string{"billing"}}, "ops", false},
		{Identity{Role: RoleWorker}, "ops", true},
		{Identity{Role: RoleAdmin}, "ops", true},
		{Identity{Role: RoleOperator}, "ops", false},
		{Identity{Role: RoleViewer}, "ops", false},
	} {
		if got := tc.id.MayServe(tc.group); got != tc.want {
			t.Errorf("%+v may serve %s: %v, want %v", tc.id, tc.group, got, tc.want)
		}
	}
	if RoleWorker >= RoleViewer {
		t.Error("a worker token would pass a viewer's routes")
	}
}
