package executor_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pink-scheduler/pink/internal/egress"
	"github.com/pink-scheduler/pink/internal/executor"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

func codeOf(err error) string {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return ""
}

// TestHTTPEgress: a destination the policy denies is refused before any
// byte is sent, with code egress_denied and the rule named; a redirect to
// one is refused the same way; and each refusal is reported.
func TestHTTPEgress(t *testing.T) {
	var hits sync.Map
	protected := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
	}))
	defer protected.Close()
	open := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to-protected" {
			http.Redirect(w, r, protected.URL+"/redirected", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("open"))
	}))
	defer open.Close()
	pol, err := egress.New(egress.Config{AllowLoopback: true, Protected: []string{protected.Listener.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	var denied []string
	h := executor.HTTP(executor.HTTPConfig{Egress: pol, Denied: func(group, kind string) { denied = append(denied, group+"/"+kind) }})

	_, err = h(context.Background(), run(`{"url":"`+protected.URL+`/v3/kv/deleterange","method":"POST"}`))
	if codeOf(err) != "egress_denied" || !strings.Contains(err.Error(), "always denied") {
		t.Errorf("protected: %v (code %q), want egress_denied naming the rule", err, codeOf(err))
	}
	_, port, _ := net.SplitHostPort(protected.Listener.Addr().String())
	_, err = h(context.Background(), run(`{"url":"http://localhost:`+port+`/other-spelling"}`))
	if codeOf(err) != "egress_denied" {
		t.Errorf("protected under another name: %v", err)
	}
	_, err = h(context.Background(), run(`{"url":"`+open.URL+`/to-protected"}`))
	if codeOf(err) != "egress_denied" {
		t.Errorf("redirect to protected: %v", err)
	}
	if out, err := h(context.Background(), run(`{"url":"`+open.URL+`/fine"}`)); err != nil || out != "open" {
		t.Errorf("open: %q %v", out, err)
	}
	hits.Range(func(k, _ any) bool { t.Errorf("the protected server got %v", k); return true })
	if strings.Join(denied, ",") != "g/protected,g/protected,g/protected" {
		t.Errorf("denials reported %v", denied)
	}

	strict, err := egress.New(egress.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = executor.HTTP(executor.HTTPConfig{Egress: strict})(context.Background(), run(`{"url":"`+open.URL+`/fine"}`))
	if codeOf(err) != "egress_denied" || !strings.Contains(err.Error(), "loopback addresses are denied by default") {
		t.Errorf("loopback under the worker's default policy: %v", err)
	}
}

// TestHTTPRedirects: at most job.MaxRedirects are followed; with
// follow_redirects false the 3xx is the answer.
func TestHTTPRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/once":
			http.Redirect(w, r, "/done", http.StatusMovedPermanently)
		default:
			_, _ = w.Write([]byte("done"))
		}
	}))
	defer srv.Close()
	h := executor.HTTP(executor.HTTPConfig{Egress: loopback(t)})
	if _, err := h(context.Background(), run(`{"url":"`+srv.URL+`/loop"}`)); err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") {
		t.Errorf("redirect loop: %v", err)
	}
	if out, err := h(context.Background(), run(`{"url":"`+srv.URL+`/once"}`)); err != nil || out != "done" {
		t.Errorf("one redirect: %q %v", out, err)
	}
	_, err := h(context.Background(), run(`{"url":"`+srv.URL+`/once","follow_redirects":false}`))
	if err == nil || !strings.Contains(err.Error(), "status 301") {
		t.Errorf("follow_redirects false: %v, want the 301 as the answer", err)
	}
	if _, err := h(context.Background(), run(`{"url":"`+srv.URL+`/once","follow_redirects":false,"expect_status":301}`)); err != nil {
		t.Errorf("follow_redirects false, 301 expected: %v", err)
	}
}

// TestHTTPOutputAndErrorText: a long answer is cut with the shell target's
// marker; an error's URL shows neither the user info nor the query.
func TestHTTPOutputAndErrorText(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("a", 200_000)))
	}))
	defer srv.Close()
	h := executor.HTTP(executor.HTTPConfig{Egress: loopback(t)})
	out, err := h(context.Background(), run(`{"url":"`+srv.URL+`/big"}`))
	if err != nil || len(out) != snapshot.MaxOutputBytes || !strings.HasSuffix(out, "\n[... truncated ...]\n") {
		t.Errorf("long answer: %d bytes, ends %q, %v", len(out), out[len(out)-25:], err)
	}
	_, err = h(context.Background(), run(`{"url":"http://usr:pw@127.0.0.1:1/x?token=SECRETQUERY77"}`))
	if err == nil || strings.Contains(err.Error(), "SECRETQUERY77") || strings.Contains(err.Error(), "usr") || !strings.Contains(err.Error(), "http://127.0.0.1:1/x") {
		t.Errorf("error text %v", err)
	}
}

// TestSecrets: references resolve on the worker, from the secrets
// directory first, then PINK_SECRET_ variables; a resolved value never
// shows in the run's output or error; a missing one fails with
// secret_missing; the worker's own variables cannot be asked for.
func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api-token"), []byte("tok-FROM-FILE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PINK_SECRET_HOOK_BODY", "body-FROM-ENV")
	t.Setenv("PINK_ETCD_PASSWORD", "etcd-pw")
	secrets := executor.Secrets{Dir: dir}
	seen := make(chan http.Header, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		b := make([]byte, 100)
		n, _ := r.Body.Read(b)
		// The service echoes what it got: the echo must not reach history.
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("got " + r.Header.Get("Authorization") + " and " + string(b[:n])))
	}))
	defer srv.Close()
	h := executor.HTTP(executor.HTTPConfig{Egress: loopback(t), Secrets: secrets})
	out, err := h(context.Background(), run(`{"url":"`+srv.URL+`/","method":"POST","headers":{"Authorization":{"secret":"api-token"}},"body":{"secret":"hook.body"}}`))
	if got := (<-seen).Get("Authorization"); got != "tok-FROM-FILE" {
		t.Errorf("Authorization sent %q", got)
	}
	if out != "got "+job.Masked+" and "+job.Masked || strings.Contains(err.Error(), "FROM") {
		t.Errorf("echoed secrets: output %q, error %v", out, err)
	}
	_, err = h(context.Background(), run(`{"url":"`+srv.URL+`/","headers":{"Authorization":{"secret":"ETCD_PASSWORD"}}}`))
	if codeOf(err) != "secret_missing" || !strings.Contains(err.Error(), "PINK_SECRET_ETCD_PASSWORD") {
		t.Errorf("asking for a worker variable: %v", err)
	}
	if len(seen) != 0 {
		t.Error("a request went out without its secret")
	}

	sh := executor.Shell(secrets)
	out, err = sh(context.Background(), run(`{"command":["sh","-c",{"secret":"api-token"}],"env":{"BODY":{"secret":"hook.body"}}}`))
	if err == nil || strings.Contains(err.Error()+out, "FROM") {
		t.Errorf("shell: %q %v", out, err)
	}
	out, err = sh(context.Background(), run(`{"command":["sh","-c","echo $BODY"],"env":{"BODY":{"secret":"hook.body"}}}`))
	if err != nil || out != job.Masked+"\n" {
		t.Errorf("shell echoing a secret: %q %v", out, err)
	}
}
