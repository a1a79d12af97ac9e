package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// observer watches the cluster's snapshot keys in etcd and notes when each
// snapshot first became visible, pending and on each client: the honest
// moment a fire and a dispatch happened, not when the scheduler meant them
// to.
type observer struct {
	mu sync.Mutex
	// first is when a snapshot id first appeared anywhere.
	first map[string]time.Time
	// assigned is when a snapshot id appeared on a client, by
	// "client/id".
	assigned map[string]time.Time
	// broken says why a watch ended before ctx did (it fell behind a
	// compaction): the lags it would have seen are missing.
	broken error
}

// err reports a watch that ended early.
func (o *observer) err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.broken
}

// observe watches root's pending and assignment keys from rev until ctx
// ends; it returns once both watches are established.
func observe(ctx context.Context, cli *clientv3.Client, root string, rev int64) *observer {
	o := &observer{first: map[string]time.Time{}, assigned: map[string]time.Time{}}
	var ready sync.WaitGroup
	for _, prefix := range []string{root + "/schedule/snapshots/", root + "/execute/snapshots/"} {
		ready.Add(1)
		wch := cli.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithRev(rev),
			clientv3.WithFilterDelete(), clientv3.WithCreatedNotify())
		assignments := strings.HasSuffix(prefix, "/execute/snapshots/")
		go func() {
			first := true
			for resp := range wch {
				if first {
					ready.Done()
					first = false
				}
				now := time.Now()
				o.mu.Lock()
				if err := resp.Err(); err != nil && ctx.Err() == nil {
					o.broken = fmt.Errorf("observing %s: %w", prefix, err)
				}
				for _, ev := range resp.Events {
					if !ev.IsCreate() {
						continue
					}
					rest := strings.TrimPrefix(string(ev.Kv.Key), prefix)
					id := rest[strings.LastIndexByte(rest, '/')+1:]
					if _, ok := o.first[id]; !ok {
						o.first[id] = now
					}
					if assignments {
						// rest is group/client/id.
						if _, clientID, ok := strings.Cut(rest, "/"); ok {
							if _, seen := o.assigned[clientID]; !seen {
								o.assigned[clientID] = now
							}
						}
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

// seen returns when snapshot id first appeared anywhere and when it
// appeared on client; zero times when never.
func (o *observer) seen(id, client string) (fired, dispatched time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.first[id], o.assigned[client+"/"+id]
}
