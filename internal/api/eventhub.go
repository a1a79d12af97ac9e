package api

import (
	"context"
	"sync"

	"github.com/pink-scheduler/pink/internal/store"
)

// hubRing is how many recent changes the hub keeps, so that a client
// reconnecting soon after it left resumes from the hub too.
const hubRing = 10_000

// eventHub shares one etcd watch among the event streams of a node: etcd
// sends each change once, not once per stream. A stream that resumes from
// further back than the hub's ring reaches reads from a watch of its own
// (Server.stream), so every stream still gets exactly the changes after
// its position.
type eventHub struct {
	st  *store.Store
	ctx context.Context // ends with the server's streams

	mu      sync.Mutex
	running bool
	// ring holds the newest changes, a circular buffer: n of them from
	// index first on. floor is the position just before the oldest, so
	// the ring has every change after floor.
	ring     []store.StreamEvent
	first, n int
	floor    store.StreamPosition
	subs     map[*hubSub]struct{}
}

// hubSub is one stream's subscription: it receives the changes its filter
// keeps on events, and one error (or nil when it unsubscribes) on errc.
type hubSub struct {
	f      streamFilter
	events chan store.StreamEvent
	errc   chan error
}

func newEventHub(st *store.Store, ctx context.Context) *eventHub {
	return &eventHub{st: st, ctx: ctx, subs: map[*hubSub]struct{}{}}
}

// before reports whether position a is before b.
func before(a, b store.StreamPosition) bool {
	return a.Rev < b.Rev || (a.Rev == b.Rev && a.Seq < b.Seq)
}

// subscribe returns a subscription that delivers every change after
// position after, or false if the hub cannot (after is older than what it
// holds): the caller watches etcd itself then.
func (h *eventHub) subscribe(f streamFilter, after store.StreamPosition) (*hubSub, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		return nil, false
	}
	if !h.running {
		// This stream starts the hub from its own position.
		h.running, h.first, h.n, h.floor = true, 0, 0, after
		if h.ring == nil {
			h.ring = make([]store.StreamEvent, hubRing)
		}
		go h.run(after)
	}
	if before(after, h.floor) {
		return nil, false
	}
	sub := &hubSub{f: f, events: make(chan store.StreamEvent, streamBuffer), errc: make(chan error, 1)}
	for i := range h.n {
		e := h.ring[(h.first+i)%len(h.ring)]
		if before(after, store.StreamPosition{Rev: e.Revision, Seq: e.Seq}) && f.keeps(e) {
			if len(sub.events) == cap(sub.events) {
				sub.errc <- errSlowClient
				return sub, true
			}
			sub.events <- e
		}
	}
	h.subs[sub] = struct{}{}
	return sub, true
}

// unsubscribe ends sub; its errc gets nil unless it ended already.
func (h *eventHub) unsubscribe(sub *hubSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.end(sub, nil)
}

// end removes sub and hands it err; h.mu is held. A sub no longer
// registered has had its error already (one fell behind while replaying
// was never registered).
func (h *eventHub) end(sub *hubSub, err error) {
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		sub.errc <- err
	}
}

// run watches etcd after position from until the streams end or etcd
// fails; then every subscriber gets the error and the next subscription
// starts a new watch.
func (h *eventHub) run(from store.StreamPosition) {
	err := h.st.Stream(h.ctx, from, func(e store.StreamEvent) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.n == len(h.ring) {
			old := h.ring[h.first]
			h.floor = store.StreamPosition{Rev: old.Revision, Seq: old.Seq}
			h.first = (h.first + 1) % len(h.ring)
			h.n--
		}
		h.ring[(h.first+h.n)%len(h.ring)] = e
		h.n++
		for sub := range h.subs {
			if !sub.f.keeps(e) {
				continue
			}
			select {
			case sub.events <- e:
			default:
				h.end(sub, errSlowClient)
			}
		}
		return nil
	})
	if err == nil {
		err = store.ErrStreamClosed // the streams' context ended
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running, h.n = false, 0
	for sub := range h.subs {
		h.end(sub, err)
	}
}
