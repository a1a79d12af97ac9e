package scheduler_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/job"
	"github.com/pink-scheduler/pink/pkg/pinktest"
	"github.com/pink-scheduler/pink/pkg/worker"
)

// TestLeaderStopsWhenSessionEnds: a leader whose session ends (its lease
// revoked, as after a partition longer than the TTL) stops leading without
// being told, campaigns again with a new session, and the job's runs go on
// with no nominal second missing or doubled.
func TestLeaderStopsWhenSessionEnds(t *testing.T) {
	c := pinktest.NewCluster(t)
	e := c.Etcd
	st := store.New(e.Client, "")
	ctx := context.Background()
	s := c.StartScheduler(t, "n1")
	rec := &recorder{}
	c.StartWorker(t, "g", map[string]worker.Handler{"record": rec.handle})
	c.CreateJob(t, job.Spec{Name: "tick", Group: "g", Schedule: "* * * * * *", Target: "record", Misfire: job.MisfireRunAll})
	waitHistory(t, c, "tick", 2)

	// The leader's lease is the last segment of its election key.
	resp, err := e.Client.Get(ctx, st.ElectionPrefix()+"/", clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("election keys: %v %v", resp, err)
	}
	key := string(resp.Kvs[0].Key)
	lease, err := strconv.ParseInt(key[strings.LastIndexByte(key, '/')+1:], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.Revoke(ctx, clientv3.LeaseID(lease)); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	pinktest.Eventually(t, 5*time.Second, func() (bool, string) {
		return !s.IsLeader(), "still leading after its session's lease was revoked"
	})
	stoppedAfter := time.Since(revoked)
	// It leads again under a new session and makes up what it missed.
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		resp, err := e.Client.Get(ctx, st.ElectionPrefix()+"/", clientv3.WithPrefix())
		return err == nil && len(resp.Kvs) == 1 && string(resp.Kvs[0].Key) != key && s.IsLeader(), fmt.Sprintf("no new term yet: %v", err)
	})
	resumed := time.Now()
	pinktest.Eventually(t, 20*time.Second, func() (bool, string) {
		runs := c.Runs(t, "tick")
		return len(runs) > 0 && runs[0].ScheduledAt.After(resumed.Add(time.Second)), "no run after the new term yet"
	})
	checkConsecutive(t, c.Runs(t, "tick"))
	t.Logf("stopped leading %s after the revoke", stoppedAfter.Round(time.Millisecond))
}
