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

// etcdWrites reads how many write requests (Put, Txn, DeleteRange) the etcd
// servers have applied, from their own /metrics.
func etcdWrites(ctx context.Context, endpoints []string) (float64, error) {
	total := 0.0
	for _, ep := range endpoints {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(ep, "/")+"/metrics", nil)
		if err != nil {
			return 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("etcd metrics: %w", err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, fmt.Errorf("etcd metrics: %w", err)
		}
		f := families["etcd_server_apply_duration_seconds"]
		if f == nil {
			return 0, fmt.Errorf("etcd %s exports no etcd_server_apply_duration_seconds", ep)
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && (l.GetValue() == "Put" || l.GetValue() == "Txn" || l.GetValue() == "DeleteRange") {
					total += float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		if len(endpoints) > 1 {
			// Every member applies every write: one member's count is the
			// cluster's.
			break
		}
	}
	return total, nil
}

// baseline measures what etcd itself sustains for the kind of write pink
// makes most: a transaction fenced by an election key that puts two values
// of a snapshot's size, from concurrency clients' goroutines at once.
func baseline(ctx context.Context, endpoints []string, root string, workers int, d time.Duration) (float64, error) {
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
	value := strings.Repeat("v", 600)
	var n atomic.Int64
	bctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; bctx.Err() == nil; i++ {
				k := fmt.Sprintf("%s/baseline/%d/%d", root, g, i)
				_, err := cli.Txn(bctx).If(clientv3.Compare(clientv3.CreateRevision(fenceKey), "=", fenceRev)).
					Then(clientv3.OpPut(k+"/a", value), clientv3.OpPut(k+"/b", value)).Commit()
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
