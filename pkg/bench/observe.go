package bench

import (
	"context"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// observer watches the cluster's snapshot keys in etcd and notes when each
// snapshot first became visible pending and assigned: the honest moment a
// fire and a dispatch happened, not when the scheduler meant them to.
type observer struct {
	mu       sync.Mutex
	pending  map[string]time.Time
	assigned map[string]time.Time
}

// observe watches root's pending and assignment keys from rev until ctx
// ends; it returns once both watches are established.
func observe(ctx context.Context, cli *clientv3.Client, root string, rev int64) *observer {
	o := &observer{pending: map[string]time.Time{}, assigned: map[string]time.Time{}}
	var ready sync.WaitGroup
	for _, w := range []struct {
		prefix string
		seen   map[string]time.Time
	}{{root + "/schedule/snapshots/", o.pending}, {root + "/execute/snapshots/", o.assigned}} {
		ready.Add(1)
		wch := cli.Watch(clientv3.WithRequireLeader(ctx), w.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev),
			clientv3.WithFilterDelete(), clientv3.WithCreatedNotify())
		go func() {
			first := true
			for resp := range wch {
				if first {
					ready.Done()
					first = false
				}
				now := time.Now()
				o.mu.Lock()
				for _, ev := range resp.Events {
					if !ev.IsCreate() {
						continue
					}
					k := string(ev.Kv.Key)
					id := k[strings.LastIndexByte(k, '/')+1:]
					if _, ok := w.seen[id]; !ok {
						w.seen[id] = now
					}
				}
				o.mu.Unlock()
			}
			if first {
				ready.Done()
			}
		}()
	}
	ready.Wait()
	return o
}

// seen returns when snapshot id was first seen pending or assigned, and
// when assigned; zero times when never.
func (o *observer) seen(id string) (fired, dispatched time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, a := o.pending[id], o.assigned[id]
	fired = p
	if fired.IsZero() || (!a.IsZero() && a.Before(fired)) {
		fired = a
	}
	return fired, a
}
