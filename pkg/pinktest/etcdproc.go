package pinktest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EtcdProcess is a real etcd server running as its own process, so a test
// can kill -9 it, freeze it, and start it again on the same data and ports:
// alone (StartEtcdProcess) or as one member of an EtcdCluster.
type EtcdProcess struct {
	t          testing.TB
	name       string
	dir        string
	clientAddr string
	peerAddr   string
	proc       *Process
	starts     int
	paused     bool
	extra      []string
	cluster    *EtcdCluster
	// cli talks to this member alone (its own endpoint), made anew at each
	// start so that no reconnect backoff of a killed member's connection
	// delays the first answer of the restarted one.
	cli *clientv3.Client
	// Endpoints are the client URLs.
	Endpoints []string
}

// StartEtcdProcess starts an etcd server process on free loopback ports,
// with the etcd flags extra (such as "--quota-backend-bytes", "16777216")
// on every start.
func StartEtcdProcess(t testing.TB, extra ...string) *EtcdProcess {
	t.Helper()
	c := newEtcdCluster(t, []string{"pink-test"}, "", extra)
	c.alone = true
	c.members[0].Start()
	return c.members[0]
}

// newEtcdProcess prepares (does not start) the member name on free
// loopback ports, with its own data dir.
func newEtcdProcess(t testing.TB, name string, extra []string) *EtcdProcess {
	e := &EtcdProcess{t: t, name: name, dir: t.TempDir(), clientAddr: etcdAddr(t), peerAddr: etcdAddr(t), extra: extra}
	e.Endpoints = []string{"http://" + e.clientAddr}
	t.Cleanup(func() {
		if e.cli != nil {
			e.cli.Close()
		}
	})
	return e
}

// etcdAddr returns a free loopback address for an etcd member, on a port
// below the kernel's ephemeral range. A member killed and started again
// needs its ports back: a port of that range may meanwhile have become the
// source port of any outgoing connection (or a listener's on port 0), and
// the restart would fail with "address already in use".
func etcdAddr(t testing.TB) string {
	t.Helper()
	const from = 20000
	low := 32768 // Linux's default start of the range; macOS's is 49152
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	if low-from < 1000 {
		return FreeAddr(t)
	}
	for range 100 {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", from+rand.IntN(low-from)))
		if err == nil {
			defer l.Close()
			return l.Addr().String()
		}
	}
	return FreeAddr(t)
}

// Name returns the member's etcd name (its --name), which log lines and
// failure messages use.
func (e *EtcdProcess) Name() string { return e.name }

// Start starts the server (again, on the same data dir and ports) and
// waits until it serves: a linearizable read through it alone succeeds.
// A member of a cluster can serve only with a quorum of members running:
// to bring back several members of a cluster that lost its quorum, start
// them together with EtcdCluster.StartMembers.
func (e *EtcdProcess) Start() {
	e.t.Helper()
	if e.cluster.alone {
		e.startAlone()
		return
	}
	e.cluster.StartMembers(e)
}

// startAlone starts the server of StartEtcdProcess and waits until it
// serves, as it always has: through a client dialled at once (whose first
// dial, refused while etcd starts, waits out gRPC's reconnect backoff of
// about a second). Tests that restart etcd under load (the compaction and
// chaos tests) were written against that pace.
func (e *EtcdProcess) startAlone() {
	e.t.Helper()
	e.starts++
	e.paused = false
	e.proc = StartCommand(e.t, fmt.Sprintf("etcd (start %d)", e.starts), EtcdBinary(e.t), nil, e.args()...)
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

// args are the etcd flags of every start.
func (e *EtcdProcess) args() []string {
	peer := "http://" + e.peerAddr
	args := append([]string{"--name", e.name, "--data-dir", e.dir,
		"--listen-client-urls", e.Endpoints[0], "--advertise-client-urls", e.Endpoints[0],
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", e.cluster.initial, "--log-level", "warn"}, e.cluster.flags...)
	return append(args, e.extra...)
}

// launch starts the process of a cluster member and waits until its peer
// port answers, which etcd does before it has a quorum (a member serves
// clients only once it has published itself through raft).
func (e *EtcdProcess) launch() {
	e.t.Helper()
	if e.proc != nil && !e.proc.Exited() {
		e.t.Fatalf("etcd %s: started while still running", e.name)
	}
	e.starts++
	e.paused = false
	e.proc = StartCommand(e.t, fmt.Sprintf("etcd %s (start %d)", e.name, e.starts), EtcdBinary(e.t), nil, e.args()...)
	hc := &http.Client{Timeout: time.Second}
	Eventually(e.t, 30*time.Second, func() (bool, string) {
		if e.proc.Exited() {
			e.t.Fatalf("etcd %s exited at start %d", e.name, e.starts)
		}
		resp, err := hc.Get("http://" + e.peerAddr + "/version")
		if err != nil {
			return false, fmt.Sprintf("etcd %s: peer port not answering: %v", e.name, err)
		}
		resp.Body.Close()
		return true, ""
	})
	if e.cli != nil {
		e.cli.Close()
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints, DialTimeout: 0, Logger: zap.NewNop()})
	if err != nil {
		e.t.Fatalf("etcd %s client: %v", e.name, err)
	}
	e.cli = cli
}

// waitServing waits until a linearizable read through this member alone
// succeeds: it is in the cluster, which has a leader, and caught up.
func (e *EtcdProcess) waitServing(timeout time.Duration) {
	e.t.Helper()
	Eventually(e.t, timeout, func() (bool, string) {
		if e.proc.Exited() {
			e.t.Fatalf("etcd %s exited (start %d) before serving", e.name, e.starts)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := e.cli.Get(ctx, "/health-probe")
		return err == nil, fmt.Sprintf("etcd %s not serving: %v", e.name, err)
	})
}

// running reports whether the process is up and not paused.
func (e *EtcdProcess) running() bool { return e.proc != nil && !e.proc.Exited() && !e.paused }

// status asks this member alone for its raft status, within timeout.
func (e *EtcdProcess) status(timeout time.Duration) (*clientv3.StatusResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return e.cli.Status(ctx, e.Endpoints[0])
}

// Kill kills the server with SIGKILL.
func (e *EtcdProcess) Kill() { e.proc.Kill() }

// Pause freezes the server (SIGSTOP): it keeps its ports but answers
// nothing, as a member stuck on a frozen VM or disk does. Resume lets it
// go on.
func (e *EtcdProcess) Pause() {
	e.t.Helper()
	e.proc.Pause()
	e.paused = true
}

// Resume continues a paused server.
func (e *EtcdProcess) Resume() {
	e.t.Helper()
	e.proc.Resume()
	e.paused = false
}
