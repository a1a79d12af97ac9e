package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// etcdCounts are an etcd cluster's write counters.
type etcdCounts struct {
	// requests is write requests applied: Put, Txn, DeleteRange.
	requests float64
	// keys is keys written: puts and deletes, inside transactions too.
	keys float64
}

// etcdWrites reads the write counters of the etcd servers from their own
// /metrics.
func etcdWrites(ctx context.Context, endpoints []string) (etcdCounts, error) {
	var c etcdCounts
	for _, ep := range endpoints {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(ep, "/")+"/metrics", nil)
		if err != nil {
			return c, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return c, fmt.Errorf("etcd metrics: %w", err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			return c, fmt.Errorf("etcd metrics: %w", err)
		}
		f := families["etcd_server_apply_duration_seconds"]
		if f == nil {
			return c, fmt.Errorf("etcd %s exports no etcd_server_apply_duration_seconds", ep)
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && (l.GetValue() == "Put" || l.GetValue() == "Txn" || l.GetValue() == "DeleteRange") {
					c.requests += float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		for _, name := range []string{"etcd_mvcc_put_total", "etcd_mvcc_delete_total"} {
			f := families[name]
			if f == nil {
				return c, fmt.Errorf("etcd %s exports no %s", ep, name)
			}
			for _, m := range f.GetMetric() {
				c.keys += m.GetCounter().GetValue()
			}
		}
		if len(endpoints) > 1 {
			// Every member applies every write: one member's count is the
			// cluster's.
			break
		}
	}
	return c, nil
}

// baseline measures what etcd itself sustains for the kind of write pink
// makes: transactions fenced by an election key that put values of
// valueBytes (a snapshot's size; putsPerTxn of them), from goroutines of one
// client at once. It returns transactions per second.
func baseline(ctx context.Context, endpoints []string, root string, goroutines, putsPerTxn, valueBytes int, d time.Duration) (float64, error) {
	cli, err := newClient(endpoints)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	sess, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	fenceKey := root + "/baseline/fence"
	put, err := cli.Put(ctx, fenceKey, "x", clientv3.WithLease(sess.Lease()))
	if err != nil {
		return 0, err
	}
	fenceRev := put.Header.Revision
	value := strings.Repeat("v", valueBytes)
	var n atomic.Int64
	bctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; bctx.Err() == nil; i++ {
				ops := make([]clientv3.Op, putsPerTxn)
				for j := range ops {
					ops[j] = clientv3.OpPut(fmt.Sprintf("%s/baseline/%d/%d/%d", root, g, i, j), value)
				}
				_, err := cli.Txn(bctx).If(clientv3.Compare(clientv3.CreateRevision(fenceKey), "=", fenceRev)).
					Then(ops...).Commit()
				if err == nil {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	rate := float64(n.Load()) / time.Since(start).Seconds()
	_, _ = cli.Delete(context.WithoutCancel(ctx), root+"/baseline/", clientv3.WithPrefix())
	return rate, nil
}
