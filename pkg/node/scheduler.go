package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/pink-scheduler/pink/pkg/api"
	"github.com/pink-scheduler/pink/pkg/scheduler"
	"github.com/pink-scheduler/pink/pkg/store"
	"github.com/pink-scheduler/pink/pkg/telemetry"
)

// SchedulerConfig configures `pink scheduler`.
type SchedulerConfig struct {
	Etcd EtcdConfig
	// Listen is the API and /metrics address.
	Listen string
	// AllowUnauthenticated lets the API listen beyond loopback without
	// auth. Without it a non-loopback Listen is refused.
	AllowUnauthenticated bool
	NodeID               string
	SessionTTL           time.Duration
	MisfireThreshold     time.Duration
	HistoryLimit         int
	HistoryMaxAge        time.Duration
	// NoJobLabel drops the job label from metrics (very large fleets).
	NoJobLabel bool
	Logger     *slog.Logger
}

// schedulerParts is what a scheduler process consists of once built.
type schedulerParts struct {
	sched *scheduler.Scheduler
	http  *httpServer
}

func checkListen(listen string, allow bool) error {
	if !isLoopback(listen) && !allow {
		return fmt.Errorf("refusing to serve the API on %s without authentication: listen on 127.0.0.1, or pass --insecure-allow-unauthenticated", listen)
	}
	return nil
}

// buildScheduler wires a scheduler node and its API on st.
func buildScheduler(st *store.Store, reg *telemetry.Registry, tracer trace.Tracer, cfg SchedulerConfig) (*schedulerParts, error) {
	sched := scheduler.New(scheduler.Config{
		Store: st, NodeID: cfg.NodeID, Addr: cfg.Listen, Version: Version,
		SessionTTL: cfg.SessionTTL, MisfireThreshold: cfg.MisfireThreshold,
		HistoryLimit: cfg.HistoryLimit, HistoryMaxAge: cfg.HistoryMaxAge,
		Logger: cfg.Logger, Metrics: telemetry.NewScheduler(reg, telemetry.Options{NoJobLabel: cfg.NoJobLabel}),
		Tracer: tracer,
	})
	handler := api.New(api.Config{Store: st, Metrics: reg.Handler(), Requests: telemetry.NewAPI(reg), Logger: cfg.Logger})
	srv, err := listen(cfg.Listen, handler, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &schedulerParts{sched: sched, http: srv}, nil
}

// RunScheduler runs a scheduler node until ctx ends.
func RunScheduler(ctx context.Context, cfg SchedulerConfig) error {
	if err := checkListen(cfg.Listen, cfg.AllowUnauthenticated); err != nil {
		return err
	}
	tracing, flush, err := setupTracing(ctx, "pink-scheduler", cfg.Logger)
	if err != nil {
		return err
	}
	defer flush()
	cli, err := connect(ctx, cfg.Etcd)
	if err != nil {
		return err
	}
	defer cli.Close()
	reg := telemetry.NewRegistry()
	st := newStore(cli, cfg.Etcd.Root, reg)
	sp, err := buildScheduler(st, reg, tracing.Tracer, cfg)
	if err != nil {
		return err
	}
	cfg.Logger.Info("scheduler node starting", "node", sp.sched.NodeID(), "api", "http://"+sp.http.Addr(),
		"etcd", cfg.Etcd.Endpoints, "version", Version)
	p := newParts(ctx)
	p.goStage("scheduler", sp.sched.Run)
	p.goStage("api", sp.http.serve)
	err = p.wait()
	cfg.Logger.Info("scheduler node stopped")
	return err
}
