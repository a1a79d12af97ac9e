package worker_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/pkg/worker"
)

func sendInvoices(context.Context, time.Time) error { return nil }

// A worker of group billing that sends invoices whenever a job with target
// send-invoices fires, until the process is interrupted. This is the
// README's example (TestReadmeExample keeps the two the same).
func Example() {
	etcdClient, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://127.0.0.1:2379"}})
	if err != nil {
		log.Fatal(err)
	}
	defer etcdClient.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// README start
	w := worker.New(worker.Config{Client: etcdClient, Group: "billing", Registerer: prometheus.DefaultRegisterer})
	w.Handle("send-invoices", func(ctx context.Context, r worker.Run) (string, error) {
		return "", sendInvoices(ctx, r.ScheduledAt) // r.SnapshotID is an idempotency key
	})
	err = w.Run(ctx) // registers, runs what it is given, drains on cancel
	// README end
	if err != nil {
		log.Fatal(err)
	}
}
