package pinktest

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EtcdProcess is a real etcd server running as its own process, so a test
// can kill -9 it and start it again on the same data and ports.
type EtcdProcess struct {
	t          testing.TB
	dir        string
	clientAddr string
	peerAddr   string
	proc       *Process
	starts     int
	extra      []string
	// Endpoints are the client URLs.
	Endpoints []string
}

// StartEtcdProcess starts an etcd server process on free loopback ports,
// with the etcd flags extra (such as "--quota-backend-bytes", "16777216")
// on every start.
func StartEtcdProcess(t testing.TB, extra ...string) *EtcdProcess {
	t.Helper()
	e := &EtcdProcess{t: t, dir: t.TempDir(), clientAddr: FreeAddr(t), peerAddr: FreeAddr(t), extra: extra}
	e.Endpoints = []string{"http://" + e.clientAddr}
	e.Start()
	return e
}

// Start starts the server (again) and waits until it answers.
func (e *EtcdProcess) Start() {
	e.t.Helper()
	e.starts++
	peer := "http://" + e.peerAddr
	args := append([]string{"--name", "pink-test", "--data-dir", e.dir,
		"--listen-client-urls", e.Endpoints[0], "--advertise-client-urls", e.Endpoints[0],
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "pink-test=" + peer, "--log-level", "warn"}, e.extra...)
	e.proc = StartCommand(e.t, fmt.Sprintf("etcd (start %d)", e.starts), EtcdBinary(e.t), nil, args...)
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.t.Fatalf("etcd client: %v", err)
	}
	defer cli.Close()
	Eventually(e.t, 30*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := cli.Get(ctx, "/health-probe")
		return err == nil, fmt.Sprintf("etcd not serving: %v", err)
	})
}

// Kill kills the server with SIGKILL.
func (e *EtcdProcess) Kill() { e.proc.Kill() }

// Pause freezes the server (SIGSTOP); Resume lets it go on.
func (e *EtcdProcess) Pause() { e.proc.Pause() }

// Resume continues a paused server.
func (e *EtcdProcess) Resume() { e.proc.Resume() }
