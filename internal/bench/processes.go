package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// schedulers are the `pink scheduler` processes of a run.
type schedulers struct {
	mu        sync.Mutex
	endpoints []string
	root      string
	cfg       Config
	dir       string
	procs     map[string]*exec.Cmd // node id -> process
	// peak is the largest VmHWM of the processes already stopped.
	peak int64
}

func newSchedulers(endpoints []string, root string, cfg Config, dir string) *schedulers {
	return &schedulers{endpoints: endpoints, root: root, cfg: cfg, dir: dir, procs: map[string]*exec.Cmd{}}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start starts scheduler i (again).
func (s *schedulers) start(i int) error {
	id := fmt.Sprintf("bench-s%d", i)
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	cmd := exec.Command(s.cfg.Binary, "scheduler", "--etcd-endpoints", strings.Join(s.endpoints, ","), "--root", s.root,
		"--listen", addr, "--node-id", id, "--session-ttl", s.cfg.SessionTTL.String(), "--log-level", "warn")
	cmd.Args = append(cmd.Args, "--lookahead", s.cfg.Lookahead.String())
	if s.cfg.NoJobLabel {
		cmd.Args = append(cmd.Args, "--metrics-job-label=false")
	}
	if s.cfg.CPUProfile != "" {
		cmd.Args = append(cmd.Args, "--cpu-profile", s.cfg.CPUProfile+"."+id)
	}
	if s.cfg.MemProfile != "" {
		cmd.Args = append(cmd.Args, "--mem-profile", s.memProfile(id))
	}
	cmd.Env = os.Environ()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.cfg.Binary, err)
	}
	go func() { _ = cmd.Wait() }()
	s.mu.Lock()
	s.procs[id] = cmd
	s.mu.Unlock()
	return nil
}

// kill SIGKILLs the process of node id, or with graceful SIGTERMs it and
// waits for it to exit, and starts a new one in its place.
func (s *schedulers) kill(id string, graceful bool) error {
	s.mu.Lock()
	cmd := s.procs[id]
	s.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("no scheduler %s", id)
	}
	// Its high-water mark goes with it.
	s.mu.Lock()
	s.peak = max(s.peak, statusKB(cmd.Process.Pid, "VmHWM:")*1024)
	s.mu.Unlock()
	if graceful {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		deadline := time.Now().Add(30 * time.Second)
		for processAlive(cmd.Process.Pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	_ = cmd.Process.Kill()
	var i int
	_, _ = fmt.Sscanf(id, "bench-s%d", &i)
	return s.start(i)
}

func (s *schedulers) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer clear(s.procs)
	for _, cmd := range s.procs {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, cmd := range s.procs {
		deadline := time.Now().Add(10 * time.Second)
		for processAlive(cmd.Process.Pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
	}
}

func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state field follows the command in parentheses; Z is a zombie.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// cpuSeconds sums user and system CPU time of the live processes.
func (s *schedulers) cpuSeconds() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0.0
	for _, cmd := range s.procs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		total += (utime + stime) / 100 // clock ticks (USER_HZ is 100 on Linux)
	}
	return total
}

// maxRSS is the largest resident set of the live processes, in bytes.
func (s *schedulers) maxRSS() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var most int64
	for _, cmd := range s.procs {
		most = max(most, statusKB(cmd.Process.Pid, "VmRSS:")*1024)
	}
	return most
}

// peakRSS is the largest resident set any scheduler process of the run had
// so far (the kernel's high-water mark, VmHWM), in bytes.
func (s *schedulers) peakRSS() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	most := s.peak
	for _, cmd := range s.procs {
		most = max(most, statusKB(cmd.Process.Pid, "VmHWM:")*1024)
	}
	return most
}

// statusKB reads a "Name:   123 kB" field of /proc/<pid>/status; 0 when
// the process or the field is gone.
func statusKB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

func (s *schedulers) memProfile(id string) string { return s.cfg.MemProfile + "." + id }

// heapProfiles has every live scheduler write its heap profile now
// (SIGUSR1, see pink scheduler --mem-profile) and waits until each has
// written it.
func (s *schedulers) heapProfiles(ctx context.Context) error {
	if s.cfg.MemProfile == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, cmd := range s.procs {
		path := s.memProfile(id)
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("heap profile: %w", err)
		}
		if err := cmd.Process.Signal(syscall.SIGUSR1); errors.Is(err, os.ErrProcessDone) {
			// Killed by a failover mode at the end of the window, its
			// successor not yet in place: no profile of it.
			continue
		} else if err != nil {
			return fmt.Errorf("heap profile of %s: %w", id, err)
		}
		// The scheduler writes a temporary file and renames it: the path
		// appears complete.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(path); err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("scheduler %s wrote no heap profile to %s within 30s", id, path)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// fleet is the run's in-process workers, each with its own etcd client, as
// separate worker processes would have.
type fleet struct {
	ctx       context.Context
	endpoints []string
	root      string
	cfg       Config
	rec       *recorder
	mu        sync.Mutex
	members   []*member
}

type member struct {
	w      *worker.Worker
	stop   context.CancelFunc
	close  func()
	done   chan struct{}
	killed bool
}

func newFleet(ctx context.Context, endpoints []string, root string, cfg Config, rec *recorder) *fleet {
	return &fleet{ctx: ctx, endpoints: endpoints, root: root, cfg: cfg, rec: rec}
}

func (f *fleet) start() error {
	cli, err := newClient(f.endpoints)
	if err != nil {
		return err
	}
	w := worker.New(worker.Config{Client: cli, Root: f.root, Group: "bench", Capacity: f.cfg.WorkerCapacity, ClaimAhead: f.cfg.ClaimAhead,
		Logger: slog.New(atLeast{f.cfg.Logger.Handler(), slog.LevelWarn}), Name: fmt.Sprintf("bench-w%d", len(f.members)), DrainTimeout: 5 * time.Second, LeaseTTL: f.cfg.SessionTTL,
		// Like `pink worker --metrics-job-label`: with per-job series a
		// worker follows the jobs of its group, which it reads at start.
		Registerer: telemetry.NewRegistry(), NoJobLabel: f.cfg.NoJobLabel})
	w.Handle("noop", f.rec.handle)
	ctx, cancel := context.WithCancel(f.ctx)
	// A killed worker's connection goes first: cli.Close alone stops the
	// lease keep-alives while the connection still serves requests, and the
	// worker, seeing its lease end, revokes it at once — a graceful exit,
	// not the crash the kill stands for.
	m := &member{w: w, stop: cancel, close: func() { _ = cli.ActiveConnection().Close(); _ = cli.Close() }, done: make(chan struct{})}
	go func() { defer close(m.done); _ = w.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for w.ID() == "" {
		if time.Now().After(deadline) {
			return fmt.Errorf("worker did not register")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.mu.Lock()
	f.members = append(f.members, m)
	f.mu.Unlock()
	return nil
}

// anyID is the client id of a live worker, "" if none.
func (f *fleet) anyID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.members {
		if !m.killed {
			return m.w.ID()
		}
	}
	return ""
}

// kill makes a worker vanish like a crashed process: its etcd client goes
// away first, so it can neither report nor release its registration; the
// leader notices when its lease expires. It returns the client id.
func (f *fleet) kill() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.members {
		if !m.killed {
			m.killed = true
			id := m.w.ID()
			m.close()
			m.stop()
			return id
		}
	}
	return ""
}

func (f *fleet) stopAll() {
	f.mu.Lock()
	members := f.members
	f.members = nil
	f.mu.Unlock()
	for _, m := range members {
		m.stop()
	}
	for _, m := range members {
		<-m.done
		m.close()
	}
}

// atLeast passes on the records of h at level min and above: a benchmark's
// workers log warnings, not every run.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return atLeast{h.Handler.WithAttrs(as), h.min}
}

func (h atLeast) WithGroup(name string) slog.Handler {
	return atLeast{h.Handler.WithGroup(name), h.min}
}
