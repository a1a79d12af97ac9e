package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
)

// Limits of GET /api/v1/events.
const (
	// MaxStreams bounds the open event streams of one node: each holds an
	// etcd watch.
	MaxStreams = 100
	// streamBuffer bounds the events waiting for one slow client; past it
	// the client is dropped (it resumes with Last-Event-ID, losing nothing
	// etcd still has).
	streamBuffer = 1024
	// heartbeatEvery keeps proxies from closing an idle stream and lets a
	// client notice a dead one.
	heartbeatEvery = 15 * time.Second
	// streamWriteTimeout drops a client that does not read.
	streamWriteTimeout = 10 * time.Second
)

// errSlowClient ends the watch of a stream whose buffer is full.
var errSlowClient = errors.New("the client does not keep up")

// streams counts and ends the open event streams of a server.
type streams struct {
	mu     sync.Mutex
	open   int
	closed bool
	done   chan struct{} // closed by close: every stream ends
	// ctx ends with close too: the shared watch's context.
	ctx    context.Context
	cancel context.CancelFunc
}

func newStreams() *streams {
	st := &streams{done: make(chan struct{})}
	st.ctx, st.cancel = context.WithCancel(context.Background())
	return st
}

func (st *streams) acquire() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed || st.open >= MaxStreams {
		return false
	}
	st.open++
	return true
}

func (st *streams) release() {
	st.mu.Lock()
	st.open--
	st.mu.Unlock()
}

func (st *streams) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.closed {
		st.closed = true
		close(st.done)
		st.cancel()
	}
}

// CloseStreams ends every event stream and refuses new ones; the node
// calls it when its HTTP server shuts down (which waits for open requests,
// and a stream never ends by itself).
func (s *Server) CloseStreams() { s.streams.close() }

// streamFilter is what a client asked to see.
type streamFilter struct {
	job, group string
	kinds      []string // empty: every kind
}

func (f streamFilter) keeps(e store.StreamEvent) bool {
	return (f.job == "" || e.Job == f.job) && (f.group == "" || e.Group == f.group) &&
		(len(f.kinds) == 0 || slices.Contains(f.kinds, e.Kind))
}

// streamQuery reads the filters and where to resume: Last-Event-ID (what
// EventSource sends when it reconnects) or ?last_event_id=.
func streamQuery(r *http.Request) (f streamFilter, after *store.StreamPosition, err error) {
	if f.job, err = queryName(r, "job"); err != nil {
		return f, nil, err
	}
	if f.group, err = queryName(r, "group"); err != nil {
		return f, nil, err
	}
	if v := r.URL.Query().Get("types"); v != "" {
		for _, k := range strings.Split(v, ",") {
			if !slices.Contains(store.StreamKinds, k) {
				return f, nil, badParam("types", "types is a comma-separated list of "+strings.Join(store.StreamKinds, ", "))
			}
			f.kinds = append(f.kinds, k)
		}
	}
	last := r.Header.Get("Last-Event-ID")
	if q := r.URL.Query().Get("last_event_id"); q != "" {
		last = q
	}
	if last == "" {
		return f, nil, nil
	}
	pos, ok := parseEventID(last)
	if !ok {
		return f, nil, badParam("last_event_id", "Last-Event-ID must be the id of an event of this stream: REVISION.SEQ (or an etcd revision)")
	}
	return f, &pos, nil
}

// parseEventID reads an event id, "<revision>.<seq>", or a bare revision
// (after all of its changes).
func parseEventID(id string) (store.StreamPosition, bool) {
	revText, seqText, hasSeq := strings.Cut(id, ".")
	rev, err := strconv.ParseInt(revText, 10, 64)
	if err != nil || rev < 0 {
		return store.StreamPosition{}, false
	}
	if !hasSeq {
		return store.AfterRevision(rev), true
	}
	seq, err := strconv.Atoi(seqText)
	if err != nil || seq < 0 {
		return store.StreamPosition{}, false
	}
	return store.StreamPosition{Rev: rev, Seq: seq}, true
}

// streamEvents is GET /api/v1/events: Server-Sent Events of the changes
// people watch, from the node's shared etcd watch (or, for a resume older
// than its ring, a watch of the stream's own), so that a client resuming
// with Last-Event-ID misses nothing etcd still holds.
// Each event's id is its etcd revision. When etcd has compacted the
// revisions asked for, the stream sends a reset event (read the state
// again) and goes on from now.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	f, after, err := streamQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.streams.acquire() {
		s.streamEnded("refused", false)
		s.writeError(w, r, errorf(http.StatusServiceUnavailable, "too_many_streams",
			fmt.Sprintf("this node serves at most %d event streams; retry, or ask another node", MaxStreams)))
		return
	}
	defer s.streams.release()
	if after == nil {
		// From now: every change made after the answer starts.
		rev, err := s.st.CurrentRevision(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		pos := store.AfterRevision(rev)
		after = &pos
	}
	if s.requests != nil {
		s.requests.StreamOpened()
	}
	out := &sse{w: w, rc: http.NewResponseController(w)}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if err := out.comment("pink event stream"); err != nil {
		s.streamEnded("client", true)
		return
	}
	s.streamEnded(s.stream(r.Context(), out, f, *after), true)
}

// stream writes events until the client goes, the server shuts down, or
// etcd fails; it returns why it ended.
func (s *Server) stream(ctx context.Context, out *sse, f streamFilter, after store.StreamPosition) string {
	heartbeat := time.NewTicker(heartbeatEvery)
	defer heartbeat.Stop()
	for {
		events, errc, stop := s.source(ctx, f, after)
		reason, compacted := s.pump(ctx, out, events, errc, heartbeat, &after)
		stop()
		<-errc // the source is done before the stream moves on
		if compacted == nil {
			return reason
		}
		// Reset: from now on, now being before the client hears of it,
		// so that nothing it does once it has is missed.
		rev, err := s.st.CurrentRevision(ctx)
		if err != nil {
			_ = out.named("error", map[string]any{"message": "etcd did not answer; reconnect to resume"})
			return "etcd"
		}
		after = store.AfterRevision(rev)
		if out.named("reset", map[string]any{"message": "etcd no longer holds the revisions asked for: read the state again",
			"compact_revision": compacted.Revision}) != nil {
			return "client"
		}
	}
}

// source delivers the changes after position after that f keeps, on
// events, and then one error on errc (nil once stop is called): from the
// node's shared watch when its ring reaches back to after, else from a
// watch of the stream's own.
func (s *Server) source(ctx context.Context, f streamFilter, after store.StreamPosition) (<-chan store.StreamEvent, chan error, func()) {
	if sub, ok := s.hub.subscribe(f, after); ok {
		return sub.events, sub.errc, func() { s.hub.unsubscribe(sub) }
	}
	events := make(chan store.StreamEvent, streamBuffer)
	wctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		errc <- s.st.Stream(wctx, after, func(e store.StreamEvent) error {
			if !f.keeps(e) {
				return nil
			}
			select {
			case events <- e:
				return nil
			default:
				return errSlowClient
			}
		})
	}()
	return events, errc, cancel
}

// pump writes the events of one source; compacted reports that the watch
// ended because etcd compacted (the caller resets the stream).
func (s *Server) pump(ctx context.Context, out *sse, events <-chan store.StreamEvent, errc chan error,
	heartbeat *time.Ticker, after *store.StreamPosition) (reason string, compacted *store.CompactedError) {
	for {
		select {
		case e := <-events:
			if err := out.event(e); err != nil {
				return "client", nil
			}
			*after = store.StreamPosition{Rev: e.Revision, Seq: e.Seq}
		case err := <-errc:
			errc <- err // for the caller's wait
			if errors.Is(err, errSlowClient) {
				_ = out.named("overflow", map[string]any{"message": "the stream fell behind; reconnect with Last-Event-ID to resume"})
				return "slow", nil
			}
			// Deliver what the watch passed on before it ended.
			for len(events) > 0 {
				e := <-events
				if out.event(e) != nil {
					return "client", nil
				}
				*after = store.StreamPosition{Rev: e.Revision, Seq: e.Seq}
			}
			switch {
			case errors.As(err, &compacted):
				return "", compacted
			case err == nil && ctx.Err() != nil:
				return "client", nil
			default:
				_ = out.named("error", map[string]any{"message": "etcd ended the stream; reconnect with Last-Event-ID to resume"})
				return "etcd", nil
			}
		case <-heartbeat.C:
			if out.comment("ping") != nil {
				return "client", nil
			}
		case <-s.streams.done:
			return "shutdown", nil
		case <-ctx.Done():
			return "client", nil
		}
	}
}

func (s *Server) streamEnded(reason string, opened bool) {
	if s.requests != nil && (opened || reason == "refused") {
		s.requests.StreamEnded(reason)
	}
}

// sse writes Server-Sent Events, each flushed, each within a deadline.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (o *sse) write(text string) error {
	if err := o.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := o.w.Write([]byte(text)); err != nil {
		return err
	}
	return o.rc.Flush()
}

func (o *sse) comment(text string) error { return o.write(": " + text + "\n\n") }

// event writes a change: its id is the revision, its name the kind.
func (o *sse) event(e store.StreamEvent) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return o.write(fmt.Sprintf("id: %d.%d\nevent: %s\ndata: %s\n\n", e.Revision, e.Seq, e.Kind, b))
}

// named writes an event about the stream itself (reset, overflow, error),
// without an id, so a reconnect still resumes after the last change.
func (o *sse) named(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return o.write(fmt.Sprintf("event: %s\ndata: %s\n\n", name, b))
}
