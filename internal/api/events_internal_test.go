package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// slowWriter is a client that reads an event every 20 ms.
type slowWriter struct {
	mu  sync.Mutex
	buf strings.Builder
	h   http.Header
}

func (w *slowWriter) Header() http.Header { return w.h }
func (w *slowWriter) WriteHeader(int)     {}
func (w *slowWriter) Flush()              {}
func (w *slowWriter) Write(b []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// TestSlowStreamIsDropped: a client that falls more than streamBuffer
// events behind is dropped with an overflow event, not buffered for.
func TestSlowStreamIsDropped(t *testing.T) {
	e := pinktest.StartEtcd(t)
	s := New(Config{Store: store.New(e.Client, "")})
	rev, err := s.st.CurrentRevision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w := &slowWriter{h: http.Header{}}
	done := make(chan string, 1)
	go func() {
		done <- s.stream(context.Background(), &sse{w: w, rc: http.NewResponseController(w)}, streamFilter{}, store.AfterRevision(rev))
	}()
	// Three times the buffer of job changes, as fast as etcd takes them.
	for batch := range 3 * streamBuffer / 100 {
		var ops []clientv3.Op
		for i := range 100 {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("/pink/job/conf/j-%d-%d", batch, i), `{"group":"g"}`))
		}
		if _, err := e.Client.Txn(context.Background()).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case reason := <-done:
		if reason != "slow" {
			t.Fatalf("the stream ended as %q, want slow", reason)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a client 3,000 events behind is still served")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !strings.HasSuffix(w.buf.String(), "event: overflow\ndata: {\"message\":\"the stream fell behind; reconnect with Last-Event-ID to resume\"}\n\n") {
		t.Errorf("the stream does not end with an overflow event: ...%s", w.buf.String()[max(0, w.buf.Len()-300):])
	}
}

// watchers is etcd's count of open watchers (its embedded server's
// metric, process-wide).
func watchers(t *testing.T) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "etcd_debugging_mvcc_watcher_total" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("etcd exports no etcd_debugging_mvcc_watcher_total")
	return 0
}

// TestStreamsShareOneWatch: many streams from now hold one etcd watch (the
// hub's), and each still gets every change it asked for.
func TestStreamsShareOneWatch(t *testing.T) {
	e := pinktest.StartEtcd(t)
	s := New(Config{Store: store.New(e.Client, "")})
	t.Cleanup(s.CloseStreams)
	before := watchers(t)
	rev, err := s.st.CurrentRevision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var subs []*hubSub
	for range 20 {
		sub, ok := s.hub.subscribe(streamFilter{kinds: []string{store.StreamJob}}, store.AfterRevision(rev))
		if !ok {
			t.Fatal("the hub refused a stream from now")
		}
		subs = append(subs, sub)
	}
	if _, err := e.Client.Put(context.Background(), "/pink/job/conf/x", `{"group":"g"}`); err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		select {
		case ev := <-sub.events:
			if ev.Job != "x" || ev.Group != "g" {
				t.Errorf("stream %d got %+v", i, ev)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("stream %d got nothing", i)
		}
	}
	if got := watchers(t) - before; got != 1 {
		t.Errorf("20 streams hold %v etcd watchers, want 1", got)
	}
	for _, sub := range subs {
		s.hub.unsubscribe(sub)
		if err := <-sub.errc; err != nil {
			t.Errorf("unsubscribe: %v", err)
		}
	}
}
