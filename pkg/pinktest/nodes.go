package pinktest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// StartSchedulerProcess starts `pink scheduler` named id on endpoints, with
// its API on a loopback port of its own choosing and a short session TTL,
// and waits until it is ready. It returns the process and a client of its
// API.
func StartSchedulerProcess(t testing.TB, endpoints []string, id string, env ...string) (*Process, *API) {
	t.Helper()
	p := StartProcess(t, "scheduler "+id, env, "scheduler",
		"--etcd-endpoints", strings.Join(endpoints, ","), "--listen", "127.0.0.1:0", "--node-id", id,
		"--session-ttl", "2s", "--log-level", "debug")
	api := NewAPI(p.SchedulerAddr())
	Eventually(t, 30*time.Second, func() (bool, string) {
		status, _, err := api.TryDo("GET", "/readyz", nil)
		return err == nil && status == 200, fmt.Sprintf("scheduler %s not ready: %v", id, err)
	})
	return p, api
}

// StartWorkerProcess starts `pink worker` of group default with the shell
// target, named name, on endpoints, and waits until it has registered. Its
// http target may call loopback addresses (tests' services run there). It
// returns the process and the address of its /metrics.
func StartWorkerProcess(t testing.TB, endpoints []string, name string, env ...string) (*Process, string) {
	t.Helper()
	p := StartProcess(t, "worker "+name, env, "worker", "--group", "default", "--allow-shell", "--http-allow", "127.0.0.1",
		"--etcd-endpoints", strings.Join(endpoints, ","), "--listen", "127.0.0.1:0", "--name", name,
		"--lease-ttl", "2s", "--log-level", "debug")
	addr := p.WorkerAddr()
	p.WaitOutput("worker registered", 30*time.Second)
	return p, addr
}

// SchedulerAddr waits for a `pink scheduler` process to log
// the address its API is bound to and returns it (host:port). Started with
// --listen 127.0.0.1:0, a process picks a free port itself: no other
// process can take the port between a test choosing it and pink binding it.
func (p *Process) SchedulerAddr() string {
	p.t.Helper()
	return p.logAddr("scheduler node starting", "api")
}

// DevAddr is SchedulerAddr for `pink dev`.
func (p *Process) DevAddr() string {
	p.t.Helper()
	return p.logAddr("pink dev is running", "api")
}

// WorkerAddr is SchedulerAddr for `pink worker`: the address of its
// /metrics.
func (p *Process) WorkerAddr() string {
	p.t.Helper()
	return p.logAddr("worker starting", "metrics")
}

// logAddr waits for the log line msg and returns the host:port of the URL
// in its field key, in either log format (text or json).
func (p *Process) logAddr(msg, key string) string {
	p.t.Helper()
	m, k := regexp.QuoteMeta(msg), regexp.QuoteMeta(key)
	field := regexp.MustCompile(`msg="` + m + `".* ` + k + `=(\S+)|"msg":"` + m + `".*"` + k + `":"([^"]+)"`)
	var addr string
	Eventually(p.t, 30*time.Second, func() (bool, string) {
		if p.Exited() {
			p.t.Fatalf("%s exited (%v) before logging %q", p.Name, p.err, msg)
		}
		found := field.FindStringSubmatch(p.Output())
		if found == nil {
			return false, fmt.Sprintf("%s has not logged %q with %s=", p.Name, msg, key)
		}
		value := found[1] + found[2] // one of the two formats matched
		u, err := url.Parse(value)
		if err != nil || u.Host == "" {
			p.t.Fatalf("%s logged %s=%q, not a URL", p.Name, key, value)
		}
		addr = u.Host
		return true, ""
	})
	return addr
}
