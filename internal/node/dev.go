package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pink-scheduler/pink/internal/etcdembed"
)

// DevConfig configures `pink dev`: everything in one process.
type DevConfig struct {
	// DataDir holds the embedded etcd's data; jobs and history survive a
	// restart with the same directory.
	DataDir string
	// Listen is the API and /metrics address.
	Listen string
	// EtcdListen is where the embedded etcd serves clients, so that more
	// `pink worker` or `pink scheduler` processes can join.
	EtcdListen string
	Root       string
	SessionTTL time.Duration
	// AllowShell enables the shell target on the built-in worker.
	AllowShell bool
	Capacity   int
	// NoJobLabel drops the job label from metrics.
	NoJobLabel bool
	Logger     *slog.Logger
}

// DefaultGroup is the group of the dev mode's built-in worker.
const DefaultGroup = "default"

// RunDev runs an embedded etcd, a scheduler node, the API and a worker in
// group "default" until ctx ends, then stops them in order: worker and
// scheduler first, etcd last.
func RunDev(ctx context.Context, cfg DevConfig) error {
	if err := checkListen(cfg.Listen, false, false); err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	etcd, err := etcdembed.Start(ctx, etcdembed.Config{Dir: filepath.Join(dir, "etcd"), ClientAddr: cfg.EtcdListen})
	if err != nil {
		return err
	}
	defer etcd.Close()
	cfg.Logger.Info("embedded etcd ready", "endpoints", etcd.Endpoints(), "data_dir", dir)
	proc, err := startProcess(ctx, "pink-dev", EtcdConfig{Endpoints: etcd.Endpoints(), Root: cfg.Root}, cfg.Logger)
	if err != nil {
		return err
	}
	defer proc.close(ctx)

	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = ensureGroup(ictx, proc.st, DefaultGroup, "pink dev")
	cancel()
	if err != nil {
		return err
	}
	sp, err := buildScheduler(proc, nil, SchedulerConfig{Listen: cfg.Listen, SessionTTL: cfg.SessionTTL,
		NoJobLabel: cfg.NoJobLabel, Logger: cfg.Logger})
	if err != nil {
		return err
	}
	w := buildWorker(proc, WorkerConfig{Group: DefaultGroup, Name: "dev", Capacity: cfg.Capacity,
		LeaseTTL: cfg.SessionTTL, DrainTimeout: 10 * time.Second, AllowShell: cfg.AllowShell, NoJobLabel: cfg.NoJobLabel,
		Logger: cfg.Logger}, sp.http.Addr())

	p := newParts(ctx)
	p.goStage("scheduler", sp.sched.Run)
	p.goStage("worker", w.Run)
	p.goStage("api", sp.http.serve)
	p.goStage("etcd", func(ctx context.Context) error {
		select {
		case err := <-etcd.Err():
			return err
		case <-ctx.Done():
			return nil
		}
	})
	cfg.Logger.Info("pink dev is running", "api", sp.http.URL(), "metrics", sp.http.URL()+"/metrics",
		"etcd", etcd.Endpoints(), "group", DefaultGroup, "shell", cfg.AllowShell, "version", Version)
	err = p.wait()
	cfg.Logger.Info("pink dev stopped")
	return err
}
