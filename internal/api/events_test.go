package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pink-scheduler/pink/internal/api"
	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/pinktest"
)

// sseEvent is one event as a client reads it off the wire.
type sseEvent struct {
	id, name string
	data     store.StreamEvent
	raw      string
}

func (e sseEvent) short() string {
	if e.name == "reset" || e.name == "overflow" || e.name == "error" {
		return e.name
	}
	return fmt.Sprintf("%s %s %s %s %s", e.name, e.data.Action, e.data.Job, e.data.ID, e.data.Status)
}

// stream is an open GET /api/v1/events, its events parsed as they come.
type stream struct {
	events chan sseEvent
	cancel context.CancelFunc
	status int
}

func openStream(t *testing.T, base, query, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events"+query, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{events: make(chan sseEvent, 10_000), cancel: cancel, status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		close(s.events)
		return s
	}
	go func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.name != "" {
					_ = json.Unmarshal([]byte(e.raw), &e.data)
					s.events <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.raw = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// take reads n events (failing after 10 s without one).
func (s *stream) take(t *testing.T, n int) []sseEvent {
	t.Helper()
	var out []sseEvent
	for len(out) < n {
		select {
		case e, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended after %d of %d events: %v", len(out), n, shorts(out))
			}
			out = append(out, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d events within 10 s: %v", len(out), n, shorts(out))
		}
	}
	return out
}

func shorts(es []sseEvent) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.short())
	}
	return out
}

func startEvents(t *testing.T) (*pinktest.Etcd, *api.Server, string, *pinktest.API) {
	t.Helper()
	e := pinktest.StartEtcd(t)
	srv := api.New(api.Config{Store: store.New(e.Client, ""), Now: func() time.Time { return now }})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Cleanup(srv.CloseStreams)
	return e, srv, hs.URL, pinktest.NewAPI(strings.TrimPrefix(hs.URL, "http://"))
}

// TestEvents: changes arrive as they happen, filtered, with the etcd
// revision as id; a stream resumed with Last-Event-ID misses nothing and
// repeats nothing; after a compaction it says reset; bad filters are 400s.
func TestEvents(t *testing.T) {
	e, srv, base, c := startEvents(t)
	all := openStream(t, base, "", "")
	runs := openStream(t, base, "?types=run,job&job=alpha", "")

	c.JSON(t, "POST", "/api/v1/groups", `{"name":"g1"}`, 201, nil)
	c.JSON(t, "POST", "/api/v1/jobs", `{"name":"alpha","group":"g1","schedule":"@yearly","target":"noop"}`, 201, nil)
	c.JSON(t, "POST", "/api/v1/jobs", `{"name":"beta","group":"g1","schedule":"@yearly","target":"noop"}`, 201, nil)
	var trig struct {
		SnapshotID string `json:"snapshot_id"`
	}
	c.JSON(t, "POST", "/api/v1/jobs/alpha/trigger", nil, 202, &trig)
	c.JSON(t, "DELETE", "/api/v1/snapshots/"+trig.SnapshotID, nil, 200, nil)
	run := trig.SnapshotID + ".001"

	want := []string{
		"job put alpha  ", "job put beta  ",
		"snapshot put alpha " + trig.SnapshotID + " ",
		"snapshot delete alpha " + trig.SnapshotID + " ",
		"run put alpha " + run + " canceled",
	}
	got := all.take(t, len(want))
	if strings.Join(shorts(got), "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(shorts(got), "\n"), strings.Join(want, "\n"))
	}
	if got[0].data.Group != "g1" || got[2].data.State != "pending" || got[4].data.Group != "g1" {
		t.Errorf("event details: %+v", got)
	}
	for i, ev := range got {
		later := i == 0 || ev.data.Revision > got[i-1].data.Revision || (ev.data.Revision == got[i-1].data.Revision && ev.data.Seq > got[i-1].data.Seq)
		if ev.id != fmt.Sprintf("%d.%d", ev.data.Revision, ev.data.Seq) || !later {
			t.Errorf("event %d: id %s, revision %d.%d: ids are increasing positions in etcd's history", i, ev.id, ev.data.Revision, ev.data.Seq)
		}
	}
	// The snapshot's delete and its run are one transaction: one revision.
	if got[3].data.Revision != got[4].data.Revision {
		t.Errorf("cancel: revisions %d and %d, want one", got[3].data.Revision, got[4].data.Revision)
	}
	// Resuming between the two changes of one revision misses neither.
	mid := openStream(t, base, "", got[3].id)
	if r := mid.take(t, 1)[0].short(); r != want[4] {
		t.Errorf("resumed after %s: %s, want %s", got[3].id, r, want[4])
	}
	if f := shorts(runs.take(t, 2)); strings.Join(f, ",") != "job put alpha  ,run put alpha "+run+" canceled" {
		t.Errorf("filtered to alpha's jobs and runs: %v", f)
	}

	// Resume: a stream that went away comes back after its last event
	// and sees exactly the rest.
	resumed := openStream(t, base, "", got[1].id)
	if r := shorts(resumed.take(t, 3)); strings.Join(r, ",") != strings.Join(shorts(got[2:]), ",") {
		t.Errorf("resumed after %s: %v, want %v", got[1].id, r, shorts(got[2:]))
	}
	c.JSON(t, "DELETE", "/api/v1/jobs/beta", nil, 200, nil)
	if r := resumed.take(t, 1)[0].short(); r != "job delete beta  " {
		t.Errorf("after the resume, live: %s", r)
	}

	// Compaction: a stream asking for revisions etcd compacted, on a node
	// that does not hold them (a node of its own here), gets reset, then
	// live changes.
	cur, err := e.Client.Get(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.Compact(context.Background(), cur.Header.Revision); err != nil {
		t.Fatal(err)
	}
	other := httptest.NewServer(api.New(api.Config{Store: store.New(e.Client, ""), Now: func() time.Time { return now }}))
	t.Cleanup(other.Close)
	old := openStream(t, other.URL, "", got[0].id)
	if r := old.take(t, 1)[0]; r.name != "reset" || !strings.Contains(r.raw, `"compact_revision"`) {
		t.Errorf("a compacted revision: %s %s, want reset", r.name, r.raw)
	}
	c.JSON(t, "POST", "/api/v1/jobs/alpha/pause", nil, 200, nil)
	if r := old.take(t, 1)[0].short(); r != "job put alpha  " {
		t.Errorf("after the reset: %s", r)
	}

	for _, q := range []string{"?types=jobs", "?job=Bad%20Name", "?last_event_id=-1", "?last_event_id=x", "?last_event_id=5.x"} {
		if s := openStream(t, base, q, ""); s.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, s.status)
		}
	}

	// Shutdown ends every stream.
	srv.CloseStreams()
	select {
	case _, ok := <-all.events:
		for ok {
			_, ok = <-all.events
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a stream outlived CloseStreams")
	}
	if s := openStream(t, base, "", ""); s.status != http.StatusServiceUnavailable {
		t.Errorf("a stream after CloseStreams: %d, want 503", s.status)
	}
}

// TestEventStreamsAreCapped: past api.MaxStreams open streams, a node
// answers 503 too_many_streams; a stream that ends frees its place.
func TestEventStreamsAreCapped(t *testing.T) {
	_, _, base, _ := startEvents(t)
	var open []*stream
	for range api.MaxStreams {
		s := openStream(t, base, "?types=leader", "")
		if s.status != http.StatusOK {
			t.Fatalf("stream %d: %d", len(open)+1, s.status)
		}
		open = append(open, s)
	}
	if s := openStream(t, base, "", ""); s.status != http.StatusServiceUnavailable {
		t.Fatalf("stream %d: %d, want 503", api.MaxStreams+1, s.status)
	}
	open[0].cancel()
	pinktest.Eventually(t, 10*time.Second, func() (bool, string) {
		s := openStream(t, base, "", "")
		s.cancel()
		return s.status == http.StatusOK, fmt.Sprintf("status %d", s.status)
	})
}
