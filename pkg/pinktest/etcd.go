// Package pinktest runs pink for real inside tests, for pink's own tests
// and for the tests of users' handlers: a Cluster (an embedded etcd,
// scheduler nodes and Go SDK workers) with assertions on its runs
// (RequireRuns, RequireNoDuplicates); the built pink binary and its
// processes; a real etcd server process or a cluster of them (to kill,
// freeze and restart members); free loopback ports; an API
// client; metrics readers; and condition polling. Nothing here fakes etcd
// or HTTP.
package pinktest

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pink-scheduler/pink/internal/etcdembed"
)

// Etcd is a real etcd server embedded in the test process, started for one
// test, with a client of it.
type Etcd struct {
	Endpoints []string
	Client    *clientv3.Client
	// Dir holds its data; StartEtcdIn on the same Dir starts it again.
	Dir    string
	server *etcdembed.Server
}

// StartEtcd starts a fresh single-member etcd on free loopback ports with
// its data in a temp dir; it is closed when the test ends.
func StartEtcd(t testing.TB) *Etcd {
	t.Helper()
	return StartEtcdIn(t, t.TempDir())
}

// StartEtcdIn starts an embedded etcd on dir (reusing its data).
func StartEtcdIn(t testing.TB, dir string) *Etcd {
	t.Helper()
	return StartEtcdAt(t, dir, "127.0.0.1:0")
}

// StartEtcdAt starts an embedded etcd on dir serving clients at addr, so a
// test can restart etcd where its clients expect it.
func StartEtcdAt(t testing.TB, dir, addr string) *Etcd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := etcdembed.Start(ctx, etcdembed.Config{Dir: dir, ClientAddr: addr, PeerAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		srv.Close()
		t.Fatalf("etcd client: %v", err)
	}
	e := &Etcd{server: srv, Endpoints: srv.Endpoints(), Client: cli, Dir: dir}
	t.Cleanup(e.Close)
	return e
}

// Close stops the client and the server; safe to call twice.
func (e *Etcd) Close() {
	if e.Client != nil {
		e.Client.Close()
		e.Client = nil
	}
	if e.server != nil {
		e.server.Close()
		e.server = nil
	}
}

// Revision returns etcd's current revision: it changes with every write,
// so equal revisions before and after prove nothing was written.
func (e *Etcd) Revision(t testing.TB) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.Client.Get(ctx, "/", clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("etcd revision: %v", err)
	}
	return resp.Header.Revision
}

// Keys returns every key under prefix with its value.
func (e *Etcd) Keys(t testing.TB, prefix string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.Client.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("etcd get %s: %v", prefix, err)
	}
	out := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

// StartEtcdClient returns a client of endpoints that outlives any one
// server process (for restart tests); it is closed when the test ends.
func StartEtcdClient(t testing.TB, endpoints []string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
