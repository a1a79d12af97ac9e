package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/egress"
	"github.com/pink-scheduler/pink/internal/executor"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/worker"
)

func run(params string) worker.Run {
	return worker.Run{SnapshotID: "job@20261126T120000Z", Job: "job", Group: "g", Attempt: 2,
		ScheduledAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Params: json.RawMessage(params)}
}

// loopback is the egress policy of pink dev: the test servers are on
// loopback.
func loopback(t *testing.T) *egress.Policy {
	t.Helper()
	p, err := egress.New(egress.Config{AllowLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHTTP(t *testing.T) {
	type seen struct {
		method, body string
		header       http.Header
	}
	got := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, string(b), r.Header.Clone()}
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte("done"))
		case "/accepted":
			w.WriteHeader(http.StatusAccepted)
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("boom"))
		case "/slow":
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	h := executor.HTTP(executor.HTTPConfig{Egress: loopback(t)})

	out, err := h(context.Background(), run(`{"url":"`+srv.URL+`/ok?token=secret","method":"post","body":"{\"a\":1}","headers":{"X-Team":"data"}}`))
	if err != nil || out != "done" {
		t.Fatalf("ok: %q %v", out, err)
	}
	s := <-got
	want := map[string]string{"Pink-Snapshot-Id": "job@20261126T120000Z", "Pink-Job": "job",
		"Pink-Scheduled-At": "2026-11-26T12:00:00Z", "Pink-Attempt": "2", "X-Team": "data"}
	for k, v := range want {
		if s.header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, s.header.Get(k), v)
		}
	}
	if s.method != "POST" || s.body != `{"a":1}` {
		t.Errorf("request %s %q", s.method, s.body)
	}

	tests := []struct {
		name, params, wantErr, wantOut string
	}{
		{"2xx other than 200", `{"url":"` + srv.URL + `/accepted"}`, "", ""},
		{"5xx fails with body as output", `{"url":"` + srv.URL + `/fail?token=secret"}`, "status 500, want 2xx", "boom"},
		{"expect_status overrides 2xx", `{"url":"` + srv.URL + `/fail","expect_status":[500]}`, "", "boom"},
		{"expected status missing", `{"url":"` + srv.URL + `/ok","expect_status":204}`, "status 200, want [204]", "done"},
		{"connection refused", `{"url":"http://127.0.0.1:1/x"}`, "connection refused", ""},
	}
	for _, tc := range tests {
		out, err := h(context.Background(), run(tc.params))
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error leaks the query string: %v", tc.name, err)
		}
		if out != tc.wantOut {
			t.Errorf("%s: output %q, want %q", tc.name, out, tc.wantOut)
		}
		for len(got) > 0 {
			<-got
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := h(ctx, run(`{"url":"`+srv.URL+`/slow"}`)); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("slow: %v, want a deadline error", err)
	}
}

func TestShell(t *testing.T) {
	h := executor.Shell(executor.Secrets{})
	dir := t.TempDir()
	t.Setenv("PINK_SECRET_TOKEN", "s3cret")
	out, err := h(context.Background(), run(`{"command":["sh","-c","echo out; echo err >&2; pwd; echo $GREETING $PINK_JOB $PINK_ATTEMPT; echo token=$PINK_SECRET_TOKEN"],"env":{"GREETING":"hi"},"dir":"`+dir+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "out\nerr\n" + dir + "\nhi job 2\ntoken=\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}

	out, err = h(context.Background(), run(`{"command":["sh","-c","echo failing; exit 3"]}`))
	if err == nil || err.Error() != "command exited with status 3" || out != "failing\n" {
		t.Errorf("exit 3: %q %v", out, err)
	}
	if _, err := h(context.Background(), run(`{"command":["/nonexistent/tool"]}`)); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing binary: %v", err)
	}

	out, _ = h(context.Background(), run(`{"command":["sh","-c","head -c 200000 /dev/zero | tr '\\0' a; echo END"]}`))
	if len(out) != 64<<10 || !strings.HasSuffix(out, "aEND\n") || !strings.HasPrefix(out, "[... truncated ...]") {
		t.Errorf("long output: %d bytes, ends %q", len(out), out[len(out)-8:])
	}
}

// TestShellTimeoutKillsProcessGroup: on timeout the command and the
// children it started are killed, so nothing outlives the run.
func TestShellTimeoutKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := executor.Shell(executor.Secrets{})(ctx, run(`{"command":["sh","-c","sleep 60 & echo $! > `+pidFile+`; wait"]}`))
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("err = %v, want killed", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &pid); err != nil {
		t.Fatal(err)
	}
	pinktest.Eventually(t, 5*time.Second, func() (bool, string) {
		// Signal 0 probes for existence; a zombie already reaped is gone.
		return syscall.Kill(pid, 0) == syscall.ESRCH, "background child still alive"
	})
}
