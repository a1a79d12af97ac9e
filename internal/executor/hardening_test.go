package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// TestCredentialsStayOnTheirHost: a redirect to another host gets none of
// the run's credentials (a secret header, a credential-looking literal, a
// secret body); a redirect on the same host keeps them, and other headers
// follow everywhere.
func TestCredentialsStayOnTheirHost(t *testing.T) {
	t.Setenv("PINK_SECRET_KEY", "key-FROM-ENV")
	t.Setenv("PINK_SECRET_PAYLOAD", "payload-FROM-ENV")
	got := make(chan http.Header, 4)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	defer other.Close()
	var first *httptest.Server
	first = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/landed", http.StatusFound)
		case "/away-with-body":
			http.Redirect(w, r, other.URL+"/landed", http.StatusTemporaryRedirect)
		case "/here":
			http.Redirect(w, r, "/landed", http.StatusFound)
		default:
			got <- r.Header.Clone()
		}
	}))
	defer first.Close()
	h := executor.HTTP(executor.HTTPConfig{Egress: loopback(t)})
	headers := `"headers":{"X-Api-Key":{"secret":"KEY"},"X-Auth-Token":"literal-tok","X-Team":"data"}`
	tests := []struct {
		path               string
		wantKey, wantToken string
	}{
		{"/away", "", ""},
		{"/here", "key-FROM-ENV", "literal-tok"},
	}
	for _, tt := range tests {
		if _, err := h(context.Background(), run(`{"url":"`+first.URL+tt.path+`",`+headers+`}`)); err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		hdr := <-got
		if hdr.Get("X-Api-Key") != tt.wantKey || hdr.Get("X-Auth-Token") != tt.wantToken || hdr.Get("X-Team") != "data" {
			t.Errorf("%s: the landing server got X-Api-Key %q, X-Auth-Token %q, X-Team %q; want %q, %q, data",
				tt.path, hdr.Get("X-Api-Key"), hdr.Get("X-Auth-Token"), hdr.Get("X-Team"), tt.wantKey, tt.wantToken)
		}
	}
	_, err := h(context.Background(), run(`{"url":"`+first.URL+`/away-with-body","method":"POST","body":{"secret":"PAYLOAD"}}`))
	if err == nil || !strings.Contains(err.Error(), "the body holds a secret") || strings.Contains(err.Error(), "FROM-ENV") {
		t.Errorf("secret body redirected to another host: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("the other host got the secret body")
	}
}

// TestSecretURLsInErrors: a URL that is a secret (a webhook whose path
// holds its token) is named, not printed, in a run's error.
func TestSecretURLsInErrors(t *testing.T) {
	t.Setenv("PINK_SECRET_HOOK", "http://127.0.0.1:1/services/T000/SECRETPATH?x=1")
	_, err := executor.HTTP(executor.HTTPConfig{Egress: loopback(t)})(context.Background(), run(`{"url":{"secret":"hook"},"method":"POST"}`))
	if err == nil || strings.Contains(err.Error(), "SECRETPATH") || strings.Contains(err.Error(), "T000") || !strings.Contains(err.Error(), `POST secret "hook"`) {
		t.Errorf("error text %v", err)
	}
}

// TestEchoedSecretsInOtherSpellings: a service that echoes a secret JSON-
// or URL-encoded does not put it into history either.
func TestEchoedSecretsInOtherSpellings(t *testing.T) {
	const secret = `pa"ss/wo<rd&more`
	t.Setenv("PINK_SECRET_PW", secret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := r.Header.Get("X-Password")
		var b strings.Builder
		_ = json.NewEncoder(&b).Encode(map[string]string{"got": pw})
		_, _ = w.Write([]byte(b.String() + " " + url.QueryEscape(pw)))
	}))
	defer srv.Close()
	out, err := executor.HTTP(executor.HTTPConfig{Egress: loopback(t)})(context.Background(),
		run(`{"url":"`+srv.URL+`/","headers":{"X-Password":{"secret":"pw"}}}`))
	if err != nil || out != `{"got":"***"}`+"\n ***" {
		t.Errorf("output %q, %v", out, err)
	}
}
