package worker

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pink-scheduler/pink/internal/store"
	"github.com/pink-scheduler/pink/pkg/snapshot"
)

// inbox holds the snapshots assigned to this client that have not started,
// fed by the mirror of the client's assignment prefix. A snapshot written
// ahead of its nominal time waits here until then by this process's clock:
// one timer, set to the earliest such time, signals ready when it comes.
type inbox struct {
	mu      sync.Mutex
	waiting map[string]*snapshot.Live
	taken   map[string]bool // handed to execute, not finished
	// again holds a snapshot written anew (the leader took it back and
	// wrote it again) while the old one was handed to execute: once that
	// one is forgotten, unclaimed, this one waits.
	again map[string]*snapshot.Live
	ready chan struct{} // signaled when there may be work to start
	timer *time.Timer   // signals ready at the earliest future nominal time
	// cancel is called for a running snapshot the leader asked to stop.
	cancel func(id string)
	now    func() time.Time
}

func newInbox(cancel func(id string)) *inbox {
	ib := &inbox{waiting: map[string]*snapshot.Live{}, taken: map[string]bool{}, again: map[string]*snapshot.Live{},
		ready: make(chan struct{}, 1), cancel: cancel, now: time.Now}
	ib.timer = time.AfterFunc(time.Hour, ib.signal)
	ib.timer.Stop()
	return ib
}

func (ib *inbox) signal() {
	select {
	case ib.ready <- struct{}{}:
	default:
	}
}

// stop stops the timer when the session ends.
func (ib *inbox) stop() { ib.timer.Stop() }

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
			delete(ib.again, ev.ID)
			continue
		}
		if ib.taken[ev.ID] {
			ib.again[ev.ID] = ev.Snap
		} else {
			ib.waiting[ev.ID] = ev.Snap
		}
	}
	ib.signal()
}

// takeDue hands up to n waiting snapshots whose nominal time has come to
// execute, the oldest nominal times first, and sets the timer for the
// earliest one still to come.
func (ib *inbox) takeDue(n int) []*snapshot.Live {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if len(ib.waiting) == 0 {
		return nil
	}
	now := ib.now()
	due := make([]*snapshot.Live, 0, len(ib.waiting))
	var soonest time.Time
	for _, l := range ib.waiting {
		if l.ScheduledAt.After(now) {
			if soonest.IsZero() || l.ScheduledAt.Before(soonest) {
				soonest = l.ScheduledAt
			}
			continue
		}
		due = append(due, l)
	}
	if !soonest.IsZero() {
		ib.timer.Reset(soonest.Sub(now))
	}
	if n <= 0 || len(due) == 0 {
		return nil
	}
	slices.SortFunc(due, func(a, b *snapshot.Live) int {
		if c := a.ScheduledAt.Compare(b.ScheduledAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	due = due[:min(n, len(due))]
	for _, l := range due {
		delete(ib.waiting, l.ID)
		ib.taken[l.ID] = true
	}
	return due
}

// forget drops a snapshot handed to execute once its result is recorded
// (or it was not claimed): events about it no longer concern this client,
// unless it was written anew meanwhile.
func (ib *inbox) forget(id string) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	delete(ib.taken, id)
	if l := ib.again[id]; l != nil {
		delete(ib.again, id)
		ib.waiting[id] = l
		ib.signal()
	}
}
