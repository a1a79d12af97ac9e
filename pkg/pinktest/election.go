package pinktest

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Campaign wins the election under prefix (a store's ElectionPrefix) for
// id with a fresh session, as a scheduler node does, so that a test can
// make the fenced writes only the leader makes. key and rev are the fence.
// The session ends with the test; revoke its lease to depose the test.
func Campaign(t testing.TB, cli *clientv3.Client, prefix, id string) (sess *concurrency.Session, key string, rev int64) {
	t.Helper()
	sess, err := concurrency.NewSession(cli, concurrency.WithTTL(30))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	el := concurrency.NewElection(sess, prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := el.Campaign(ctx, id); err != nil {
		t.Fatal(err)
	}
	return sess, el.Key(), el.Rev()
}
