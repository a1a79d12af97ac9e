package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/egress"
)

// protectEvery is how often a worker re-reads etcd's members and
// re-resolves their names for its egress policy.
const protectEvery = 30 * time.Second

// egressPolicy is the http target's policy of a worker on etcd endpoints
// that serves listen (its metrics; "" if it has none of its own): those
// are always denied; loopback is denied unless allowLoopback (pink dev).
func egressPolicy(cfg WorkerConfig, endpoints []string, listen string, allowLoopback bool) (*egress.Policy, *etcdGuard, error) {
	g := &etcdGuard{static: egress.ProtectedFromURLs(endpoints)}
	if listen != "" {
		g.static = append(g.static, listen)
	}
	pol, err := egress.New(egress.Config{Allow: cfg.HTTPAllow, Deny: cfg.HTTPDeny, Protected: g.static, AllowLoopback: allowLoopback})
	if err != nil {
		return nil, nil, fmt.Errorf("http egress policy: %w", err)
	}
	if cfg.SecretsDir != "" {
		if fi, err := os.Stat(cfg.SecretsDir); err != nil || !fi.IsDir() {
			return nil, nil, fmt.Errorf("--secrets-dir %s is not a directory", cfg.SecretsDir)
		}
	}
	g.pol = pol
	return pol, g, nil
}

// etcdGuard keeps every etcd member out of a worker's reach, not only the
// endpoints it was given: the client and peer URLs of all members (a load
// balancer in front of etcd, or one member named, would leave the others
// open), re-read every protectEvery with their names re-resolved, so a
// member added, replaced or moved to another address is protected too.
type etcdGuard struct {
	pol    *egress.Policy
	static []string // the configured endpoints and the listen address
}

// refresh protects the static addresses and the URLs of etcd's current
// members. When the member list cannot be read it keeps the previous list
// and says why.
func (g *etcdGuard) refresh(ctx context.Context, cli *clientv3.Client, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := cli.MemberList(ctx)
	if err != nil {
		log.Warn("http egress: cannot list etcd members; protecting the configured endpoints and the members seen before", "err", err)
		return
	}
	var urls []string
	for _, m := range resp.Members {
		urls = append(urls, m.ClientURLs...)
		urls = append(urls, m.PeerURLs...)
	}
	list := append(append([]string(nil), g.static...), egress.ProtectedFromURLs(urls)...)
	if err := g.pol.SetProtected(ctx, list); err != nil {
		log.Warn("http egress: an etcd member's URL is not host:port", "err", err)
	}
}

// run refreshes the protected list until ctx ends.
func (g *etcdGuard) run(ctx context.Context, cli *clientv3.Client, log *slog.Logger) error {
	t := time.NewTicker(protectEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			g.refresh(ctx, cli, log)
		}
	}
}
