// Package node assembles pink's processes from its parts: a scheduler node
// (election, fire loop, API), a worker (SDK + built-in targets), and the
// all-in-one dev mode with an embedded etcd. cmd/pink maps flags onto the
// configs here.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/pink-scheduler/pink/internal/etcdhealth"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/internal/version"
)

// Version is pink's version as the binary records it (internal/version;
// a release build sets it with
// -ldflags "-X github.com/pink-scheduler/pink/internal/version.Override=v1.2.3").
var Version = version.Get().Version

// EtcdConfig says how to reach etcd.
type EtcdConfig struct {
	Endpoints []string
	// Root is the key prefix of the pink cluster (default /pink).
	Root        string
	DialTimeout time.Duration
	// CACert verifies etcd's server certificate (https endpoints); Cert
	// and Key are this client's certificate for etcd's client-cert auth.
	CACert, Cert, Key string
	// Username and Password for etcd's authentication.
	Username, Password string
	// ClusterName names the pink cluster in its telemetry: the cluster
	// label of pink_build_info. Prometheus should give the process's
	// series the same value in its cluster target label, which pink's
	// rules aggregate by (docs/observability.md). Empty: no label.
	ClusterName string
}

// reconnect is how the etcd client's connections come back. gRPC's default
// waits 1 s after a member's connection fails, 1.6 times longer after each
// failed attempt, up to 2 minutes: a member back after a 15 s outage would
// be tried again only seconds later. pink tries at most a second apart:
// one dial a second per member that is down is nothing to etcd. Each
// attempt keeps gRPC's 20 s to complete (a loaded or distant etcd may take
// seconds to answer a TLS handshake); a frozen member's attempt is cut
// short when the endpoint checker takes it out.
var reconnect = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
	MinConnectTimeout: 20 * time.Second,
}

// connect opens the process's etcd client; it returns the client's config
// too, for the endpoint checker's probes.
func connect(ctx context.Context, c EtcdConfig) (*clientv3.Client, clientv3.Config, error) {
	cfg, err := clientConfig(ctx, c)
	if err != nil {
		return nil, cfg, err
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, cfg, fmt.Errorf("connect to etcd %v: %w", c.Endpoints, err)
	}
	return cli, cfg, nil
}

// clientConfig is the etcd client's config. gRPC keeps each connection
// alive with a ping every 10 s (its minimum), answered within 3 s: a
// member whose host vanished is dropped then; one that is frozen or cut
// off is found sooner by the endpoint checker (internal/etcdhealth).
func clientConfig(ctx context.Context, c EtcdConfig) (clientv3.Config, error) {
	if len(c.Endpoints) == 0 {
		return clientv3.Config{}, errors.New("no etcd endpoints: set --etcd-endpoints or PINK_ETCD_ENDPOINTS")
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	cfg := clientv3.Config{
		Endpoints:            c.Endpoints,
		DialTimeout:          c.DialTimeout,
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		DialOptions:          []grpc.DialOption{grpc.WithConnectParams(reconnect)},
		Logger:               zap.NewNop(),
		Context:              ctx,
		Username:             c.Username,
		Password:             c.Password,
	}
	if c.CACert != "" || c.Cert != "" {
		if (c.Cert == "") != (c.Key == "") {
			return cfg, errors.New("etcd TLS: give both --etcd-cert and --etcd-key, or neither")
		}
		tlsInfo := transport.TLSInfo{CertFile: c.Cert, KeyFile: c.Key, TrustedCAFile: c.CACert}
		tc, err := tlsInfo.ClientConfig()
		if err != nil {
			return cfg, fmt.Errorf("etcd TLS: %w", err)
		}
		cfg.TLS = tc
	}
	return cfg, nil
}

// isLoopback reports whether addr (host:port) listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpServer serves handler on addr until ctx ends, over TLS when it has a
// certificate.
type httpServer struct {
	srv             *http.Server
	ln              net.Listener
	tlsCert, tlsKey string
}

// withTLS makes the server speak TLS with the given PEM files.
func (h *httpServer) withTLS(cert, key string) error {
	if (cert == "") != (key == "") {
		return errors.New("give both --tls-cert and --tls-key, or neither")
	}
	if cert != "" {
		if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		h.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	h.tlsCert, h.tlsKey = cert, key
	return nil
}

// URL is the server's base URL.
func (h *httpServer) URL() string {
	if h.tlsCert != "" {
		return "https://" + h.Addr()
	}
	return "http://" + h.Addr()
}

func listen(addr string, handler http.Handler, log *slog.Logger) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: another process holds it (another pink?); give --listen another address: %w", addr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return &httpServer{srv: srv, ln: ln}, nil
}

// Addr is the address the server listens on.
func (h *httpServer) Addr() string { return h.ln.Addr().String() }

// serve runs until ctx ends, then shuts down gracefully.
func (h *httpServer) serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		if h.tlsCert != "" {
			errc <- h.srv.ServeTLS(h.ln, h.tlsCert, h.tlsKey)
			return
		}
		errc <- h.srv.Serve(h.ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	<-errc
	return nil
}

// parts runs a process's components: each gets the shared context; the
// first one to fail stops the others. wait returns that first error.
type parts struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newParts(ctx context.Context) *parts {
	p := &parts{}
	p.ctx, p.cancel = context.WithCancel(ctx)
	return p
}

// goStage starts f; stop ordering is up to f (it returns once its own
// shutdown is complete).
func (p *parts) goStage(name string, f func(context.Context) error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		err := f(p.ctx)
		if err != nil && p.ctx.Err() == nil {
			p.once.Do(func() { p.err = fmt.Errorf("%s: %w", name, err) })
			p.cancel()
		}
	}()
}

func (p *parts) wait() error {
	p.wg.Wait()
	p.cancel()
	return p.err
}

// process is what every pink process runs on: its tracing and log export
// (from the OTEL_* environment), an etcd client, its metrics registry, and
// a store that reports its etcd requests there and exports the runs it
// writes to history. close flushes the spans and records and closes the
// client.
type process struct {
	tracing *telemetry.Tracing
	logs    *telemetry.Logs
	cli     *clientv3.Client
	root    string // as configured, for the Go SDK worker's own store
	reg     *telemetry.Registry
	st      *store.Store
	log     *slog.Logger
	// health keeps cli on the etcd members that answer (nil with one
	// endpoint); stopHealth stops it and waits for it.
	health     *etcdhealth.Checker
	stopHealth func()
}

// startProcess sets up the process of service on etcd.
func startProcess(ctx context.Context, service string, etcd EtcdConfig, log *slog.Logger) (*process, error) {
	tracing, err := telemetry.SetupTracing(ctx, service, Version)
	if err != nil {
		return nil, err
	}
	p := &process{tracing: tracing, log: log, reg: telemetry.NewRegistry(), root: etcd.Root}
	build := version.Get()
	telemetry.RegisterBuildInfo(p.reg, build.Version, build.Revision, build.GoVersion, etcd.ClusterName)
	if p.logs, err = telemetry.SetupLogs(ctx, service, Version); err != nil {
		p.flush(ctx)
		return nil, err
	}
	opts := []store.Option{store.WithObserver(telemetry.NewEtcd(p.reg).Observe)}
	if p.logs.Enabled() {
		// Go SDK workers in this process (pink worker's, pink dev's) log
		// through the global provider unless given one.
		otel.SetLoggerProvider(p.logs.Provider)
		opts = append(opts, store.WithRunRecorder(runRecorder(telemetry.NewRunLog(p.logs.Provider))))
	}
	var cfg clientv3.Config
	if p.cli, cfg, err = connect(ctx, etcd); err != nil {
		p.flush(ctx)
		return nil, err
	}
	opts = append(opts, store.WithEndpointChanges(func() <-chan struct{} { return p.health.Changed() }))
	p.st = store.New(p.cli, etcd.Root, opts...)
	if p.health, p.stopHealth, err = etcdhealth.Start(log, p.cli, cfg, p.st.ProbeKey(), telemetry.NewEtcdEndpoints(p.reg)); err != nil {
		p.close(ctx)
		return nil, err
	}
	return p, nil
}

// runRecorder exports the runs the process's store writes to history (the
// leader's and the API's; a worker exports its own results) as log records
// with the span of their snapshot.
func runRecorder(rl *telemetry.RunLog) store.RunRecorder {
	return func(ctx context.Context, runs []store.RecordedRun) {
		for _, r := range runs {
			rl.EmitFor(ctx, r.Run, r.TraceParent)
		}
	}
}

func (p *process) close(ctx context.Context) {
	if p.stopHealth != nil {
		p.stopHealth()
	}
	p.cli.Close()
	p.flush(ctx)
}

func (p *process) flush(ctx context.Context) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := p.tracing.Shutdown(sctx); err != nil {
		p.log.Warn("flushing traces failed", "err", err)
	}
	if err := p.logs.Shutdown(sctx); err != nil {
		p.log.Warn("flushing log records failed", "err", err)
	}
}
