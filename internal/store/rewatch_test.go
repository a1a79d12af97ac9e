package store_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pink-scheduler/pink/internal/etcdhealth"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/internal/telemetry"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestMirrorLeavesAFrozenMember freezes each member of a real 3-member etcd
// in turn, whichever the mirror's watch is on: a change written through
// the others reaches the mirror while the member is frozen, because the
// endpoint checker takes it out and the watch reopens elsewhere.
func TestMirrorLeavesAFrozenMember(t *testing.T) {
	etcd := pinktest.StartEtcdCluster(t, 3)
	cli, cfg := etcd.Client(t)
	reg := prometheus.NewRegistry()
	chk, stop, err := etcdhealth.Start(slog.New(slog.DiscardHandler), cli, cfg, "/probe", telemetry.NewEtcdEndpoints(reg))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	st := store.New(cli, "", store.WithEndpointChanges(chk.Changed))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	var mu sync.Mutex
	seen := map[string]bool{}
	wg.Go(func() {
		_ = st.Mirror(ctx, "/rw/", func(evs []store.RawEvent, _ bool) {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range evs {
				seen[ev.Key] = true
			}
		})
	})

	for _, frozen := range etcd.Members() {
		var others []string
		for _, m := range etcd.Members() {
			if m != frozen {
				others = append(others, m.Endpoints[0])
			}
		}
		w := pinktest.StartEtcdClient(t, others)
		frozen.Pause()
		key := "/rw/" + frozen.Name()
		pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
			pctx, pcancel := context.WithTimeout(ctx, time.Second)
			defer pcancel()
			_, err := w.Put(pctx, key, "x")
			return err == nil, "put with a member frozen: " + errString(err)
		})
		written := time.Now()
		pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
			mu.Lock()
			defer mu.Unlock()
			return seen[key], "the mirror has not seen " + key + " written with " + frozen.Name() + " frozen"
		})
		t.Logf("%s frozen: the mirror saw the change %v after it was written", frozen.Name(), time.Since(written).Round(time.Millisecond))
		// Resume only once the checker has left it, and freeze the next
		// one only once it is back.
		healthy := func(want float64) func() (bool, string) {
			return func() (bool, string) {
				v := pinktest.Metric(t, reg, "pink_etcd_endpoint_healthy", map[string]string{"endpoint": frozen.Endpoints[0]})
				return v == want, frozen.Name() + " not reported as it should be"
			}
		}
		pinktest.Eventually(t, 10*time.Second, healthy(0))
		frozen.Resume()
		pinktest.Eventually(t, 10*time.Second, healthy(1))
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
