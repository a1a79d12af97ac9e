// Package etcdembed runs a single-member etcd server inside the pink process,
// for `pink dev` and for tests. It is a real etcd (go.etcd.io/etcd/server/v3),
// not a fake: the same transactions, watches, leases and compaction.
package etcdembed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Config says where the server keeps its data and listens.
type Config struct {
	// Dir holds the data; it survives restarts.
	Dir string
	// ClientAddr is host:port for clients ("127.0.0.1:0" picks a free port).
	ClientAddr string
	// PeerAddr is host:port for raft peers; a single member still needs one.
	PeerAddr string
	// Name of the member (default "pink-dev").
	Name string
	// MaxTxnOps raises etcd's limit on operations per transaction (default 128).
	MaxTxnOps uint
	// QuotaBytes is the backend quota: past it etcd raises NOSPACE and
	// refuses writes (0: etcd's default, 2 GiB).
	QuotaBytes int64
	// Logger receives etcd's own logs; nil silences them.
	Logger *zap.Logger
	// TLS serves clients over TLS when set.
	TLS *TLS
}

// TLS is the server side of client TLS: the server's certificate, and the
// CA that client certificates must chain to when ClientCertAuth is set.
type TLS struct {
	Cert, Key, CA  string
	ClientCertAuth bool
}

// Server is a running embedded etcd.
type Server struct {
	e         *embed.Etcd
	endpoints []string
}

// bindAttempts bounds Start's retries when a port it picked was taken
// between picking and binding (another process, a parallel test).
const bindAttempts = 5

// Start starts the server and waits until it serves clients.
func Start(ctx context.Context, c Config) (*Server, error) {
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, c)
		if err == nil || attempt == bindAttempts || !pickedPort(c) || !strings.Contains(err.Error(), "address already in use") {
			return s, err
		}
	}
}

// pickedPort reports whether Start picks a port itself (":0"), so that a
// port taken meanwhile can be picked again.
func pickedPort(c Config) bool {
	return strings.HasSuffix(c.ClientAddr, ":0") || c.PeerAddr == "" || strings.HasSuffix(c.PeerAddr, ":0")
}

func start(ctx context.Context, c Config) (*Server, error) {
	cfg := embed.NewConfig()
	cfg.Dir = c.Dir
	cfg.Name = c.Name
	if cfg.Name == "" {
		cfg.Name = "pink-dev"
	}
	clientAddr, err := resolvePort(c.ClientAddr, "127.0.0.1:2379")
	if err != nil {
		return nil, fmt.Errorf("etcd client address: %w", err)
	}
	peerAddr, err := resolvePort(c.PeerAddr, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("etcd peer address: %w", err)
	}
	cu := url.URL{Scheme: "http", Host: clientAddr}
	if c.TLS != nil {
		cu.Scheme = "https"
		cfg.ClientTLSInfo = transport.TLSInfo{CertFile: c.TLS.Cert, KeyFile: c.TLS.Key, TrustedCAFile: c.TLS.CA,
			ClientCertAuth: c.TLS.ClientCertAuth}
	}
	pu := url.URL{Scheme: "http", Host: peerAddr}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	cfg.ClusterState = embed.ClusterStateFlagNew
	if c.MaxTxnOps > 0 {
		cfg.MaxTxnOps = c.MaxTxnOps
	}
	cfg.QuotaBackendBytes = c.QuotaBytes
	logger := c.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(logger)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", c.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("embedded etcd not ready after 60s")
	}
	return &Server{e: e, endpoints: []string{cu.String()}}, nil
}

// resolvePort turns a ":0" port into a concrete free port, because etcd
// advertises the address it is given.
func resolvePort(addr, def string) (string, error) {
	if addr == "" {
		addr = def
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Endpoints are the client URLs to give clientv3.
func (s *Server) Endpoints() []string { return s.endpoints }

// Err reports a fatal server error after start.
func (s *Server) Err() <-chan error { return s.e.Err() }

// Close stops the server and waits until its data is flushed.
func (s *Server) Close() { s.e.Close() }
