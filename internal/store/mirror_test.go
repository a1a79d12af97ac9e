package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) fn(evs []store.RawEvent, synced bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		if ev.Deleted {
			r.events = append(r.events, "del "+ev.Key)
		} else {
			r.events = append(r.events, fmt.Sprintf("put %s=%s", ev.Key, ev.Value))
		}
	}
	if synced {
		r.events = append(r.events, "synced")
	}
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) waitFor(t *testing.T, want []string) {
	t.Helper()
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := r.get()
		return slices.Equal(got, want), fmt.Sprintf("events %q, want %q", got, want)
	})
}

// TestMirrorRelistsAfterCompaction: a watch whose resume revision was
// compacted away re-lists and delivers exactly the difference.
func TestMirrorRelistsAfterCompaction(t *testing.T) {
	e := pinktest.StartEtcd(t)
	st := store.New(e.Client, "/pink")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	put := func(k, v string) int64 {
		resp, err := e.Client.Put(ctx, k, v)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	put("/x/a", "1")
	put("/x/b", "1")
	put("/y/ignored", "1")
	r := &recorder{}
	m := store.NewTestMirror(st, "/x/", r.fn)
	if err := m.List(ctx); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, []string{"put /x/a=1", "put /x/b=1", "synced"})

	// While nobody watches: change, delete, add; then compact it all away.
	put("/x/b", "2")
	if _, err := e.Client.Delete(ctx, "/x/a"); err != nil {
		t.Fatal(err)
	}
	last := put("/x/c", "1")
	if _, err := e.Client.Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	r.waitFor(t, []string{"put /x/a=1", "put /x/b=1", "synced", "put /x/b=2", "put /x/c=1", "del /x/a", "synced"})

	// And it keeps watching after the re-list.
	put("/x/d", "1")
	r.waitFor(t, []string{"put /x/a=1", "put /x/b=1", "synced", "put /x/b=2", "put /x/c=1", "del /x/a", "synced", "put /x/d=1"})
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("run returned %v, want context.Canceled", err)
	}
}

// TestMirrorSurvivesEtcdRestart: when etcd goes away and comes back, the
// watch resumes from its last revision: no re-list, nothing lost.
func TestMirrorSurvivesEtcdRestart(t *testing.T) {
	dir := t.TempDir()
	addr := pinktest.FreeAddr(t)
	e := pinktest.StartEtcdAt(t, dir, addr)
	client := pinktest.StartEtcdClient(t, e.Endpoints)
	st := store.New(client, "/pink")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := client.Put(ctx, "/x/a", "1"); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	done := make(chan error, 1)
	go func() { done <- st.Mirror(ctx, "/x/", r.fn) }()
	r.waitFor(t, []string{"put /x/a=1", "synced"})

	// Close waits up to etcd's request timeout (7s) for the open watch
	// stream before it cuts it.
	e.Close()
	e2 := pinktest.StartEtcdAt(t, dir, addr)
	if _, err := e2.Client.Put(ctx, "/x/b", "1"); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, []string{"put /x/a=1", "synced", "put /x/b=1"})
	cancel()
	<-done
}
