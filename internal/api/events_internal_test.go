package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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
