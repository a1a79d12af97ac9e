package pinktest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EtcdCluster is a real etcd cluster of member processes on loopback, so a
// test can break one member at a time the way production etcd breaks —
// kill -9 the leader or a follower, freeze one, take away the quorum — and
// see what pink makes of it.
type EtcdCluster struct {
	t       testing.TB
	members []*EtcdProcess
	// initial is the --initial-cluster value (every member's peer URL),
	// flags the cluster-wide flags of every start.
	initial string
	flags   []string
	// alone marks the one member of StartEtcdProcess, which starts as it
	// always has (see startAlone).
	alone bool
}

// statusTimeout bounds one member's answer to a Status request: a frozen
// member answers nothing, and the question is asked again soon.
const statusTimeout = 300 * time.Millisecond

// startTimeout bounds how long starting members waits for a quorum and
// for each of them to serve.
const startTimeout = 30 * time.Second

// StartEtcdCluster starts n etcd processes (the binary of EtcdBinary)
// forming one new cluster on free loopback ports, with the etcd flags extra
// on every start of every member, and waits until each member serves. The
// members are named pink-1 to pink-n.
func StartEtcdCluster(t testing.TB, n int, extra ...string) *EtcdCluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("etcd cluster of %d members", n)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("pink-%d", i+1)
	}
	// The token keeps members of two tests' clusters, should they ever
	// meet on a reused port, from joining each other.
	token := "pink-test-" + filepath.Base(t.TempDir())
	c := newEtcdCluster(t, names, token, extra)
	c.StartMembers(c.members...)
	return c
}

// newEtcdCluster prepares (does not start) the members names. A token
// makes the cluster's --initial-cluster-token; none keeps etcd's default.
func newEtcdCluster(t testing.TB, names []string, token string, extra []string) *EtcdCluster {
	c := &EtcdCluster{t: t}
	var initial []string
	for _, name := range names {
		e := newEtcdProcess(t, name, extra)
		e.cluster = c
		c.members = append(c.members, e)
		initial = append(initial, name+"=http://"+e.peerAddr)
	}
	c.initial = strings.Join(initial, ",")
	if token != "" {
		c.flags = []string{"--initial-cluster-state", "new", "--initial-cluster-token", token}
	}
	return c
}

// Members returns the members, in the order of their names.
func (c *EtcdCluster) Members() []*EtcdProcess { return append([]*EtcdProcess(nil), c.members...) }

// Endpoints returns every member's client URL: what pink is given as
// --etcd-endpoints.
func (c *EtcdCluster) Endpoints() []string {
	var out []string
	for _, e := range c.members {
		out = append(out, e.Endpoints...)
	}
	return out
}

// StartMembers starts the members ms (again, on their data dirs and ports)
// all at once and waits until the cluster has a leader a majority agrees
// on, then until each of ms serves. It returns when that majority was first
// seen: for members that bring a quorum back, when it returned (within
// ~50 ms); for members that rejoin a cluster that kept its quorum, at once.
// Members are started together because a cluster without quorum cannot
// serve until enough of them run: started one by one, the first would
// wait for the second.
func (c *EtcdCluster) StartMembers(ms ...*EtcdProcess) time.Time {
	c.t.Helper()
	for _, e := range ms {
		e.launch()
	}
	var at time.Time
	Eventually(c.t, startTimeout, func() (bool, string) {
		l, reports, why := c.agreedLeader()
		if l != nil {
			at = c.agreedAt(reports, reports[c.index(l)].id)
		}
		return l != nil, fmt.Sprintf("etcd cluster has no quorum after starting %s: %s", memberNames(ms), why)
	})
	for _, e := range ms {
		e.waitServing(startTimeout)
	}
	return at
}

// Leader waits until a majority of the members agree on a leader that is
// running, and returns it. A majority, not the leader's own word: a leader
// cut off from the others still believes it leads until its election
// timeout passes.
func (c *EtcdCluster) Leader() *EtcdProcess {
	c.t.Helper()
	var leader *EtcdProcess
	Eventually(c.t, startTimeout, func() (bool, string) {
		l, _, why := c.agreedLeader()
		leader = l
		return l != nil, "etcd cluster has no leader: " + why
	})
	return leader
}

// Follower returns a running member that follows the leader (Leader's
// answer): the one a test kills or freezes to hurt no leader.
func (c *EtcdCluster) Follower() *EtcdProcess {
	c.t.Helper()
	var follower *EtcdProcess
	Eventually(c.t, startTimeout, func() (bool, string) {
		l, reports, why := c.agreedLeader()
		if l == nil {
			return false, "etcd cluster has no leader: " + why
		}
		for i, e := range c.members {
			if e != l && reports[i].err == nil && reports[i].leader == reports[c.index(l)].id {
				follower = e
				return true, ""
			}
		}
		return false, fmt.Sprintf("no running member follows leader %s", l.name)
	})
	return follower
}

// memberReport is what one member said of the cluster's leader, and when.
type memberReport struct {
	id, leader uint64
	at         time.Time
	err        error
}

// agreedLeader asks every running member for its status at once and
// returns the running member that a majority of all members report as
// leader (or nil and why not), and each member's report.
func (c *EtcdCluster) agreedLeader() (*EtcdProcess, []memberReport, string) {
	reports := make([]memberReport, len(c.members))
	var wg sync.WaitGroup
	for i, e := range c.members {
		if !e.running() {
			reports[i].err = fmt.Errorf("not running")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := e.status(statusTimeout)
			if err != nil {
				reports[i].err = err
				return
			}
			reports[i] = memberReport{id: st.Header.MemberId, leader: st.Leader, at: time.Now()}
		}()
	}
	wg.Wait()
	votes := map[uint64]int{}
	var why []string
	for i, r := range reports {
		if r.err != nil {
			why = append(why, fmt.Sprintf("%s: %v", c.members[i].name, r.err))
			continue
		}
		why = append(why, fmt.Sprintf("%s: leader %x", c.members[i].name, r.leader))
		if r.leader != 0 {
			votes[r.leader]++
		}
	}
	for id, n := range votes {
		if n <= len(c.members)/2 {
			continue
		}
		for i, e := range c.members {
			if reports[i].err == nil && reports[i].id == id {
				return e, reports, ""
			}
		}
	}
	return nil, reports, strings.Join(why, "; ")
}

// agreedAt returns when the answers that made a majority for leader
// arrived: the latest of the earliest majority of them.
func (c *EtcdCluster) agreedAt(reports []memberReport, leader uint64) time.Time {
	var times []time.Time
	for _, r := range reports {
		if r.err == nil && r.leader == leader {
			times = append(times, r.at)
		}
	}
	slices.SortFunc(times, time.Time.Compare)
	return times[len(c.members)/2]
}

// index returns e's place among the members.
func (c *EtcdCluster) index(e *EtcdProcess) int {
	for i, m := range c.members {
		if m == e {
			return i
		}
	}
	return -1
}

// memberNames lists the members' names for messages.
func memberNames(ms []*EtcdProcess) string {
	var out []string
	for _, e := range ms {
		out = append(out, e.name)
	}
	return strings.Join(out, ", ")
}

// Client returns a client of every member and the config it was made
// with (for a second client alike, such as an endpoint checker's probes);
// it is closed when the test ends.
func (c *EtcdCluster) Client(t testing.TB) (*clientv3.Client, clientv3.Config) {
	t.Helper()
	cfg := clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli, cfg
}
