package pinktest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu   sync.Mutex
	buildDir  string
	buildErr  error
	buildDone = map[string]string{} // package -> binary path
)

// Main runs a package's tests and removes the pink binary built for them.
// Use it from TestMain: func TestMain(m *testing.M) { pinktest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// Binary returns the path of the pink binary, built once per test process
// from this checkout (or taken from $PINK_TEST_BINARY).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PINK_TEST_BINARY"); p != "" {
		return p
	}
	return build(t, "./cmd/pink", "pink")
}

// EtcdBinary returns the path of a real etcd server binary (v3.7.3, the
// version go.mod pins as a tool), built once per test process.
func EtcdBinary(t testing.TB) string {
	t.Helper()
	return build(t, "go.etcd.io/etcd/server/v3", "etcd")
}

// build compiles pkg from the module root into the shared temp dir once.
func build(t testing.TB, pkg, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildDone[pkg]; ok {
		return p
	}
	if buildDir == "" && buildErr == nil {
		buildDir, buildErr = os.MkdirTemp("", "pink-test-bin-")
	}
	if buildErr != nil {
		t.Fatalf("build %s: %v", pkg, buildErr)
	}
	path := filepath.Join(buildDir, name)
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", path, pkg)
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	buildDone[pkg] = path
	return path
}

// Process is a running pink process started by a test.
type Process struct {
	Name string
	t    testing.TB
	cmd  *exec.Cmd
	out  *Buffer
	done chan struct{}
	err  error
}

// StartProcess runs the pink binary with args. The process gets a clean
// PINK_* environment plus env ("KEY=value"). Its combined output is kept
// and printed if the test fails; it is killed when the test ends.
func StartProcess(t testing.TB, name string, env []string, args ...string) *Process {
	t.Helper()
	return StartCommand(t, name, Binary(t), env, args...)
}

// StartCommand runs binary with args like StartProcess.
func StartCommand(t testing.TB, name, binary string, env []string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PINK_") && !strings.HasPrefix(kv, "OTEL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, t: t, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		// How it ended matters when a test failed: "exit status 2" is a
		// process that stopped on its own (a panic, a failed listen),
		// "signal: killed" one the test killed.
		ended := "running at the end of the test"
		if p.Exited() {
			ended = "ended: exit status 0"
			if p.err != nil {
				ended = "ended: " + p.err.Error()
			}
		}
		p.Kill()
		if t.Failed() {
			t.Logf("---- output of %s (%s) ----\n%s", name, ended, out.String())
		}
	})
	return p
}

// Output returns what the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits up to timeout for a clean exit; it fails the
// test if the process does not exit in time or exits with an error.
func (p *Process) Stop(timeout time.Duration) {
	p.t.Helper()
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			p.t.Errorf("%s exited with %v after SIGTERM", p.Name, p.err)
		}
	case <-time.After(timeout):
		p.t.Errorf("%s did not exit within %s of SIGTERM", p.Name, timeout)
		p.Kill()
	}
}

// Kill sends SIGKILL and waits for the process to end. A paused process
// is killed too.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Pause freezes the process (SIGSTOP): it holds its sockets but answers
// nothing, like a process stuck in a long GC or a frozen VM. Resume
// (SIGCONT) lets it go on; the test's end kills it either way.
func (p *Process) Pause() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		p.t.Fatalf("pause %s: %v", p.Name, err)
	}
	// The signal is delivered asynchronously: wait until the kernel shows
	// the process stopped, so that nothing the test sends next is served.
	Eventually(p.t, 10*time.Second, func() (bool, string) {
		return p.state() == "T", fmt.Sprintf("%s is in state %q, not stopped", p.Name, p.state())
	})
}

// state is the process's state letter from /proc (R, S, T, ...).
func (p *Process) state() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return ""
	}
	// pid (comm) state ...: comm may hold spaces, so look after its ')'.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	if f := strings.Fields(rest); len(f) > 0 {
		return f[0]
	}
	return ""
}

// Resume continues a paused process.
func (p *Process) Resume() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		p.t.Fatalf("resume %s: %v", p.Name, err)
	}
}

// WaitOutput waits until the process has printed substr.
func (p *Process) WaitOutput(substr string, timeout time.Duration) {
	p.t.Helper()
	Eventually(p.t, timeout, func() (bool, string) {
		if p.Exited() {
			p.t.Fatalf("%s exited (%v) before printing %q", p.Name, p.err, substr)
		}
		return strings.Contains(p.Output(), substr), fmt.Sprintf("%s has not printed %q", p.Name, substr)
	})
}

// Buffer is a bytes.Buffer safe for concurrent writers: a process's output,
// or a log sink goroutines write to while a test reads it (give it to
// slog.NewJSONHandler and read String).
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
