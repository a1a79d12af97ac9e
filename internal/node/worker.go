package node

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/egress"
	"github.com/pink-scheduler/pink/internal/executor"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// WorkerConfig configures `pink worker`.
type WorkerConfig struct {
	Etcd  EtcdConfig
	Group string
	// Listen serves /metrics and /healthz.
	Listen       string
	Name         string
	Capacity     int
	LeaseTTL     time.Duration
	DrainTimeout time.Duration
	// ClaimAhead is worker.Config.ClaimAhead (0: its default, negative:
	// off).
	ClaimAhead time.Duration
	// AllowShell enables the shell target on this worker.
	AllowShell bool
	// HTTPAllow and HTTPDeny are the http target's egress rules (CIDRs,
	// addresses, host names); see internal/egress.
	HTTPAllow, HTTPDeny []string
	// SecretsDir holds one file per secret that jobs' params may refer to.
	SecretsDir string
	// NoJobLabel drops the job label from metrics (very large fleets).
	NoJobLabel bool
	Logger     *slog.Logger
}

// buildWorker wires a worker with the built-in targets, as any Go SDK
// worker is built: from the etcd client, the process's registry, tracer
// and logger providers.
func buildWorker(proc *process, cfg WorkerConfig, addr string, pol *egress.Policy) *worker.Worker {
	w := worker.New(worker.Config{
		Client: proc.cli, Root: proc.root, EndpointsChanged: proc.health.Changed, Group: cfg.Group, Name: cfg.Name, Capacity: cfg.Capacity, LeaseTTL: cfg.LeaseTTL,
		DrainTimeout: cfg.DrainTimeout, ClaimAhead: cfg.ClaimAhead, Addr: addr, Version: Version, Logger: cfg.Logger,
		Registerer: proc.reg, NoJobLabel: cfg.NoJobLabel, TracerProvider: proc.tracing.Provider, LoggerProvider: proc.logs.Provider,
	})
	metrics := telemetry.NewEgress(proc.reg)
	metrics.AddGroup(cfg.Group)
	secrets := executor.Secrets{Dir: cfg.SecretsDir}
	w.Handle(job.TargetHTTP, executor.HTTP(executor.HTTPConfig{Egress: pol, Secrets: secrets, Denied: metrics.Denied}))
	if cfg.AllowShell {
		w.Handle(job.TargetShell, executor.Shell(secrets))
	}
	return w
}

// ensureGroup creates the worker's group if it is missing, so a new worker
// fleet needs no setup step.
func ensureGroup(ctx context.Context, st *store.Store, group, by string) error {
	return st.EnsureGroup(ctx, cluster.Group{Name: group, Description: "created by " + by, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)})
}

// RunWorker runs a worker process until ctx ends, then drains.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	if err := job.CheckName("group", cfg.Group); err != nil {
		return err
	}
	proc, err := startProcess(ctx, "pink-worker", cfg.Etcd, cfg.Logger)
	if err != nil {
		return err
	}
	defer proc.close(ctx)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", proc.reg.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	srv, err := listen(cfg.Listen, mux, cfg.Logger)
	if err != nil {
		return err
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = ensureGroup(ictx, proc.st, cfg.Group, "worker "+cfg.Name)
	cancel()
	if err != nil {
		return err
	}
	pol, guard, err := egressPolicy(cfg, cfg.Etcd.Endpoints, srv.Addr(), false)
	if err != nil {
		srv.ln.Close()
		return err
	}
	guard.refresh(ctx, proc.cli, cfg.Logger)
	w := buildWorker(proc, cfg, srv.Addr(), pol)
	cfg.Logger.Info("worker starting", "group", cfg.Group, "metrics", "http://"+srv.Addr()+"/metrics",
		"etcd", cfg.Etcd.Endpoints, "shell", cfg.AllowShell, "version", Version)
	p := newParts(ctx)
	p.goStage("worker", w.Run)
	p.goStage("http", srv.serve)
	p.goStage("egress", func(ctx context.Context) error { return guard.run(ctx, proc.cli, cfg.Logger) })
	err = p.wait()
	cfg.Logger.Info("worker stopped")
	return err
}
