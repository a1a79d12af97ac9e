package worker

import (
	"container/heap"
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
	// byTime orders the waiting snapshots by nominal time, so that taking
	// the due ones costs what they are, not what waits. An entry whose
	// snapshot is no longer the one waiting under its id is dropped when
	// it comes to the top.
	byTime dueHeap
	taken  map[string]bool // handed to execute, not finished
	// again holds a snapshot written anew (the leader took it back and
	// wrote it again) while the old one was handed to execute: once that
	// one is forgotten, unclaimed, this one waits.
	again map[string]*snapshot.Live
	ready chan struct{} // signaled when there may be work to start
	timer *time.Timer   // signals ready at the earliest future nominal time
	// cancel is called for a running snapshot the leader asked to stop.
	cancel func(id string)
	now    func() time.Time
	// claimAhead is how long before its nominal time a fire written ahead
	// is handed out, to be claimed ahead (0: at its nominal time).
	claimAhead time.Duration
}

func newInbox(cancel func(id string), claimAhead time.Duration) *inbox {
	ib := &inbox{waiting: map[string]*snapshot.Live{}, taken: map[string]bool{}, again: map[string]*snapshot.Live{},
		ready: make(chan struct{}, 1), cancel: cancel, now: time.Now, claimAhead: max(claimAhead, 0)}
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
			ib.wait(ev.Snap)
		}
	}
	ib.signal()
}

// wait puts l among the waiting snapshots.
func (ib *inbox) wait(l *snapshot.Live) {
	ib.waiting[l.ID] = l
	heap.Push(&ib.byTime, l)
}

// takeDue hands up to n waiting snapshots whose nominal time has come to
// execute, the oldest nominal times first, and sets the timer for the
// earliest one still to come. A fire written ahead comes claimAhead
// before its nominal time.
func (ib *inbox) takeDue(n int) []*snapshot.Live {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	now := ib.now()
	var due []*snapshot.Live
	for len(ib.byTime) > 0 {
		l := ib.byTime[0]
		if ib.waiting[l.ID] != l {
			heap.Pop(&ib.byTime) // taken, gone, or replaced since
			continue
		}
		if due := ib.dueAt(l); due.After(now) {
			ib.timer.Reset(due.Sub(now))
			break
		}
		if len(due) >= n {
			break
		}
		heap.Pop(&ib.byTime)
		delete(ib.waiting, l.ID)
		ib.taken[l.ID] = true
		due = append(due, l)
	}
	return due
}

// dueAt is when l is handed out.
func (ib *inbox) dueAt(l *snapshot.Live) time.Time {
	if l.WrittenAhead {
		return l.ScheduledAt.Add(-ib.claimAhead)
	}
	return l.ScheduledAt
}

// dueHeap is a min-heap of snapshots by nominal time, then id.
type dueHeap []*snapshot.Live

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if c := h[i].ScheduledAt.Compare(h[j].ScheduledAt); c != 0 {
		return c < 0
	}
	return strings.Compare(h[i].ID, h[j].ID) < 0
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(*snapshot.Live)) }
func (h *dueHeap) Pop() any {
	old := *h
	l := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return l
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
		ib.wait(l)
		ib.signal()
	}
}
