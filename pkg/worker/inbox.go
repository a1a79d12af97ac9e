package worker

import (
	"slices"
	"strings"
	"sync"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// inbox holds the snapshots assigned to this client that have not started,
// fed by the mirror of the client's assignment prefix.
type inbox struct {
	mu      sync.Mutex
	waiting map[string]*snapshot.Live
	taken   map[string]bool // handed to execute, not finished
	ready   chan struct{}   // signaled when there may be work to start
	// cancel is called for a running snapshot the leader asked to stop.
	cancel func(id string)
}

func newInbox(cancel func(id string)) *inbox {
	return &inbox{waiting: map[string]*snapshot.Live{}, taken: map[string]bool{}, ready: make(chan struct{}, 1), cancel: cancel}
}

func (ib *inbox) signal() {
	select {
	case ib.ready <- struct{}{}:
	default:
	}
}

// update is the mirror's callback.
func (ib *inbox) update(evs []store.SnapshotEvent, _ bool) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	for _, ev := range evs {
		if ev.Snap != nil && ev.Snap.State == snapshot.StateRunning && ev.Snap.CancelRequested && ib.taken[ev.ID] {
			ib.cancel(ev.ID)
		}
		if ev.Snap == nil || ev.Snap.State != snapshot.StateDispatched {
			// Finished, moved away, canceled, or our own claim.
			delete(ib.waiting, ev.ID)
			continue
		}
		if !ib.taken[ev.ID] {
			ib.waiting[ev.ID] = ev.Snap
		}
	}
	ib.signal()
}

// takeOldest hands up to n waiting snapshots to execute, the oldest
// nominal times first.
func (ib *inbox) takeOldest(n int) []*snapshot.Live {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if n <= 0 || len(ib.waiting) == 0 {
		return nil
	}
	all := make([]*snapshot.Live, 0, len(ib.waiting))
	for _, l := range ib.waiting {
		all = append(all, l)
	}
	slices.SortFunc(all, func(a, b *snapshot.Live) int {
		if c := a.ScheduledAt.Compare(b.ScheduledAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	all = all[:min(n, len(all))]
	for _, l := range all {
		delete(ib.waiting, l.ID)
		ib.taken[l.ID] = true
	}
	return all
}

// forget drops a snapshot handed to execute once its result is recorded
// (or it was not claimed): events about it no longer concern this client.
func (ib *inbox) forget(id string) {
	ib.mu.Lock()
	delete(ib.taken, id)
	ib.mu.Unlock()
}
