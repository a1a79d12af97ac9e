package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pink-scheduler/pink/internal/console"
	"github.com/pink-scheduler/pink/internal/etcdembed"
	"github.com/pink-scheduler/pink/internal/etcdspace"
)

// DevConfig configures `pink dev`: everything in one process.
type DevConfig struct {
	// DataDir holds the embedded etcd's data; jobs and history survive a
	// restart with the same directory.
	DataDir string
	// Listen is the API and /metrics address.
	Listen string
	// ClusterName names the cluster in its telemetry (EtcdConfig).
	ClusterName string
	// EtcdListen is where the embedded etcd serves clients, so that more
	// `pink worker` or `pink scheduler` processes can join.
	EtcdListen string
	Root       string
	SessionTTL time.Duration
	// Lookahead is how far ahead the leader writes fires (0: the default,
	// negative: off).
	Lookahead time.Duration
	// AllowShell enables the shell target on the built-in worker.
	AllowShell bool
	Capacity   int
	// NoJobLabel drops the job label from metrics.
	NoJobLabel bool
	// JobInfoLabels are the job label keys pink_job_info exports.
	JobInfoLabels []string
	// HTTPAllow, HTTPDeny and SecretsDir are the built-in worker's, as in
	// WorkerConfig.
	HTTPAllow, HTTPDeny []string
	SecretsDir          string
	// CompactEvery is the leader's compaction interval, as in
	// SchedulerConfig. DefragFree is how many bytes of free pages the
	// embedded etcd's database must hold (and at least half of its file)
	// before it is defragmented (0: etcdspace.DefaultDefragFree, negative:
	// never). EtcdQuota is the embedded etcd's backend quota (0: etcd's
	// default, 2 GiB).
	CompactEvery time.Duration
	DefragFree   int64
	EtcdQuota    int64
	// HistoryMaxBytes bounds all run history in etcd (0: the default).
	HistoryMaxBytes int64
	// Console holds the web console's link templates.
	Console console.Config
	// DrainTimeout is how long runs in progress may finish when pink dev
	// stops; then they are interrupted, and retried at the next start.
	DrainTimeout time.Duration
	Logger       *slog.Logger
}

// DefaultGroup is the group of the dev mode's built-in worker.
const DefaultGroup = "default"

// RunDev runs an embedded etcd, a scheduler node, the API and a worker in
// group "default" until ctx ends, then stops them in order: worker and
// scheduler first, etcd last.
func RunDev(ctx context.Context, cfg DevConfig) error {
	if err := checkDevListen(cfg.Listen, cfg.EtcdListen); err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	release, err := lockDataDir(dir)
	if err != nil {
		return err
	}
	defer release()
	etcd, err := etcdembed.Start(ctx, etcdembed.Config{Dir: filepath.Join(dir, "etcd"), ClientAddr: cfg.EtcdListen, QuotaBytes: cfg.EtcdQuota})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("the embedded etcd cannot listen on %s: another process holds it (a second pink dev, or an etcd); "+
				"move it with --etcd-listen, e.g. --etcd-listen 127.0.0.1:0 for any free port: %w", cfg.EtcdListen, err)
		}
		return err
	}
	defer etcd.Close()
	cfg.Logger.Info("embedded etcd ready", "endpoints", etcd.Endpoints(), "data_dir", dir)
	proc, err := startProcess(ctx, "pink-dev", EtcdConfig{Endpoints: etcd.Endpoints(), Root: cfg.Root, ClusterName: cfg.ClusterName}, cfg.Logger)
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
	wcfg := WorkerConfig{Group: DefaultGroup, Name: "dev", Capacity: cfg.Capacity,
		LeaseTTL: cfg.SessionTTL, DrainTimeout: cfg.DrainTimeout, AllowShell: cfg.AllowShell, NoJobLabel: cfg.NoJobLabel,
		HTTPAllow: cfg.HTTPAllow, HTTPDeny: cfg.HTTPDeny, SecretsDir: cfg.SecretsDir, Logger: cfg.Logger}
	// Everything of pink dev runs on the laptop: loopback is allowed (the
	// tour calls pink's own API), the embedded etcd never is.
	pol, guard, err := egressPolicy(wcfg, etcd.Endpoints(), "", true)
	if err != nil {
		return err
	}
	guard.refresh(ctx, proc.cli, cfg.Logger)
	sp, err := buildScheduler(proc, nil, SchedulerConfig{Listen: cfg.Listen, SessionTTL: cfg.SessionTTL, Lookahead: cfg.Lookahead,
		CompactEvery: cfg.CompactEvery, HistoryMaxBytes: cfg.HistoryMaxBytes, NoJobLabel: cfg.NoJobLabel, JobInfoLabels: cfg.JobInfoLabels, Logger: cfg.Logger, Console: cfg.Console})
	if err != nil {
		return err
	}
	if cfg.DefragFree == 0 {
		cfg.DefragFree = etcdspace.DefaultDefragFree
	}
	sp.space.DefragEmbedded(etcd.Endpoints()[0], cfg.DefragFree)
	w := buildWorker(proc, wcfg, sp.http.Addr(), pol)

	p := newParts(ctx)
	sp.goStages(p, proc.st, cfg.Logger)
	p.goStage("worker", w.Run)
	p.goStage("egress", func(ctx context.Context) error { return guard.run(ctx, proc.cli, cfg.Logger) })
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

// checkDevListen keeps pink dev on loopback: it has no authentication, its
// embedded etcd has none either, and its worker runs shell commands. The
// messages name only flags pink dev has, and where to go instead.
func checkDevListen(listen, etcdListen string) error {
	if !isLoopback(listen) {
		return fmt.Errorf("refusing to serve the API on %s: pink dev has no authentication, so it listens on loopback only "+
			"(--listen 127.0.0.1:8080); to serve others, run pink scheduler with --api-tokens-file", listen)
	}
	if etcdListen != "" && !isLoopback(etcdListen) {
		return fmt.Errorf("refusing to serve the embedded etcd on %s: it has no authentication and pink dev's worker runs shell "+
			"commands; keep --etcd-listen on loopback (127.0.0.1:2379), or run pink scheduler and pink worker against an etcd "+
			"with authentication and TLS (docs/security.md)", etcdListen)
	}
	return nil
}
