package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// inheritedEnv are the only variables a command inherits from the worker:
// the worker's own environment may hold secrets (etcd credentials, tokens).
var inheritedEnv = []string{"PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR"}

// Shell returns the shell target: it runs params.command (an argv array,
// no shell parsing) in its own process group, with params.env and
// params.dir. The combined stdout and stderr (the last 64 KiB) is the
// output; a non-zero exit fails the run. On timeout the whole process group
// is killed, so children do not outlive the run. Register it only on
// workers that are allowed to run commands.
func Shell(secrets Secrets) worker.Handler {
	return func(ctx context.Context, run worker.Run) (string, error) {
		res := &resolver{secrets: secrets}
		out, err := runCommand(ctx, run, res)
		return res.mask(out), res.maskErr(err)
	}
}

// runCommand runs one run's command with its secrets resolved.
func runCommand(ctx context.Context, run worker.Run, res *resolver) (string, error) {
	p, err := job.DecodeShellParams(run.Params)
	if err != nil {
		return "", err
	}
	argv := make([]string, len(p.Command))
	for i, v := range p.Command {
		if argv[i], err = res.value(v); err != nil {
			return "", err
		}
	}
	env := make(map[string]string, len(p.Env))
	for k, v := range p.Env {
		if env[k], err = res.named(k, v); err != nil {
			return "", err
		}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.Dir
	cmd.Env = commandEnv(env, run)
	out := &tailBuffer{max: snapshot.MaxOutputBytes}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The negative pid addresses the whole process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A grandchild that keeps the output pipe open must not hang the run.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), nil
	case ctx.Err() != nil:
		return out.String(), fmt.Errorf("killed: %w", ctx.Err())
	case errors.As(err, &exit):
		return out.String(), fmt.Errorf("command exited with status %d", exit.ExitCode())
	default:
		return out.String(), fmt.Errorf("run %q: %w", argv[0], err)
	}
}

func commandEnv(extra map[string]string, run worker.Run) []string {
	var env []string
	for _, k := range inheritedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	env = append(env,
		"PINK_SNAPSHOT_ID="+run.SnapshotID,
		"PINK_JOB="+run.Job,
		"PINK_GROUP="+run.Group,
		"PINK_ATTEMPT="+strconv.Itoa(run.Attempt),
		"PINK_SCHEDULED_AT="+run.ScheduledAt.UTC().Format(time.RFC3339),
		"PINK_SHARD_INDEX="+strconv.Itoa(run.ShardIndex),
		"PINK_SHARD_TOTAL="+strconv.Itoa(run.ShardTotal),
	)
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

const truncatedMarker = "[... truncated ...]\n"

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	total int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total += len(p)
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := string(b.buf)
	if b.total > len(s) {
		s = truncatedMarker + s
	}
	return snapshot.TruncateOutput(s)
}
