// Package etcdspace watches the space etcd uses, for every endpoint a pink
// process talks to: database size, the part in use, the quota and the
// alarms, read from etcd's own status API so it works on any etcd, not
// only pink dev's embedded one. It exports them as metrics, tells when
// etcd runs out of space (NOSPACE: every write refused) and when it has
// recovered, and defragments pink dev's embedded etcd when compaction has
// left enough free pages to be worth giving back.
package etcdspace

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/telemetry"
)

// Every is how often a Monitor reads etcd's status.
const Every = 15 * time.Second

// Endpoint is one endpoint's last status read.
type Endpoint struct {
	URL string
	// Size is the database file; InUse the bytes in use (the rest is free
	// pages); Quota the backend quota, past which etcd raises NOSPACE.
	Size, InUse, Quota int64
	// Err is why the read failed; the sizes are then zero.
	Err error
}

// Status is what a Monitor last saw.
type Status struct {
	Endpoints []Endpoint
	// NoSpace is true while etcd's NOSPACE alarm is raised on any member.
	NoSpace bool
	// Alarms are the raised alarms, by type ("NOSPACE", "CORRUPT").
	Alarms map[string]bool
	At     time.Time
}

// Monitor reads etcd's status every Every (and on Poll).
type Monitor struct {
	cli       *clientv3.Client
	endpoints []string
	metrics   *telemetry.EtcdSpace
	log       *slog.Logger
	last      atomic.Pointer[Status]
	// hooks are called with each new status (the embedded etcd's
	// defragmentation, a benchmark's samples); set before Run.
	hooks []func(context.Context, Status)
}

// OnStatus makes m call f with each status it reads, in Run's goroutine.
// Call it before Run.
func (m *Monitor) OnStatus(f func(context.Context, Status)) { m.hooks = append(m.hooks, f) }

// NewMonitor returns a monitor of the endpoints cli uses.
func NewMonitor(cli *clientv3.Client, metrics *telemetry.EtcdSpace, log *slog.Logger) *Monitor {
	return &Monitor{cli: cli, endpoints: cli.Endpoints(), metrics: metrics, log: log}
}

// Last returns the last status read, or nil before the first.
func (m *Monitor) Last() *Status { return m.last.Load() }

// HalfFull reports whether, at the last read, any endpoint's database held
// at least half its quota in use.
func (m *Monitor) HalfFull() bool {
	st := m.last.Load()
	if st == nil {
		return false
	}
	for _, e := range st.Endpoints {
		if e.Err == nil && e.Quota > 0 && 2*e.InUse >= e.Quota {
			return true
		}
	}
	return false
}

// Run polls until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	t := time.NewTicker(Every)
	defer t.Stop()
	for {
		m.Poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll reads every endpoint's status and the alarms now, exports them, and
// logs a change of the NOSPACE alarm: at ERROR when it is raised (pink
// cannot fire until space is freed), at INFO when it is cleared.
func (m *Monitor) Poll(ctx context.Context) Status {
	st := Status{At: time.Now(), Alarms: map[string]bool{}}
	for _, ep := range m.endpoints {
		st.Endpoints = append(st.Endpoints, m.readEndpoint(ctx, ep))
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	alarms, err := m.cli.AlarmList(actx)
	cancel()
	prev := m.last.Load()
	switch {
	case err != nil && prev != nil:
		// Keep what was known: a failed read is not a cleared alarm.
		st.Alarms, st.NoSpace = prev.Alarms, prev.NoSpace
	case err == nil:
		for _, a := range alarms.Alarms {
			if a.Alarm != pb.AlarmType_NONE {
				st.Alarms[a.Alarm.String()] = true
			}
		}
		st.NoSpace = st.Alarms[pb.AlarmType_NOSPACE.String()]
	}
	m.metrics.Alarms(st.Alarms)
	m.last.Store(&st)
	wasNoSpace := prev != nil && prev.NoSpace
	switch {
	case st.NoSpace && !wasNoSpace:
		m.log.Error("etcd is out of space: its NOSPACE alarm is raised and every write is refused, so no job fires until space is freed; see the PinkEtcdNoSpace runbook",
			"endpoints", describe(st.Endpoints))
	case !st.NoSpace && wasNoSpace:
		m.log.Info("etcd's NOSPACE alarm is cleared: writes are accepted again", "endpoints", describe(st.Endpoints))
	}
	for _, h := range m.hooks {
		h(ctx, st)
	}
	return st
}

func (m *Monitor) readEndpoint(ctx context.Context, url string) Endpoint {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := m.cli.Status(ctx, url)
	if err != nil {
		m.metrics.EndpointStatus(url, false, 0, 0, 0)
		return Endpoint{URL: url, Err: fmt.Errorf("etcd status of %s: %w", url, err)}
	}
	m.metrics.EndpointStatus(url, true, resp.DbSize, resp.DbSizeInUse, resp.DbSizeQuota)
	return Endpoint{URL: url, Size: resp.DbSize, InUse: resp.DbSizeInUse, Quota: resp.DbSizeQuota}
}

// describe is the endpoints' sizes for a log line.
func describe(eps []Endpoint) []string {
	out := make([]string, 0, len(eps))
	for _, e := range eps {
		if e.Err != nil {
			out = append(out, e.URL+": unreadable")
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s of %s in use, quota %s", e.URL, mib(e.InUse), mib(e.Size), mib(e.Quota)))
	}
	return out
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
