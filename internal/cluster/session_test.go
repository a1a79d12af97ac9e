package cluster_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/cluster"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// TestSession checks the session's two ends: Done closes when etcd no
// longer knows the lease (revoked behind its back), and Close revokes it,
// so that the keys it holds go at once.
func TestSession(t *testing.T) {
	e := pinktest.StartEtcd(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	ttl := func(id clientv3.LeaseID) int64 {
		t.Helper()
		resp, err := e.Client.TimeToLive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return resp.TTL
	}

	t.Run("lease gone ends it", func(t *testing.T) {
		s, err := cluster.NewSession(ctx, log, e.Client, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := ttl(s.Lease()); got < 1 || got > 3 {
			t.Fatalf("lease TTL %d s, want ≤3 s and alive", got)
		}
		if _, err := e.Client.Revoke(ctx, s.Lease()); err != nil {
			t.Fatal(err)
		}
		// The next keepalive, a third of the TTL on, finds it gone.
		select {
		case <-s.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("session still open 10 s after its lease was revoked")
		}
	})

	t.Run("close revokes", func(t *testing.T) {
		s, err := cluster.NewSession(ctx, log, e.Client, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Client.Put(ctx, "/session-test", "x", clientv3.WithLease(s.Lease())); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Done():
		default:
			t.Fatal("Done not closed after Close")
		}
		if got := ttl(s.Lease()); got != -1 {
			t.Errorf("lease TTL %d after Close, want -1 (revoked)", got)
		}
		resp, err := e.Client.Get(ctx, "/session-test")
		if err != nil || len(resp.Kvs) != 0 {
			t.Errorf("the session's key outlived Close: %v %v", resp.Kvs, err)
		}
	})

	t.Run("campaigns with its lease", func(t *testing.T) {
		s, err := cluster.NewSession(ctx, log, e.Client, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		el, err := s.Election("/session-test-election")
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := el.Campaign(cctx, "me"); err != nil {
			t.Fatal(err)
		}
		resp, err := e.Client.Get(ctx, el.Key())
		if err != nil || len(resp.Kvs) != 1 || clientv3.LeaseID(resp.Kvs[0].Lease) != s.Lease() {
			t.Fatalf("election key %v (%v), want one bound to lease %x", resp, err, s.Lease())
		}
	})
}
