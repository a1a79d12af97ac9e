package auth

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
		"unknown role":   strings.Replace(good, "operator", "superuser", 1),
		"short hash":     "tokens:\n  - name: a\n    role: admin\n    token_sha256: abc\n",
		"not hex":        "tokens:\n  - name: a\n    role: admin\n    token_sha256: " + strings.Repeat("z", 64) + "\n",
		"duplicate name": tokensFile([3]string{"a", "admin", "1"}, [3]string{"a", "viewer", "2"}),
		"no name":        tokensFile([3]string{"", "admin", "1"}),
		"unknown field":  good + "    extra: 1\n",
		"plain token":    "tokens:\n  - name: a\n    role: admin\n    token: s3cret\n",
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
