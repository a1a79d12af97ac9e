package node

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/auth"
	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/internal/console"
	"github.com/pink-scheduler/pink/internal/etcdspace"
	"github.com/pink-scheduler/pink/internal/profiling"
	"github.com/pink-scheduler/pink/internal/remote"
	"github.com/pink-scheduler/pink/internal/scheduler"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
)

// SchedulerConfig configures `pink scheduler`.
type SchedulerConfig struct {
	Etcd EtcdConfig
	// Listen is the API and /metrics address.
	Listen string
	// AllowUnauthenticated lets the API listen beyond loopback without
	// auth. Without it (or a TokensFile) a non-loopback Listen is refused.
	AllowUnauthenticated bool
	// TokensFile turns on bearer-token authentication (see internal/auth).
	TokensFile string
	// MetricsNeedToken makes /metrics need a viewer token too.
	MetricsNeedToken bool
	// TLSCert and TLSKey make the API serve HTTPS.
	TLSCert, TLSKey string
	// AdvertiseURL is the base URL other scheduler nodes reach this node's
	// API at, to forward a remote worker's requests to the node that holds
	// it; "" derives it from the address the API is bound to.
	AdvertiseURL     string
	NodeID           string
	SessionTTL       time.Duration
	MisfireThreshold time.Duration
	// Lookahead is how far ahead the leader writes fires, as in
	// scheduler.Config (0: the default, negative: off).
	Lookahead     time.Duration
	HistoryLimit  int
	HistoryMaxAge time.Duration
	// HistoryMaxBytes bounds all run history in etcd (0: the default).
	HistoryMaxBytes int64
	// CompactEvery is how often the leader compacts etcd (0: the default,
	// negative: never), as in scheduler.Config.
	CompactEvery time.Duration
	// NoJobLabel drops the job label from metrics (very large fleets).
	NoJobLabel bool
	// JobInfoLabels are the job label keys pink_job_info exports.
	JobInfoLabels []string
	// Console holds the web console's link templates.
	Console console.Config
	// CPUProfile, if set, receives a CPU profile of the whole run;
	// MemProfile a heap profile on each SIGUSR1.
	CPUProfile, MemProfile string
	Logger                 *slog.Logger
}

// schedulerParts is what a scheduler process consists of once built.
type schedulerParts struct {
	sched     *scheduler.Scheduler
	http      *httpServer
	space     *etcdspace.Monitor
	cronRules *cronRules
	// remote holds the workers of the HTTP worker protocol this node serves.
	remote *remote.Registry
}

func checkListen(listen string, authenticated, allow bool) error {
	if !isLoopback(listen) && !authenticated && !allow {
		return fmt.Errorf("refusing to serve the API on %s without authentication: give --api-tokens-file, listen on 127.0.0.1, or pass --insecure-allow-unauthenticated", listen)
	}
	return nil
}

// buildScheduler wires a scheduler node and its API on st.
func buildScheduler(proc *process, authn *auth.Authenticator, cfg SchedulerConfig) (*schedulerParts, error) {
	st, reg := proc.st, proc.reg
	rules := &cronRules{}
	cfg.NodeID = cmp.Or(cfg.NodeID, cluster.ProcessName())
	spaceMetrics := telemetry.NewEtcdSpace(reg)
	space := etcdspace.NewMonitor(proc.cli, spaceMetrics, cfg.Logger)
	workers := remote.New(remote.Config{Client: proc.cli, Root: proc.root, Registerer: reg, TracerProvider: proc.tracing.Provider,
		Logger: cfg.Logger, Version: Version, NodeID: cfg.NodeID, EndpointsChanged: proc.health.Changed})
	handler := api.New(api.Config{Store: st, Auth: authn, Metrics: reg.Handler(), MetricsNeedToken: cfg.MetricsNeedToken,
		Requests: telemetry.NewAPI(reg), Logger: cfg.Logger, NoSpace: func() bool {
			last := space.Last()
			return last != nil && last.NoSpace
		}, CronRulesSince: rules.Since, Remote: workers})
	web, err := console.Mount(handler, cfg.Console)
	if err != nil {
		workers.Close()
		return nil, err
	}
	srv, err := listen(cfg.Listen, web, cfg.Logger)
	if err != nil {
		workers.Close()
		return nil, err
	}
	// The node registers the address it is bound to, so that a listen
	// address with port 0 (any free port) is still reachable from others.
	sched := scheduler.New(scheduler.Config{
		Store: st, NodeID: cfg.NodeID, Addr: srv.Addr(), URL: advertiseURL(cfg.AdvertiseURL, srv.Addr(), cfg.TLSCert != ""), Version: Version,
		SessionTTL: cfg.SessionTTL, MisfireThreshold: cfg.MisfireThreshold, Lookahead: cfg.Lookahead,
		HistoryLimit: cfg.HistoryLimit, HistoryMaxAge: cfg.HistoryMaxAge, HistoryMaxBytes: cfg.HistoryMaxBytes, CompactEvery: cfg.CompactEvery,
		Logger: cfg.Logger, Metrics: telemetry.NewScheduler(reg, telemetry.Options{NoJobLabel: cfg.NoJobLabel, JobInfoLabels: cfg.JobInfoLabels}),
		Space: spaceMetrics, SpacePressure: space.HalfFull, Tracer: proc.tracing.Tracer,
	})
	// A shutdown waits for open requests; event streams end only when told.
	srv.srv.RegisterOnShutdown(handler.CloseStreams)
	if err := srv.withTLS(cfg.TLSCert, cfg.TLSKey); err != nil {
		srv.ln.Close()
		workers.Close()
		return nil, err
	}
	return &schedulerParts{sched: sched, http: srv, space: space, cronRules: rules, remote: workers}, nil
}

// RunScheduler runs a scheduler node until ctx ends.
func RunScheduler(ctx context.Context, cfg SchedulerConfig) error {
	if err := checkListen(cfg.Listen, cfg.TokensFile != "", cfg.AllowUnauthenticated); err != nil {
		return err
	}
	authn, err := loadAuth(cfg.TokensFile, cfg.Logger)
	if err != nil {
		return err
	}
	stopProfile, err := profiling.StartCPU(cfg.CPUProfile)
	if err != nil {
		return err
	}
	defer func() {
		if perr := stopProfile(); perr != nil {
			cfg.Logger.Error("could not write the CPU profile", "err", perr)
		}
	}()
	profiling.HeapOnSignal(ctx, cfg.MemProfile, cfg.Logger)
	proc, err := startProcess(ctx, "pink-scheduler", cfg.Etcd, cfg.Logger)
	if err != nil {
		return err
	}
	defer proc.close(ctx)
	sp, err := buildScheduler(proc, authn, cfg)
	if err != nil {
		return err
	}
	cfg.Logger.Info("scheduler node starting", "node", sp.sched.NodeID(), "api", sp.http.URL(),
		"etcd", cfg.Etcd.Endpoints, "auth", authn != nil, "version", Version)
	p := newParts(ctx)
	if authn != nil {
		p.goStage("tokens", func(ctx context.Context) error { authn.Run(ctx, 2*time.Second); return nil })
	}
	sp.goStages(p, proc.st, cfg.Logger)
	err = p.wait()
	cfg.Logger.Info("scheduler node stopped")
	return err
}

// goStages runs the node's parts: the scheduler, the API, the etcd space
// monitor, the cron-rules reader and the remote workers.
func (sp *schedulerParts) goStages(p *parts, st *store.Store, log *slog.Logger) {
	p.goStage("scheduler", sp.sched.Run)
	p.goStage("api", sp.http.serve)
	p.goStage("etcd-space", sp.space.Run)
	p.goStage("cron-rules", func(ctx context.Context) error { return sp.cronRules.run(ctx, st, log) })
	p.goStage("remote-workers", sp.runRemote)
}

// runRemote keeps the node's remote workers until ctx ends, then drains
// them (their unstarted runs move to other workers at once).
func (sp *schedulerParts) runRemote(ctx context.Context) error {
	<-ctx.Done()
	sp.remote.Close()
	return nil
}

// loadAuth reads the tokens file; no file means authentication is off.
func loadAuth(path string, log *slog.Logger) (*auth.Authenticator, error) {
	if path == "" {
		return nil, nil
	}
	return auth.Load(path, log)
}
