package worker

import (
	"sync"

	"github.com/pink-scheduler/pink/pkg/snapshot"
	"github.com/pink-scheduler/pink/pkg/store"
)

// inbox holds the snapshots assigned to this client that have not started,
// fed by the mirror of the client's assignment prefix.
type inbox struct {
	mu      sync.Mutex
	waiting map[string]*store.Live
	taken   map[string]bool // handed to execute, not finished
	ready   chan struct{}   // signaled when there may be work to start
	// cancel is called for a running snapshot the leader asked to stop.
	cancel func(id string)
}

func newInbox(cancel func(id string)) *inbox {
	return &inbox{waiting: map[string]*store.Live{}, taken: map[string]bool{}, ready: make(chan struct{}, 1), cancel: cancel}
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

// peek returns the waiting snapshot with the oldest nominal time.
func (ib *inbox) peek() (*store.Live, bool) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	var best *store.Live
	for _, l := range ib.waiting {
		if best == nil || l.ScheduledAt.Before(best.ScheduledAt) || (l.ScheduledAt.Equal(best.ScheduledAt) && l.ID < best.ID) {
			best = l
		}
	}
	return best, best != nil
}

// take marks a snapshot as handed to execute.
func (ib *inbox) take(id string) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	delete(ib.waiting, id)
	ib.taken[id] = true
}

// done forgets a finished snapshot and wakes the loop: a slot is free.
func (ib *inbox) done(id string) {
	ib.mu.Lock()
	delete(ib.taken, id)
	ib.mu.Unlock()
	ib.signal()
}
